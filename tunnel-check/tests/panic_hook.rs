//! `contain_panics` (every in-process run of tunnel-check goes through it) gives the
//! process its panic hook back unchanged. Found by fuzzing (`fuzz/`, target
//! `cloudflared_log`): each run wrapped the previous hook in a new one, so a process
//! running the tool in-process (the xtask, the fuzzer) grew a chain of hooks one
//! longer per run, and a panic after N runs walked N nested calls.
//!
//! Its own test binary: the panic hook is global to the process, and the other tests
//! run the tool on parallel threads.

use day2_core::cli::run_captured;
use tunnel_check::redact::contain_panics;

/// The address of the installed hook's closure (a closure that captures, so its box
/// is a real allocation with a unique address).
fn hook_address() -> usize {
    let hook = std::panic::take_hook();
    let address = &*hook as *const _ as *const () as usize;
    std::panic::set_hook(hook);
    address
}

#[test]
fn the_hook_found_is_the_hook_left_after_any_number_of_runs() {
    let marker = [1u8; 16];
    std::panic::set_hook(Box::new(move |_| {
        let _ = marker.len();
    }));
    let before = hook_address();
    for _ in 0..1000 {
        assert_eq!(contain_panics(|| 7), Ok(7));
    }
    assert!(contain_panics(|| -> u8 { panic!("inside") })
        .unwrap_err()
        .contains("inside"));
    let (exit, _, _) = run_captured(tunnel_check::run, &["tunnel-check", "connector"], b"");
    assert_eq!(exit.code(), 1, "no cloudflared lines: a failed check");
    assert_eq!(hook_address(), before, "the hook was replaced by a wrapper");
    let _ = std::panic::take_hook();
}
