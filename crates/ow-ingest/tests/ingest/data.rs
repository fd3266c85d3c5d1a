//! Importing every real CloudTrail file (and delivery tree) gives the manifest's counts.

use std::collections::BTreeSet;
use std::io::Read;

use ow_ingest::{import_paths, Format, ImportOptions, NoProgress};
use ow_storage::{Store, StoreConfig};

fn iso_ms(s: &str) -> i64 {
    ow_ingest::time::parse_iso8601_ms(s).unwrap()
}

#[test]
fn every_cloudtrail_file_imports_with_the_manifest_counts() {
    let m = crate::manifest();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), StoreConfig::default()).unwrap();
    let files = m["cloudtrail"].as_object().unwrap();
    assert_eq!(
        files.len() as u64,
        m["totals"]["cloudtrail_files"].as_u64().unwrap()
    );
    let mut real = 0;
    for (i, (rel, info)) in files.iter().enumerate() {
        let group = format!("ct-{i}");
        let s = import_paths(
            &store,
            &[crate::data_dir().join(rel)],
            &ImportOptions::new(&group),
            &NoProgress,
        )
        .unwrap();
        let want = info["events"].as_u64().unwrap();
        assert_eq!(s.events, want, "{rel}");
        assert_eq!(s.rejected, 0, "{rel}: {:?}", s.rejections);
        let g = store.log_group(&group).unwrap();
        assert_eq!(g.event_count, want, "{rel}");
        // @timestamp = eventTime (or @timestamp for OTRF), so the span is the manifest's
        // whenever every event has a time
        if info["events_without_eventTime"].as_u64() == Some(0) || rel.contains("otrf") {
            assert_eq!(
                g.first_event_timestamp_ms,
                Some(iso_ms(info["eventTime_min"].as_str().unwrap())),
                "{rel}"
            );
            assert_eq!(
                g.last_event_timestamp_ms,
                Some(iso_ms(info["eventTime_max"].as_str().unwrap())),
                "{rel}"
            );
            assert_eq!(s.ingestion_time_fallbacks, 0, "{rel}");
        }
        if !rel.contains("fixtures") {
            real += want;
        }
    }
    assert_eq!(
        real,
        m["totals"]["cloudtrail_events_real"].as_u64().unwrap()
    );
    assert_eq!(real, 3315);
    // CloudTrail naming of log streams: <account>_CloudTrail_<region>
    let streams = store
        .list_log_streams("ct-2", &Default::default(), Default::default(), false)
        .unwrap();
    assert_eq!(
        streams
            .items
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>(),
        ["123837392027_CloudTrail_us-east-1"]
    );
}

