//! The work of the tool: reading files with a large reused buffer and hashing them,
//! one file per worker thread, with results handed back in input order.
//!
//! Memory stays flat with file size: each worker owns one buffer of [`BUF_SIZE`], and
//! a large file gets one extra reader thread with a few more buffers so that reading
//! the next chunk overlaps hashing the current one (see [`hash_reader`]).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read};
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;

use crate::sri::{Algo, AlgoSet, Digests};

/// Read size. Large enough that syscalls cost nothing next to hashing, small enough
/// that the copy out of the page cache and the hashing stay within L2 (measured
/// here on 1 GiB: 64 KiB reads cost a third of the system time of 256 KiB ones).
pub const BUF_SIZE: usize = 64 * 1024;

/// Files at least this large are read by a helper thread while the worker hashes.
const PIPELINE_MIN: u64 = 16 * 1024 * 1024;

/// Buffers in flight between the reader thread and the hasher of one large file:
/// 1 MiB of read-ahead, so the hasher rarely waits on a briefly descheduled reader.
const PIPELINE_DEPTH: usize = 16;

/// Several SHA-2 states fed from the same bytes, so a file is read once whatever
/// set of algorithms the checks need.
///
/// The states are libcrypto's (OpenSSL), the same assembly `openssl dgst` runs: on
/// this project's machines (AMD EPYC, AVX2) the pure-Rust `sha2` 0.11 hashed SHA-384
/// at about 70 % of it, short of the 85 % the tool is held to (see the README).
struct Hashers {
    sha256: Option<openssl::sha::Sha256>,
    sha384: Option<openssl::sha::Sha384>,
    sha512: Option<openssl::sha::Sha512>,
}

impl Hashers {
    fn new(algos: AlgoSet) -> Hashers {
        Hashers {
            sha256: algos.contains(Algo::Sha256).then(openssl::sha::Sha256::new),
            sha384: algos.contains(Algo::Sha384).then(openssl::sha::Sha384::new),
            sha512: algos.contains(Algo::Sha512).then(openssl::sha::Sha512::new),
        }
    }

    fn update(&mut self, bytes: &[u8]) {
        if let Some(h) = &mut self.sha256 {
            h.update(bytes);
        }
        if let Some(h) = &mut self.sha384 {
            h.update(bytes);
        }
        if let Some(h) = &mut self.sha512 {
            h.update(bytes);
        }
    }

    fn finish(self) -> Digests {
        Digests {
            sha256: self.sha256.map(|h| h.finish().to_vec()),
            sha384: self.sha384.map(|h| h.finish().to_vec()),
            sha512: self.sha512.map(|h| h.finish().to_vec()),
        }
    }
}

/// Hashes an open file; `size` is its length from its metadata (only a hint for
/// choosing the strategy). Returns the digests and the number of bytes read.
pub fn hash_file(
    file: File,
    size: u64,
    algos: AlgoSet,
    buf: &mut [u8],
) -> io::Result<(Digests, u64)> {
    if size >= PIPELINE_MIN {
        hash_reader_pipelined(file, algos, buf.len())
    } else {
        hash_reader(file, algos, buf)
    }
}

