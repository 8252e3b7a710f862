//! The published record schema (`schema/record.schema.json`) holds for real output:
//! the records of a whole `xtask demo` run, which runs every tool against the demo
//! stack, are validated line by line.

use day2_tests::process::Bin;

use day2_tests::bins::bin;
use serde_json::Value;

fn validator() -> jsonschema::Validator {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../schema/record.schema.json");
    let text = std::fs::read_to_string(path).expect("schema file");
    let schema: Value = serde_json::from_str(&text).expect("schema is JSON");
    jsonschema::validator_for(&schema).expect("schema is a valid JSON Schema")
}

#[test]
fn every_record_of_a_demo_run_matches_the_published_schema() {
    let out = Bin::new(bin("xtask"))
        .arg("demo")
        .deadline(std::time::Duration::from_secs(600))
        .output();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "xtask demo failed:\n{stderr}");
    let validator = validator();
    let stdout = String::from_utf8(out.stdout).expect("records are UTF-8");
    let mut tools = std::collections::BTreeSet::new();
    for (index, line) in stdout.lines().enumerate() {
        let record: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("line {} is not JSON ({e}): {line}", index + 1));
        let errors: Vec<String> = validator
            .iter_errors(&record)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "line {}: {line}\n{errors:#?}", index + 1);
        tools.insert(record["tool"].as_str().unwrap_or_default().to_owned());
    }
    assert!(
        tools.contains("xtask"),
        "the demo writes its own records: {tools:?}"
    );
}

#[test]
fn the_schema_rejects_what_the_envelope_forbids() {
    let validator = validator();
    let good = serde_json::json!({"v":1,"tool":"sri-check","check":"entry","target":"a.js",
        "verdict":"fail","reason":"drift","ts":"2026-11-28T01:00:00.000Z","data":{}});
    assert!(validator.is_valid(&good));
    let mut no_reason = good.clone();
    no_reason.as_object_mut().unwrap().remove("reason");
    assert!(!validator.is_valid(&no_reason), "a fail without a reason");
    let mut stray = good.clone();
    stray["extra"] = Value::Bool(true);
    assert!(!validator.is_valid(&stray), "an unknown envelope field");
    let mut verdict = good;
    verdict["verdict"] = Value::String("ok".into());
    assert!(!validator.is_valid(&verdict), "an unknown verdict");
}
