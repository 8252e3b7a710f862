//! Streams of day2 records (what the xtask, the tests and users' scripts read back
//! from a tool: `day2_core::record::read_records`). Promises: a line that is not a
//! record is an error naming its line, never a panic; a stream read is written back
//! by the tools' own sink and read again unchanged but for what the sink masks (URL
//! credentials, secret-named data), and masking is idempotent.
#![no_main]

use day2_core::record::{mask_record, read_records, Record, RecordSink};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let records: Vec<Record> = match read_records(&mut &data[..]) {
        Ok(records) => records,
        Err(err) => {
            let lines = 1 + data.iter().filter(|&&b| b == b'\n').count();
            assert!((1..=lines).contains(&err.line), "{err} of {lines} lines");
            return;
        }
    };
    let mut out = Vec::new();
    {
        let mut sink = RecordSink::new("fuzz", &mut out);
        for record in &records {
            sink.emit(record.clone()).expect("a Vec never closes");
        }
    }
    let again = read_records(&mut &out[..]).expect("records written read back");
    // The sink masks URL credentials and secret-named data, and stamps its own name on
    // a record that names no tool: nothing else changes, and masking twice is once.
    let expected: Vec<Record> = records
        .into_iter()
        .map(|mut r| {
            mask_record(&mut r);
            if r.tool.is_empty() {
                r.tool = "fuzz".into();
            }
            r
        })
        .collect();
    assert_eq!(again, expected);
    for record in &again {
        let mut twice = record.clone();
        mask_record(&mut twice);
        assert_eq!(&twice, record, "masking a masked record changed it");
    }
});
