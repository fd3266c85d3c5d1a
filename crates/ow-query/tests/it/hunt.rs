//! Queries a threat hunter runs over all of `../shared/data/cloudtrail`, checked against an
//! independent `serde_json` scan (see `seed.rs` for the method).

use std::collections::{BTreeMap, BTreeSet};

use crate::common::{self, plain_rows};
use crate::seed::{cloudtrail_store, path};

fn ts_text(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap()
        .format("%Y-%m-%d %H:%M:%S%.3f")
        .to_string()
}

fn as_set(rows: Vec<Vec<(String, String)>>) -> BTreeSet<Vec<(String, String)>> {
    rows.into_iter().collect()
}

fn num(row: &[(String, String)], k: &str) -> i64 {
    row.iter()
        .find(|(f, _)| f == k)
        .map(|(_, v)| v.parse().expect("number"))
        .expect("column")
}

#[test]
fn threat_hunting_queries() {
    let (ts, events) = cloudtrail_store();
    let engine = ts.engine(None);
    let run =
        |q: &str| common::run(&engine, &["cloudtrail"], q).unwrap_or_else(|e| panic!("{q}\n{e:?}"));

    // 1. Who stopped CloudTrail logging?
    let out = run("filter eventName = 'StopLogging' | fields @timestamp, userIdentity.arn, sourceIPAddress, requestParameters.name");
    let mut want: Vec<(i64, Vec<(String, String)>)> = events
        .iter()
        .filter(|(_, _, v)| path(v, "eventName").as_deref() == Some("StopLogging"))
        .map(|(t, _, v)| {
            let mut r = vec![("@timestamp".to_string(), ts_text(*t))];
            for p in [
                "userIdentity.arn",
                "sourceIPAddress",
                "requestParameters.name",
            ] {
                if let Some(x) = path(v, p) {
                    r.push((p.to_string(), x));
                }
            }
            (*t, r)
        })
        .collect();
    want.sort_by_key(|w| std::cmp::Reverse(w.0));
    assert!(!want.is_empty(), "the data has StopLogging events");
    let got = plain_rows(&out);
    assert_eq!(
        as_set(got.clone()),
        as_set(want.iter().map(|(_, r)| r.clone()).collect())
    );
    assert_eq!(got.len(), want.len());

    // 2. AccessDenied by principal.
    let out = run("filter errorCode like /AccessDenied|UnauthorizedOperation/ | stats count(*) as denied by userIdentity.arn | sort denied desc");
    let mut counts: BTreeMap<Option<String>, i64> = BTreeMap::new();
    for (_, _, v) in &events {
        let code = path(v, "errorCode").unwrap_or_default();
        if code.contains("AccessDenied") || code.contains("UnauthorizedOperation") {
            *counts.entry(path(v, "userIdentity.arn")).or_insert(0) += 1;
        }
    }
    assert!(counts.len() > 3, "several denied principals: {counts:?}");
    let want: BTreeSet<Vec<(String, String)>> = counts
        .iter()
        .map(|(arn, n)| {
            let mut r = Vec::new();
            if let Some(a) = arn {
                r.push(("userIdentity.arn".to_string(), a.clone()));
            }
            r.push(("denied".to_string(), n.to_string()));
            r
        })
        .collect();
    let got = plain_rows(&out);
    assert!(
        out.rows.iter().all(|r| r.iter().all(|f| f.field != "@ptr")),
        "no @ptr on aggregates"
    );
    assert_eq!(as_set(got.clone()), want);
    let denied: Vec<i64> = got.iter().map(|r| num(r, "denied")).collect();
    assert!(
        denied.windows(2).all(|w| w[0] >= w[1]),
        "sorted by denied desc: {denied:?}"
    );

    // 3. Distinct source IPs per user.
    let out = run("filter ispresent(userIdentity.arn) | stats count_distinct(sourceIPAddress) as ips by userIdentity.arn | sort ips desc");
    let mut ips: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (_, _, v) in &events {
        if let Some(arn) = path(v, "userIdentity.arn") {
            let e = ips.entry(arn).or_default();
            if let Some(ip) = path(v, "sourceIPAddress") {
                e.insert(ip);
            }
        }
    }
    let want: BTreeSet<Vec<(String, String)>> = ips
        .iter()
        .map(|(arn, s)| {
            vec![
                ("userIdentity.arn".to_string(), arn.clone()),
                ("ips".to_string(), s.len().to_string()),
            ]
        })
        .collect();
    assert_eq!(as_set(plain_rows(&out)), want);

    // 4. Top eventNames per 5-minute bin.
    let out = run("stats count(*) as n by bin(5m) as t, eventName | sort n desc | limit 20");
    let mut per: BTreeMap<(i64, Option<String>), i64> = BTreeMap::new();
    for (t, _, v) in &events {
        *per.entry((t.div_euclid(300_000) * 300_000, path(v, "eventName")))
            .or_insert(0) += 1;
    }
    let got = plain_rows(&out);
    assert_eq!(got.len(), 20);
    let mut all_counts: Vec<i64> = per.values().copied().collect();
    all_counts.sort_unstable_by(|a, b| b.cmp(a));
    let got_counts: Vec<i64> = got.iter().map(|r| num(r, "n")).collect();
    assert_eq!(
        got_counts,
        all_counts[..20].to_vec(),
        "the 20 largest counts, in order"
    );
    for r in &got {
        let t = r
            .iter()
            .find(|(k, _)| k == "t")
            .map(|(_, v)| v.clone())
            .expect("bin column");
        let name = r
            .iter()
            .find(|(k, _)| k == "eventName")
            .map(|(_, v)| v.clone());
        let key = per
            .iter()
            .find(|((b, n), _)| ts_text(*b) == t && *n == name)
            .map(|(_, c)| *c)
            .expect("group exists");
        assert_eq!(key, num(r, "n"));
    }
}
