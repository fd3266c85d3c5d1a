"""boto3 and AWS CLI against `openwatch serve`: every operation, paginators, errors, and a
PutLogEvents -> StartQuery -> GetQueryResults round trip on real CloudTrail data."""

import collections
import datetime
import gzip
import json
import time
import uuid
from pathlib import Path

import botocore.exceptions
import pytest

from conftest import ACCOUNT, ROOT

DATA = ROOT.parent / "shared" / "data" / "cloudtrail" / "invictus-aws_dataset.ndjson.gz"


def now_ms():
    return int(time.time() * 1000)


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def wait_query(logs, query_id):
    for _ in range(1200):
        r = logs.get_query_results(queryId=query_id)
        if r["status"] in ("Complete", "Failed", "Cancelled", "Timeout"):
            assert r["status"] == "Complete", r
            return r
        time.sleep(0.05)
    raise AssertionError("query did not finish")


def row(r):
    return {f["field"]: f["value"] for f in r}


def test_log_groups_with_paginator(logs):
    prefix = unique("/py/groups")
    for i in range(7):
        logs.create_log_group(logGroupName=f"{prefix}/{i}", tags={"team": "py"})
    with pytest.raises(logs.exceptions.ResourceAlreadyExistsException):
        logs.create_log_group(logGroupName=f"{prefix}/0")
    with pytest.raises(logs.exceptions.InvalidParameterException):
        logs.create_log_group(logGroupName="bad name with spaces")
    pages = list(logs.get_paginator("describe_log_groups").paginate(
        logGroupNamePrefix=prefix, PaginationConfig={"PageSize": 3}))
    assert len(pages) == 3
    names = [g["logGroupName"] for p in pages for g in p["logGroups"]]
    assert names == [f"{prefix}/{i}" for i in range(7)]
    g = pages[0]["logGroups"][0]
    assert g["arn"] == f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{prefix}/0:*"
    assert g["logGroupArn"] == f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{prefix}/0"
    logs.delete_log_group(logGroupName=f"{prefix}/6")
    with pytest.raises(logs.exceptions.ResourceNotFoundException):
        logs.delete_log_group(logGroupName=f"{prefix}/6")


