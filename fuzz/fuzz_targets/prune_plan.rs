//! prune-review plans (JSON-lines files a person reviewed and edited: untrusted),
//! read by `plan::read` before `apply` deletes anything. Promises: a line that is not
//! a plan record is a one-line error naming file and line, never a panic; a plan
//! read is exactly what its items write back (what apply deletes is what the plan
//! says), and an item is listed once.
#![no_main]

use libfuzzer_sys::fuzz_target;
use prune_review::plan;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let items = match plan::read(&text, "plan.jsonl") {
        Ok(items) => items,
        Err(problem) => {
            assert_eq!(problem.reason(), "invalid_plan", "{problem}");
            assert!(problem.message.starts_with("plan.jsonl:"), "{problem}");
            return;
        }
    };
    let mut written = Vec::new();
    for item in &items {
        let mut record = item.record(serde_json::json!({}));
        record.tool = prune_review::TOOL.into();
        written.push(serde_json::to_string(&record).expect("a record serializes"));
    }
    let again = plan::read(&written.join("\n"), "again.jsonl").expect("a plan written reads");
    assert_eq!(again, items);
});
