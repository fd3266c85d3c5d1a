//! Every query of the syntax corpus (`ow-query-syntax/test_data/{ok,err}/*.q`) runs through
//! the engine over a small mixed store: none may panic, and none may fail with an internal
//! error (a bug); compile errors, unsupported commands, unknown log groups and lookup
//! tables are fine.

use ow_query::QueryError;

use crate::common::{run, TestStore};

fn queries(kind: &str) -> Vec<(String, String)> {
    let dir = std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../ow-query-syntax/test_data"
    ))
    .join(kind);
    let mut v: Vec<(String, String)> = std::fs::read_dir(&dir)
        .expect("syntax corpus")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "q"))
        .map(|p| {
            (
                p.display().to_string(),
                std::fs::read_to_string(&p).expect("read"),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn corpus_queries_never_fail_internally() {
    let ts = TestStore::new();
    ts.import(
        "g",
        "s",
        vec![
            (1_700_000_000_000, r#"{"eventName":"A","status":500,"latency":"12","items":[{"sku":"x"}],"srcAddr":"10.0.0.1","requestId":"r1"}"#.to_string()),
            (1_700_000_060_000, "[ERROR] disk full user=alice".to_string()),
            (1_700_000_120_000, "REPORT RequestId: 1 Duration: 2.5 ms Billed Duration: 3 ms Memory Size: 128 MB Max Memory Used: 64 MB".to_string()),
            (1_700_000_180_000, r#"{"eventName":"B","errorCode":"AccessDenied","userIdentity":{"arn":"arn:x","type":"Root"}}"#.to_string()),
        ],
    );
    let engine = ts.engine(None);
    let mut internal = Vec::new();
    let mut ran = 0;
    for kind in ["ok", "err"] {
        for (path, q) in queries(kind) {
            ran += 1;
            match run(&engine, &["g"], &q) {
                Ok(_) => {}
                Err(QueryError::Internal(m)) | Err(QueryError::Storage(m)) => {
                    internal.push(format!("{path}: {m}\n{q}"))
                }
                Err(_) => {}
            }
        }
    }
    assert!(ran > 100, "the corpus has queries: {ran}");
    assert!(
        internal.is_empty(),
        "{} internal errors:\n\n{}",
        internal.len(),
        internal.join("\n\n")
    );
}