#[test]
fn delivery_trees_import_with_the_manifest_counts_and_the_ndjson_text() {
    let m = crate::manifest();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), StoreConfig::default()).unwrap();
    for (rel, info) in m["delivery"].as_object().unwrap() {
        let group = rel.rsplit('/').next().unwrap().to_owned();
        let s = import_paths(
            &store,
            &[crate::data_dir().join(rel)],
            &ImportOptions {
                format: Format::CloudTrail,
                ..ImportOptions::new(&group)
            },
            &NoProgress,
        )
        .unwrap();
        assert_eq!(s.inputs, info["files"].as_u64().unwrap(), "{rel}");
        assert_eq!(s.events, info["records"].as_u64().unwrap(), "{rel}");
        assert_eq!(s.rejected, 0, "{rel}");
        // one source's delivery files hold each record once
        assert_eq!(s.repeated_event_ids, 0, "{rel}");
        let g = store.log_group(&group).unwrap();
        assert_eq!(
            g.first_event_timestamp_ms,
            Some(iso_ms(info["eventTime_min"].as_str().unwrap()))
        );
        assert_eq!(
            g.last_event_timestamp_ms,
            Some(iso_ms(info["eventTime_max"].as_str().unwrap()))
        );
    }
    // invictus: 55 files, 2,900 records; the record's account wins over the file name's
    let s = store
        .list_log_streams(
            "invictus-aws_dataset",
            &Default::default(),
            Default::default(),
            false,
        )
        .unwrap();
    assert_eq!(s.items.len(), 1);
    assert_eq!(s.items[0].name, "123837392027_CloudTrail_us-east-1");
    assert_eq!(s.items[0].event_count, 2900);
    // trailscraper's records carry their own account and region
    let t = store
        .list_log_streams(
            "trailscraper",
            &Default::default(),
            Default::default(),
            false,
        )
        .unwrap();
    assert!(
        t.items[0].name.ends_with("_CloudTrail_eu-central-1"),
        "{:?}",
        t.items
    );

    // the messages are the records exactly as published, whitespace removed: the same
    // text as the NDJSON made from the same delivery files
    let mut ndjson = String::new();
    flate2::read::GzDecoder::new(
        std::fs::File::open(crate::data_dir().join("cloudtrail/invictus-aws_dataset.ndjson.gz"))
            .unwrap(),
    )
    .read_to_string(&mut ndjson)
    .unwrap();
    let want: BTreeSet<&str> = ndjson.lines().collect();
    let got: Vec<String> = store
        .read_events("invictus-aws_dataset", None, i64::MIN, i64::MAX, None)
        .unwrap()
        .into_iter()
        .map(|e| e.message)
        .collect();
    let got_set: BTreeSet<&str> = got.iter().map(String::as_str).collect();
    assert_eq!(got.len(), 2900);
    assert_eq!(got_set, want);
}

#[test]
fn the_whole_cloudtrail_folder_in_one_import() {
    let m = crate::manifest();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), StoreConfig::default()).unwrap();
    // every event file: the top-level NDJSON files and the two folders (FIELDS.md, a
    // generated field list, is not an event file)
    let ct = crate::data_dir().join("cloudtrail");
    let mut paths: Vec<_> = std::fs::read_dir(&ct)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".ndjson.gz"))
        .collect();
    paths.push(ct.join("fixtures"));
    paths.push(ct.join("delivery"));
    let s = import_paths(&store, &paths, &ImportOptions::new("all"), &NoProgress).unwrap();
    let delivery: u64 = m["delivery"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v["records"].as_u64().unwrap())
        .sum();
    let want = m["totals"]["cloudtrail_events_all"].as_u64().unwrap() + delivery;
    assert_eq!(s.rejected, 0, "{:?}", s.rejections);
    assert_eq!(s.events, want);
    assert_eq!(store.log_group("all").unwrap().event_count, want);
    // the delivery files repeat the NDJSON's records (and some fixtures share an eventID):
    // the summary counts the records whose eventID came before, here computed from every
    // record's eventID (records with one, less the distinct ones; order does not matter)
    let mut ids: Vec<String> = Vec::new();
    let mut files = Vec::new();
    for p in &paths {
        if p.is_dir() {
            for e in walkdir(p) {
                files.push(e);
            }
        } else {
            files.push(p.clone());
        }
    }
    for f in &files {
        let mut text = String::new();
        flate2::read::GzDecoder::new(std::fs::File::open(f).unwrap())
            .read_to_string(&mut text)
            .unwrap();
        let records: Vec<serde_json::Value> = if f.to_string_lossy().ends_with(".json.gz") {
            let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
            doc["Records"].as_array().unwrap().clone()
        } else {
            text.lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| serde_json::from_str(l).unwrap())
                .collect()
        };
        ids.extend(
            records
                .iter()
                .filter_map(|r| r["eventID"].as_str().map(str::to_owned)),
        );
    }
    let distinct: BTreeSet<&String> = ids.iter().collect();
    assert!(distinct.len() < ids.len());
    assert_eq!(s.repeated_event_ids, (ids.len() - distinct.len()) as u64);
    assert!(s.repeated_event_id_first.is_some());
}

/// Every file under `dir`, recursively.
fn walkdir(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walkdir(&p));
        } else {
            out.push(p);
        }
    }
    out
}
