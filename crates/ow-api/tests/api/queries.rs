//! The query lifecycle (with a scripted engine) and query definitions.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use crate::common::{Harness, ScriptedEngine};

async fn status(h: &Harness, id: &str) -> Value {
    h.ok("GetQueryResults", json!({"queryId": id})).await
}

async fn wait_for(h: &Harness, id: &str, want: &str) -> Value {
    for _ in 0..500 {
        let r = status(h, id).await;
        if r["status"] == want {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("query {id} never reached {want}: {}", status(h, id).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_query_runs_to_complete_with_seconds_converted() {
    let h = Harness::new();
    h.ok("CreateLogGroup", json!({"logGroupName": "g"})).await;
    let id = h
        .ok(
            "StartQuery",
            json!({"logGroupName": "g", "startTime": 100, "endTime": 200, "queryString": "fields @message"}),
        )
        .await["queryId"]
        .as_str()
        .unwrap()
        .to_string();
    let r = wait_for(&h, &id, "Complete").await;
    assert_eq!(
        r["results"],
        json!([[{"field": "query", "value": "fields @message"},
                {"field": "groups", "value": "g"},
                {"field": "start", "value": "100000"},
                {"field": "end", "value": "200999"}]])
    );
    assert_eq!(r["statistics"]["recordsScanned"], 2.0);
    assert_eq!(r["statistics"]["logGroupsScanned"], 1.0);
    let d = h.ok("DescribeQueries", json!({})).await;
    assert_eq!(d["queries"][0]["queryId"], id.as_str());
    assert_eq!(d["queries"][0]["status"], "Complete");
    assert_eq!(d["queries"][0]["logGroupName"], "g");
    assert_eq!(d["queries"][0]["queryString"], "fields @message");
    let (kind, _, _) = h.err("StopQuery", json!({"queryId": id})).await;
    assert_eq!(kind, "InvalidParameterException");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_query_validation() {
    let h = Harness::new();
    h.ok("CreateLogGroup", json!({"logGroupName": "g"})).await;
    let base = json!({"startTime": 1, "endTime": 2, "queryString": "fields @message"});
    let with = |extra: Value| {
        let mut b = base.clone();
        for (k, v) in extra.as_object().unwrap() {
            b[k] = v.clone();
        }
        b
    };
    let (kind, _, _) = h.err("StartQuery", base.clone()).await;
    assert_eq!(kind, "InvalidParameterException");
    let (kind, _, _) = h
        .err(
            "StartQuery",
            with(json!({"logGroupName": "g", "logGroupNames": ["g"]})),
        )
        .await;
    assert_eq!(kind, "InvalidParameterException");
    let (kind, _, _) = h
        .err("StartQuery", with(json!({"logGroupName": "nope"})))
        .await;
    assert_eq!(kind, "ResourceNotFoundException");
    let (kind, _, _) = h
        .err(
            "StartQuery",
            with(json!({"logGroupName": "g", "startTime": 5})),
        )
        .await;
    assert_eq!(kind, "InvalidParameterException");
    let (kind, _, _) = h
        .err(
            "StartQuery",
            with(json!({"logGroupName": "g", "queryLanguage": "SQL"})),
        )
        .await;
    assert_eq!(kind, "InvalidParameterException");
    let (status, body, _) = h
        .send(Harness::request(
            "StartQuery",
            &with(json!({"logGroupName": "g", "queryString": "fields a |||"})).to_string(),
        ))
        .await;
    assert_eq!(status, axum::http::StatusCode::BAD_REQUEST);
    assert_eq!(body["__type"], "MalformedQueryException");
    assert_eq!(
        body["queryCompileError"]["location"],
        json!({"startCharOffset": 9, "endCharOffset": 10})
    );
    // ARNs as identifiers.
    let ok = h
        .ok(
            "StartQuery",
            with(json!({"logGroupIdentifiers": ["arn:aws:logs:us-east-1:123456789012:log-group:g:*"]})),
        )
        .await;
    assert!(ok["queryId"].is_string());
    let (kind, _, _) = h.err("GetQueryResults", json!({"queryId": "nope"})).await;
    assert_eq!(kind, "ResourceNotFoundException");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrency_limit_stop_and_failed() {
    let config = ow_api::ApiConfig {
        max_concurrent_queries: 2,
        ..Default::default()
    };
    let h = Harness::with(config, Arc::new(ScriptedEngine));
    h.ok("CreateLogGroup", json!({"logGroupName": "g"})).await;
    let start =
        |q: &str| json!({"logGroupName": "g", "startTime": 1, "endTime": 2, "queryString": q});
    let a = h.ok("StartQuery", start("wait")).await["queryId"]
        .as_str()
        .unwrap()
        .to_string();
    let b = h.ok("StartQuery", start("wait")).await["queryId"]
        .as_str()
        .unwrap()
        .to_string();
    wait_for(&h, &a, "Running").await;
    wait_for(&h, &b, "Running").await;
    let (kind, msg, _) = h.err("StartQuery", start("wait")).await;
    assert_eq!(kind, "LimitExceededException");
    assert!(msg.contains("[2]"), "{msg}");
    // Statistics while running come from the engine's progress reports.
    let partial = status(&h, &a).await;
    assert_eq!(partial["statistics"]["recordsScanned"], 7.0);
    assert_eq!(partial["statistics"]["bytesScanned"], 70.0);
    assert_eq!(partial["results"], json!([]));
    let running = h.ok("DescribeQueries", json!({"status": "Running"})).await;
    assert_eq!(running["queries"].as_array().unwrap().len(), 2);

    assert_eq!(
        h.ok("StopQuery", json!({"queryId": a})).await,
        json!({"success": true})
    );
    assert_eq!(status(&h, &a).await["status"], "Cancelled");
    // A slot is free again.
    let c = h.ok("StartQuery", start("fail")).await["queryId"]
        .as_str()
        .unwrap()
        .to_string();
    wait_for(&h, &c, "Failed").await;
    h.ok("StopQuery", json!({"queryId": b})).await;
    let (kind, _, _) = h.err("StopQuery", json!({"queryId": b})).await;
    assert_eq!(kind, "InvalidParameterException");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_query_results_pages() {
    let config = ow_api::ApiConfig {
        max_results_per_page: 3,
        ..Default::default()
    };
    let h = Harness::with(config, Arc::new(ScriptedEngine));
    h.ok("CreateLogGroup", json!({"logGroupName": "g"})).await;
    let id = h
        .ok(
            "StartQuery",
            json!({"logGroupName": "g", "startTime": 1, "endTime": 2, "queryString": "rows 7"}),
        )
        .await["queryId"]
        .as_str()
        .unwrap()
        .to_string();
    wait_for(&h, &id, "Complete").await;
    let collect = |page: &Value| -> Vec<String> {
        page["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r[0]["value"].as_str().unwrap().to_string())
            .collect()
    };
    // Default page = max_results_per_page.
    let p1 = h.ok("GetQueryResults", json!({"queryId": id})).await;
    assert_eq!(collect(&p1), vec!["0", "1", "2"]);
    let p2 = h
        .ok(
            "GetQueryResults",
            json!({"queryId": id, "nextToken": p1["nextToken"]}),
        )
        .await;
    assert_eq!(collect(&p2), vec!["3", "4", "5"]);
    let p3 = h
        .ok(
            "GetQueryResults",
            json!({"queryId": id, "nextToken": p2["nextToken"]}),
        )
        .await;
    assert_eq!(collect(&p3), vec!["6"]);
    assert!(p3.get("nextToken").is_none());
    let small = h
        .ok("GetQueryResults", json!({"queryId": id, "maxItems": 2}))
        .await;
    assert_eq!(collect(&small), vec!["0", "1"]);
    let (kind, _, _) = h
        .err("GetQueryResults", json!({"queryId": id, "maxItems": 4}))
        .await;
    assert_eq!(kind, "InvalidParameterException");
    let (kind, _, _) = h
        .err(
            "StartQuery",
            json!({"logGroupName": "g", "startTime": 1, "endTime": 2, "queryString": "x", "limit": 100_001}),
        )
        .await;
    assert_eq!(kind, "InvalidParameterException");
}

#[tokio::test]
async fn query_definitions_crud_and_persistence() {
    let h = Harness::new();
    let id = h
        .ok(
            "PutQueryDefinition",
            json!({"name": "errors/by-code", "queryString": "fields @message | limit 5", "logGroupNames": ["g"]}),
        )
        .await["queryDefinitionId"]
        .as_str()
        .unwrap()
        .to_string();
    h.ok(
        "PutQueryDefinition",
        json!({"name": "aaa", "queryString": "fields a"}),
    )
    .await;
    h.ok(
        "PutQueryDefinition",
        json!({"name": "errors/by-code", "queryDefinitionId": id, "queryString": "fields b",
               "logGroupNames": ["g"]}),
    )
    .await;
    let (kind, _, _) = h
        .err(
            "PutQueryDefinition",
            json!({"name": "x", "queryDefinitionId": "missing", "queryString": "fields b"}),
        )
        .await;
    assert_eq!(kind, "ResourceNotFoundException");
    let (kind, _, _) = h
        .err(
            "PutQueryDefinition",
            json!({"name": "", "queryString": "q"}),
        )
        .await;
    assert_eq!(kind, "InvalidParameterException");

    let all = h.ok("DescribeQueryDefinitions", json!({})).await;
    let names: Vec<&str> = all["queryDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["aaa", "errors/by-code"]);
    let page = h
        .ok("DescribeQueryDefinitions", json!({"maxResults": 1}))
        .await;
    assert_eq!(page["queryDefinitions"].as_array().unwrap().len(), 1);
    let page2 = h
        .ok(
            "DescribeQueryDefinitions",
            json!({"maxResults": 1, "nextToken": page["nextToken"]}),
        )
        .await;
    assert_eq!(page2["queryDefinitions"][0]["name"], "errors/by-code");
    assert_eq!(page2["queryDefinitions"][0]["queryString"], "fields b");

    // Persisted: a new server over the same data directory sees them.
    let Harness { dir, state, router } = h;
    drop(router);
    drop(state);
    let h2 = Harness::in_dir(dir, Default::default(), Arc::new(ScriptedEngine));
    let prefixed = h2
        .ok(
            "DescribeQueryDefinitions",
            json!({"queryDefinitionNamePrefix": "errors/"}),
        )
        .await;
    assert_eq!(
        prefixed["queryDefinitions"][0]["queryDefinitionId"],
        id.as_str()
    );
    assert_eq!(
        prefixed["queryDefinitions"][0]["logGroupNames"],
        json!(["g"])
    );
    assert_eq!(
        h2.ok("DeleteQueryDefinition", json!({"queryDefinitionId": id}))
            .await,
        json!({"success": true})
    );
    let (kind, _, _) = h2
        .err("DeleteQueryDefinition", json!({"queryDefinitionId": id}))
        .await;
    assert_eq!(kind, "ResourceNotFoundException");
}

/// QA finding D: PutQueryDefinition with the same `clientToken` returns the same id and
/// creates no duplicate; another token creates another definition.
#[tokio::test]
async fn qa_put_query_definition_client_token() {
    let h = Harness::new();
    let token = "0b5e3c1a-7f1d-4a57-9d2e-6b1c8f4a9e01";
    let body = json!({"name": "errors", "queryString": "fields @message", "clientToken": token});
    let first = h.ok("PutQueryDefinition", body.clone()).await;
    let again = h.ok("PutQueryDefinition", body).await;
    assert_eq!(first["queryDefinitionId"], again["queryDefinitionId"]);
    let defs = h.ok("DescribeQueryDefinitions", json!({})).await;
    assert_eq!(
        defs["queryDefinitions"].as_array().unwrap().len(),
        1,
        "{defs}"
    );
    // An update by id keeps working, and the token still maps to the same definition.
    let id = first["queryDefinitionId"].as_str().unwrap();
    h.ok(
        "PutQueryDefinition",
        json!({"queryDefinitionId": id, "name": "renamed", "queryString": "fields @message"}),
    )
    .await;
    let third = h
        .ok(
            "PutQueryDefinition",
            json!({"name": "errors", "queryString": "fields @message", "clientToken": token}),
        )
        .await;
    assert_eq!(third["queryDefinitionId"], id);
    let other = h
        .ok(
            "PutQueryDefinition",
            json!({"name": "other", "queryString": "fields @message",
                   "clientToken": "1b5e3c1a-7f1d-4a57-9d2e-6b1c8f4a9e02"}),
        )
        .await;
    assert_ne!(other["queryDefinitionId"], id);
    let defs = h.ok("DescribeQueryDefinitions", json!({})).await;
    let names: Vec<&str> = defs["queryDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["other", "renamed"]);
}

/// DescribeQueryDefinitions and DescribeQueries page by position, not offset [I: AWS
/// tokens are opaque]: definitions put or deleted, and queries started, between pages never
/// make an item that exists throughout repeat or vanish.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describe_query_definitions_and_queries_tokens_are_positions() {
    let h = Harness::new();
    let put = |name: &'static str| {
        let h = &h;
        async move {
            h.ok(
                "PutQueryDefinition",
                json!({"name": name, "queryString": "fields @message"}),
            )
            .await["queryDefinitionId"]
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    let defs = |page: &Value| -> Vec<String> {
        page["queryDefinitions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["name"].as_str().unwrap().to_string())
            .collect()
    };
    let mut ids = std::collections::BTreeMap::new();
    for name in ["b", "d", "f", "h"] {
        ids.insert(name, put(name).await);
    }
    let p1 = h
        .ok("DescribeQueryDefinitions", json!({"maxResults": 2}))
        .await;
    assert_eq!(defs(&p1), ["b", "d"]);
    put("a").await;
    put("e").await;
    for name in ["b", "d"] {
        h.ok(
            "DeleteQueryDefinition",
            json!({"queryDefinitionId": ids[name]}),
        )
        .await;
    }
    let p2 = h
        .ok(
            "DescribeQueryDefinitions",
            json!({"maxResults": 2, "nextToken": p1["nextToken"]}),
        )
        .await;
    assert_eq!(defs(&p2), ["e", "f"]);
    let p3 = h
        .ok(
            "DescribeQueryDefinitions",
            json!({"maxResults": 2, "nextToken": p2["nextToken"]}),
        )
        .await;
    assert_eq!(defs(&p3), ["h"]);
    assert!(p3.get("nextToken").is_none());
    for bad in ["garbage", "p2"] {
        let (kind, message, _) = h
            .err("DescribeQueryDefinitions", json!({"nextToken": bad}))
            .await;
        assert_eq!(kind, "InvalidParameterException");
        assert_eq!(
            message,
            format!("The specified nextToken is invalid: {bad}")
        );
    }

    // DescribeQueries, newest first: queries started after the first page come before its
    // cursor (or, in the same millisecond, anywhere), and none of the first four repeats or
    // goes missing.
    h.ok("CreateLogGroup", json!({"logGroupName": "g"})).await;
    let start = || {
        let h = &h;
        async move {
            let id = h
                .ok(
                    "StartQuery",
                    json!({"logGroupName": "g", "startTime": 1, "endTime": 2, "queryString": "fields a"}),
                )
                .await["queryId"]
                .as_str()
                .unwrap()
                .to_string();
            wait_for(h, &id, "Complete").await;
            id
        }
    };
    let mut first = Vec::new();
    for _ in 0..4 {
        first.push(start().await);
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let queries = |page: &Value| -> Vec<String> {
        page["queries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|q| q["queryId"].as_str().unwrap().to_string())
            .collect()
    };
    let p1 = h.ok("DescribeQueries", json!({"maxResults": 2})).await;
    let mut listed = queries(&p1);
    assert_eq!(listed, [first[3].clone(), first[2].clone()]);
    start().await;
    start().await;
    let mut token = p1["nextToken"].clone();
    while token.is_string() {
        let page = h
            .ok(
                "DescribeQueries",
                json!({"maxResults": 2, "nextToken": token}),
            )
            .await;
        listed.extend(queries(&page));
        token = page.get("nextToken").cloned().unwrap_or(Value::Null);
    }
    let unique: std::collections::BTreeSet<&String> = listed.iter().collect();
    assert_eq!(unique.len(), listed.len(), "repeated: {listed:?}");
    assert!(first.iter().all(|q| listed.contains(q)), "{listed:?}");
    let (kind, _, _) = h.err("DescribeQueries", json!({"nextToken": "p2"})).await;
    assert_eq!(kind, "InvalidParameterException");
}