/// The plain read loop: read a buffer, hash it, repeat.
pub fn hash_reader(
    mut reader: impl Read,
    algos: AlgoSet,
    buf: &mut [u8],
) -> io::Result<(Digests, u64)> {
    let mut hashers = Hashers::new(algos);
    let mut total = 0u64;
    loop {
        let n = match reader.read(buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hashers.update(&buf[..n]);
        total += n as u64;
    }
    Ok((hashers.finish(), total))
}

/// A read loop on a helper thread feeding full buffers to the hashing thread, so the
/// copy out of the page cache runs on the other core instead of between hash blocks.
/// Buffers circulate between the two threads; at most [`PIPELINE_DEPTH`] exist.
fn hash_reader_pipelined(
    mut file: File,
    algos: AlgoSet,
    buf_size: usize,
) -> io::Result<(Digests, u64)> {
    let (full_tx, full_rx) = mpsc::sync_channel::<(Vec<u8>, usize)>(PIPELINE_DEPTH);
    let (empty_tx, empty_rx) = mpsc::channel::<Vec<u8>>();
    for _ in 0..PIPELINE_DEPTH {
        // The receiver is alive here, so these sends cannot fail.
        let _ = empty_tx.send(vec![0u8; buf_size]);
    }
    std::thread::scope(|scope| {
        let reader = scope.spawn(move || -> io::Result<()> {
            // Ends when the hasher hangs up (its receiver is dropped) or at EOF.
            while let Ok(mut buf) = empty_rx.recv() {
                let n = loop {
                    match file.read(&mut buf) {
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        other => break other?,
                    }
                };
                if n == 0 || full_tx.send((buf, n)).is_err() {
                    return Ok(());
                }
            }
            Ok(())
        });
        let mut hashers = Hashers::new(algos);
        let mut total = 0u64;
        for (buf, n) in full_rx.iter() {
            hashers.update(&buf[..n]);
            total += n as u64;
            // The reader may already have finished; the queue is drained regardless.
            let _ = empty_tx.send(buf);
        }
        drop(empty_tx);
        match reader.join() {
            Ok(result) => result.map(|()| (hashers.finish(), total)),
            Err(_) => Err(io::Error::other("reader thread panicked")),
        }
    })
}

/// How many worker threads to use: the `--jobs` value, else one per core.
pub fn worker_count(requested: Option<usize>) -> usize {
    requested
        .filter(|&n| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Runs `work` on every job on `threads` worker threads (each with its own read
/// buffer) and hands each result to `each` in job order, as soon as it and all
/// earlier ones are done. `each` returning `Break` stops the workers early (the
/// reader of our output went away).
pub fn run_ordered<J, R, W, E>(jobs: &[J], threads: usize, work: W, mut each: E)
where
    J: Sync,
    R: Send,
    W: Fn(&J, &mut [u8]) -> R + Sync,
    E: FnMut(usize, R) -> ControlFlow<()>,
{
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let threads = threads.clamp(1, jobs.len().max(1));
    std::thread::scope(|scope| {
        let (tx, rx) = mpsc::channel::<(usize, R)>();
        for _ in 0..threads {
            let tx = tx.clone();
            let (next, stop, work) = (&next, &stop, &work);
            scope.spawn(move || {
                let mut buf = vec![0u8; BUF_SIZE];
                while !stop.load(Ordering::Relaxed) {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(job) = jobs.get(index) else { break };
                    if tx.send((index, work(job, &mut buf))).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        // Results arrive in completion order; hold the early ones until their turn.
        let mut pending = BTreeMap::new();
        let mut turn = 0;
        for (index, result) in rx.iter() {
            pending.insert(index, result);
            while let Some(result) = pending.remove(&turn) {
                turn += 1;
                if each(turn - 1, result).is_break() {
                    stop.store(true, Ordering::Relaxed);
                    return;
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipelined_and_plain_reads_agree() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let data: Vec<u8> = (0..(3 * BUF_SIZE + 123)).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &data).unwrap();
        let mut algos = AlgoSet::of(Algo::Sha384);
        algos.insert(Algo::Sha256);
        let mut buf = vec![0u8; BUF_SIZE];
        let plain = hash_reader(File::open(&path).unwrap(), algos, &mut buf).unwrap();
        let piped = hash_reader_pipelined(File::open(&path).unwrap(), algos, 1000).unwrap();
        assert_eq!(plain, piped);
        assert_eq!(plain.1, data.len() as u64);
        // Checked against an independent implementation.
        use sha2::Digest;
        assert_eq!(
            plain.0.sha384.as_deref(),
            Some(sha2::Sha384::digest(&data).as_slice())
        );
        assert_eq!(
            plain.0.sha256.as_deref(),
            Some(sha2::Sha256::digest(&data).as_slice())
        );
        assert!(plain.0.sha512.is_none());
    }

    #[test]
    fn results_come_back_in_job_order_and_break_stops() {
        let jobs: Vec<u64> = (0..200).collect();
        let mut seen = Vec::new();
        run_ordered(
            &jobs,
            4,
            |j, _buf| j * 2,
            |i, r| {
                seen.push((i, r));
                ControlFlow::Continue(())
            },
        );
        assert_eq!(
            seen,
            jobs.iter()
                .map(|&j| (j as usize, j * 2))
                .collect::<Vec<_>>()
        );
        let mut count = 0;
        run_ordered(
            &jobs,
            2,
            |j, _buf| *j,
            |_, _| {
                count += 1;
                if count == 3 {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            },
        );
        assert_eq!(count, 3);
    }
}