def test_streams_events_and_filter(logs):
    g = unique("/py/events")
    logs.create_log_group(logGroupName=g)
    for s in ("a", "b", "c"):
        logs.create_log_stream(logGroupName=g, logStreamName=s)
    with pytest.raises(logs.exceptions.ResourceAlreadyExistsException):
        logs.create_log_stream(logGroupName=g, logStreamName="a")
    streams = list(logs.get_paginator("describe_log_streams").paginate(
        logGroupName=g, PaginationConfig={"PageSize": 2}))
    assert [s["logStreamName"] for p in streams for s in p["logStreams"]] == ["a", "b", "c"]

    base = now_ms() - 60_000
    events = [{"timestamp": base + i, "message": json.dumps({"n": i, "level": "ERROR" if i % 4 == 0 else "INFO"})}
              for i in range(40)]
    r = logs.put_log_events(logGroupName=g, logStreamName="a", logEvents=events)
    assert "rejectedLogEventsInfo" not in r
    with pytest.raises(logs.exceptions.InvalidParameterException):
        logs.put_log_events(logGroupName=g, logStreamName="a", logEvents=list(reversed(events[:2])))
    with pytest.raises(logs.exceptions.ResourceNotFoundException):
        logs.put_log_events(logGroupName=g, logStreamName="missing", logEvents=events[:1])

    # GetLogEvents forward until the token repeats.
    got, token = [], None
    while True:
        kw = {"logGroupName": g, "logStreamName": "a", "startFromHead": True, "limit": 9}
        if token:
            kw["nextToken"] = token
        r = logs.get_log_events(**kw)
        got += [e["message"] for e in r["events"]]
        if r["nextForwardToken"] == token:
            break
        token = r["nextForwardToken"]
    assert got == [e["message"] for e in events]

    pages = list(logs.get_paginator("filter_log_events").paginate(
        logGroupName=g, filterPattern='{ $.level = "ERROR" }', PaginationConfig={"PageSize": 3}))
    matched = [json.loads(e["message"])["n"] for p in pages for e in p["events"]]
    assert matched == list(range(0, 40, 4))
    with pytest.raises(logs.exceptions.InvalidParameterException):
        logs.filter_log_events(logGroupName=g, filterPattern="{ $.level = ")

    fields = logs.get_log_group_fields(logGroupName=g, time=base // 1000)["logGroupFields"]
    assert {"name": "level", "percent": 100} in fields
    logs.delete_log_stream(logGroupName=g, logStreamName="c")
    with pytest.raises(logs.exceptions.ResourceNotFoundException):
        logs.delete_log_stream(logGroupName=g, logStreamName="c")


def test_retention_and_tags(logs):
    g = unique("/py/retention")
    logs.create_log_group(logGroupName=g)
    logs.put_retention_policy(logGroupName=g, retentionInDays=14)
    assert logs.describe_log_groups(logGroupNamePrefix=g)["logGroups"][0]["retentionInDays"] == 14
    with pytest.raises(logs.exceptions.InvalidParameterException):
        logs.put_retention_policy(logGroupName=g, retentionInDays=15)
    logs.delete_retention_policy(logGroupName=g)
    assert "retentionInDays" not in logs.describe_log_groups(logGroupNamePrefix=g)["logGroups"][0]
    arn = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{g}"
    logs.tag_resource(resourceArn=arn, tags={"a": "1", "b": "2"})
    logs.untag_resource(resourceArn=arn, tagKeys=["a"])
    assert logs.list_tags_for_resource(resourceArn=arn)["tags"] == {"b": "2"}


def test_deletion_protection(logs):
    g = unique("/py/protected")
    logs.create_log_group(logGroupName=g, deletionProtectionEnabled=True)
    logs.create_log_stream(logGroupName=g, logStreamName="s")
    logs.put_log_events(logGroupName=g, logStreamName="s", logEvents=[{"timestamp": now_ms(), "message": "kept"}])
    assert logs.describe_log_groups(logGroupNamePrefix=g)["logGroups"][0]["deletionProtectionEnabled"] is True
    with pytest.raises(logs.exceptions.ValidationException) as e:
        logs.delete_log_group(logGroupName=g)
    assert e.value.response["Error"]["Message"] == (
        "Cannot delete log group with deletion protection enabled. Disable deletion protection first.")
    with pytest.raises(logs.exceptions.ValidationException):
        logs.delete_log_stream(logGroupName=g, logStreamName="s")
    r = logs.get_log_events(logGroupName=g, logStreamName="s", startFromHead=True)
    assert [e["message"] for e in r["events"]] == ["kept"]
    logs.put_log_group_deletion_protection(logGroupIdentifier=g, deletionProtectionEnabled=False)
    assert logs.describe_log_groups(logGroupNamePrefix=g)["logGroups"][0]["deletionProtectionEnabled"] is False
    logs.put_log_group_deletion_protection(
        logGroupIdentifier=f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{g}", deletionProtectionEnabled=True)
    with pytest.raises(logs.exceptions.ValidationException):
        logs.delete_log_group(logGroupName=g)
    logs.put_log_group_deletion_protection(
        logGroupIdentifier=f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{g}", deletionProtectionEnabled=False)
    logs.delete_log_group(logGroupName=g)
    with pytest.raises(logs.exceptions.ResourceNotFoundException):
        logs.put_log_group_deletion_protection(logGroupIdentifier=g, deletionProtectionEnabled=False)


def test_queries_lifecycle_and_definitions(logs):
    g = unique("/py/queries")
    logs.create_log_group(logGroupName=g)
    logs.create_log_stream(logGroupName=g, logStreamName="s")
    base = now_ms() - 30_000
    logs.put_log_events(logGroupName=g, logStreamName="s", logEvents=[
        {"timestamp": base + i, "message": json.dumps({"user": f"u{i % 3}", "ms": i})} for i in range(30)])
    qid = logs.start_query(logGroupName=g, startTime=base // 1000 - 1, endTime=now_ms() // 1000 + 1,
                           queryString="stats count(*) as n, sum(ms) as total by user | sort user asc")["queryId"]
    r = wait_query(logs, qid)
    rows = [row(x) for x in r["results"]]
    assert rows == [
        {"user": "u0", "n": "10", "total": str(sum(range(0, 30, 3)))},
        {"user": "u1", "n": "10", "total": str(sum(range(1, 30, 3)))},
        {"user": "u2", "n": "10", "total": str(sum(range(2, 30, 3)))},
    ]
    assert r["statistics"]["recordsScanned"] == 30.0

    qid2 = logs.start_query(logGroupName=g, startTime=base // 1000 - 1, endTime=now_ms() // 1000 + 1,
                            queryString="fields ms | sort ms desc | limit 1")["queryId"]
    first = row(wait_query(logs, qid2)["results"][0])
    assert first["ms"] == "29"
    record = logs.get_log_record(logRecordPointer=first["@ptr"])["logRecord"]
    assert record["ms"] == "29" and record["@logStream"] == "s"

    with pytest.raises(logs.exceptions.MalformedQueryException):
        logs.start_query(logGroupName=g, startTime=0, endTime=1, queryString="stats count(* by")
    with pytest.raises(logs.exceptions.ResourceNotFoundException):
        logs.start_query(logGroupName=unique("/py/none"), startTime=0, endTime=1, queryString="fields @message")
    # Planner errors are answered at StartQuery, with the location AWS gives.
    for q, at, code in [("fields @message | pattern @message", "pattern", "Q400"),
                        ("fields x | lookup nosuchtable x OUTPUT y", "nosuchtable", "Q421")]:
        with pytest.raises(logs.exceptions.MalformedQueryException) as e:
            logs.start_query(logGroupName=g, startTime=0, endTime=1, queryString=q)
        err = e.value.response
        assert code in err["Error"]["Message"], err
        loc = err["queryCompileError"]["location"]
        assert loc["startCharOffset"] == q.index(at), err
    with pytest.raises(logs.exceptions.InvalidParameterException):
        logs.stop_query(queryId=qid)
    pages = list(logs.get_paginator("describe_queries").paginate(
        logGroupName=g, PaginationConfig={"PageSize": 1}))
    described = [q for p in pages for q in p["queries"]]
    assert len(pages) >= 2
    assert {qid, qid2} <= {q["queryId"] for q in described}
    assert all(q["status"] == "Complete" and q["logGroupName"] == g for q in described)

    ids = [logs.put_query_definition(name=f"{g}/def{i}", queryString="fields @message",
                                     logGroupNames=[g])["queryDefinitionId"] for i in range(3)]
    defs = logs.describe_query_definitions(queryDefinitionNamePrefix=g, maxResults=2)
    assert len(defs["queryDefinitions"]) == 2 and "nextToken" in defs
    rest = logs.describe_query_definitions(queryDefinitionNamePrefix=g, maxResults=2, nextToken=defs["nextToken"])
    assert [d["name"] for d in defs["queryDefinitions"] + rest["queryDefinitions"]] == \
        [f"{g}/def{i}" for i in range(3)]
    logs.put_query_definition(name=f"{g}/def0", queryDefinitionId=ids[0], queryString="fields ms")
    assert logs.delete_query_definition(queryDefinitionId=ids[1])["success"] is True
    with pytest.raises(logs.exceptions.ResourceNotFoundException):
        logs.delete_query_definition(queryDefinitionId=ids[1])


def test_bad_credentials_are_rejected(server):
    import boto3
    bad = boto3.client("logs", endpoint_url=server, region_name="us-east-1",
                       aws_access_key_id="AKIDUNKNOWN", aws_secret_access_key="x")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        bad.describe_log_groups()
    assert e.value.response["Error"]["Code"] == "UnrecognizedClientException"


def test_cloudtrail_round_trip(logs):
    """PutLogEvents of real CloudTrail records (2023, so the age windows are off in this
    server's config), then Logs Insights over them; expected values computed here."""
    records = []
    with gzip.open(DATA, "rt") as f:
        for line in f:
            if line.strip():
                ev = json.loads(line)
                t = datetime.datetime.fromisoformat(ev["eventTime"].replace("Z", "+00:00"))
                records.append((int(t.timestamp() * 1000), line.rstrip("\n"), ev))
    records.sort(key=lambda r: r[0])
    assert len(records) == 2900
    g = unique("/py/cloudtrail")
    logs.create_log_group(logGroupName=g)
    logs.create_log_stream(logGroupName=g, logStreamName="trail")
    for i in range(0, len(records), 250):
        r = logs.put_log_events(logGroupName=g, logStreamName="trail",
                                logEvents=[{"timestamp": t, "message": m} for t, m, _ in records[i:i + 250]])
        assert "rejectedLogEventsInfo" not in r
    start, end = records[0][0] // 1000, records[-1][0] // 1000
    qid = logs.start_query(logGroupName=g, startTime=start, endTime=end,
                           queryString="filter ispresent(errorCode) | stats count(*) as n by errorCode "
                                       "| sort n desc, errorCode asc")["queryId"]
    got = [(row(x)["errorCode"], int(row(x)["n"])) for x in wait_query(logs, qid)["results"]]
    expected = collections.Counter(ev["errorCode"] for _, _, ev in records if "errorCode" in ev)
    assert sum(expected.values()) == 300
    assert got == sorted(expected.items(), key=lambda kv: (-kv[1], kv[0]))


def test_aws_cli(cli):
    g = unique("/py/cli")
    rc, _, err = cli("create-log-group", "--log-group-name", g)
    assert rc == 0, err
    rc, _, err = cli("create-log-stream", "--log-group-name", g, "--log-stream-name", "s")
    assert rc == 0, err
    ts = now_ms() - 1000
    rc, out, err = cli("put-log-events", "--log-group-name", g, "--log-stream-name", "s",
                       "--log-events", f"timestamp={ts},message=hello-from-cli")
    assert rc == 0, err
    # The CLI paginates describe-log-groups itself with --page-size.
    rc, out, err = cli("describe-log-groups", "--log-group-name-prefix", g, "--page-size", "1")
    assert rc == 0, err
    assert [x["logGroupName"] for x in out["logGroups"]] == [g]
    rc, out, err = cli("filter-log-events", "--log-group-name", g, "--filter-pattern", "hello")
    assert rc == 0, err
    assert [e["message"] for e in out["events"]] == ["hello-from-cli"]
    rc, out, err = cli("start-query", "--log-group-name", g, "--start-time", str(ts // 1000 - 5),
                       "--end-time", str(ts // 1000 + 5), "--query-string", "stats count(*) as n")
    assert rc == 0, err
    qid = out["queryId"]
    for _ in range(600):
        rc, out, err = cli("get-query-results", "--query-id", qid)
        assert rc == 0, err
        if out["status"] == "Complete":
            break
        time.sleep(0.05)
    assert out["results"] == [[{"field": "n", "value": "1"}]]
    rc, _, err = cli("create-log-group", "--log-group-name", g)
    assert rc != 0 and "ResourceAlreadyExistsException" in err
