"""boto3 `cloudwatch` against `openwatch serve` on each wire protocol (api.md B.1).

botocore < 1.42.7 speaks AWS Query (form + XML); later versions pick AWS JSON 1.0 from the
model's `protocols` list. To drive every protocol from one botocore, the client is also
built over a copy of the installed `cloudwatch` model whose `protocols` list names a single
protocol (`query`, `json`, `smithy-rpc-v2-cbor`), loaded through the session's
`data_path` — the real serializers and parsers of botocore then talk to the server.
`native` is the model as installed; the scripts run this file under several pinned
botocore versions (scripts/py-metrics-tests.sh).
"""

import json
import os
import tempfile
import time
import uuid
from pathlib import Path

import boto3
import botocore
import botocore.exceptions
import botocore.session
import pytest

from conftest import ACCESS_KEY, ACCOUNT, SECRET_KEY

BOTOCORE = tuple(int(x) for x in botocore.__version__.split(".")[:3])
# The first botocore whose cloudwatch model lists JSON 1.0 and CBOR (api.md B.1).
FIRST_MULTI_PROTOCOL = (1, 42, 7)


def _override_dir(protocol):
    """A data path holding the installed cloudwatch model restricted to `protocol`."""
    loader = botocore.session.get_session().get_component("data_loader")
    model = loader.load_service_model("cloudwatch", "service-2")
    version = model["metadata"]["apiVersion"]
    model["metadata"]["protocol"] = protocol
    model["metadata"]["protocols"] = [protocol]
    root = Path(tempfile.mkdtemp(prefix=f"ow-cw-{protocol}-"))
    target = root / "cloudwatch" / version
    target.mkdir(parents=True)
    (target / "service-2.json").write_text(json.dumps(model))
    return root


def _client(server, protocol):
    session = botocore.session.Session()
    if protocol != "native":
        session.set_config_variable("data_path", str(_override_dir(protocol)))
    return boto3.Session(botocore_session=session).client(
        "cloudwatch", endpoint_url=server, region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
    )


def _protocols():
    if BOTOCORE < FIRST_MULTI_PROTOCOL:
        # Older botocore has neither the JSON 1.0 target prefix nor CBOR for cloudwatch.
        return ["native"]
    return ["native", "query", "json", "smithy-rpc-v2-cbor"]


@pytest.fixture(params=_protocols())
def cw(request, server):
    client = _client(server, request.param)
    expected = {
        "native": "query" if BOTOCORE < FIRST_MULTI_PROTOCOL else "json",
    }.get(request.param, request.param)
    model = client.meta.service_model
    used = getattr(model, "resolved_protocol", model.protocol)
    assert used == expected, (botocore.__version__, used)
    return client


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_metric_data_round_trip(cw):
    ns = unique("Py/App")
    now = int(time.time()) // 60 * 60 - 120
    t = __import__("datetime").datetime.fromtimestamp(now, __import__("datetime").timezone.utc)
    cw.put_metric_data(Namespace=ns, MetricData=[
        {"MetricName": "Latency", "Dimensions": [{"Name": "Host", "Value": "a"}],
         "Timestamp": t, "Value": 10.0, "Unit": "Milliseconds"},
        {"MetricName": "Latency", "Dimensions": [{"Name": "Host", "Value": "a"}],
         "Timestamp": t, "StatisticValues": {"SampleCount": 2, "Sum": 50, "Minimum": 20, "Maximum": 30},
         "Unit": "Milliseconds"},
        {"MetricName": "Latency", "Dimensions": [{"Name": "Host", "Value": "b"}],
         "Timestamp": t, "Values": [1, 2, 3], "Counts": [1, 1, 2]},
    ])
    listed = cw.list_metrics(Namespace=ns)["Metrics"]
    assert sorted(m["Dimensions"][0]["Value"] for m in listed) == ["a", "b"]
    # The paginator follows NextToken (one page here).
    pages = list(cw.get_paginator("list_metrics").paginate(Namespace=ns, MetricName="Latency"))
    assert sum(len(p["Metrics"]) for p in pages) == 2

    r = cw.get_metric_statistics(
        Namespace=ns, MetricName="Latency", Dimensions=[{"Name": "Host", "Value": "a"}],
        StartTime=t, EndTime=t.timestamp() + 60, Period=60,
        Statistics=["Sum", "SampleCount", "Maximum", "Minimum", "Average"])
    assert r["Label"] == "Latency"
    (dp,) = r["Datapoints"]
    assert (dp["Sum"], dp["SampleCount"], dp["Maximum"], dp["Minimum"], dp["Average"]) == (60, 3, 30, 10, 20)
    assert dp["Unit"] == "Milliseconds"
    assert int(dp["Timestamp"].timestamp()) == now
    r = cw.get_metric_statistics(
        Namespace=ns, MetricName="Latency", Dimensions=[{"Name": "Host", "Value": "b"}],
        StartTime=t, EndTime=t.timestamp() + 60, Period=60, ExtendedStatistics=["p50"])
    assert r["Datapoints"][0]["ExtendedStatistics"] == {"p50": 2.0}

    r = cw.get_metric_data(
        MetricDataQueries=[
            {"Id": "m1", "MetricStat": {"Metric": {"Namespace": ns, "MetricName": "Latency",
                                                   "Dimensions": [{"Name": "Host", "Value": "b"}]},
                                        "Period": 60, "Stat": "Sum"}},
            {"Id": "e1", "Expression": "m1 * 2", "Label": "double"}],
        StartTime=t, EndTime=t.timestamp() + 60)
    by_id = {x["Id"]: x for x in r["MetricDataResults"]}
    assert by_id["m1"]["Values"] == [9.0]
    assert by_id["e1"]["Values"] == [18.0]
    assert by_id["e1"]["Label"] == "double"
    assert int(by_id["m1"]["Timestamps"][0].timestamp()) == now


def test_alarms_tags_and_history(cw):
    ns = unique("Py/Alarm")
    name = unique("alarm")
    cw.put_metric_alarm(
        AlarmName=name, MetricName="Errors", Namespace=ns, Statistic="Sum", Period=60,
        EvaluationPeriods=1, Threshold=1.0, ComparisonOperator="GreaterThanOrEqualToThreshold",
        TreatMissingData="notBreaching", AlarmActions=[f"arn:aws:sns:us-east-1:{ACCOUNT}:ops"],
        Tags=[{"Key": "team", "Value": "core"}])
    (a,) = cw.describe_alarms(AlarmNames=[name])["MetricAlarms"]
    assert a["StateValue"] == "INSUFFICIENT_DATA"
    assert a["StateReason"] == "Unchecked: Initial alarm creation"
    assert a["AlarmArn"] == f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:{name}"
    assert a["Threshold"] == 1.0 and a["EvaluationPeriods"] == 1 and a["ActionsEnabled"] is True
    assert a["AlarmActions"] == [f"arn:aws:sns:us-east-1:{ACCOUNT}:ops"]

    cw.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="drill",
                       StateReasonData='{"why": "test"}')
    (a,) = cw.describe_alarms(AlarmNames=[name], StateValue="ALARM")["MetricAlarms"]
    assert a["StateReason"] == "drill"
    hist = cw.describe_alarm_history(AlarmName=name, HistoryItemType="StateUpdate")["AlarmHistoryItems"]
    assert hist[0]["HistorySummary"] == "Alarm updated from INSUFFICIENT_DATA to ALARM"
    found = cw.describe_alarms_for_metric(MetricName="Errors", Namespace=ns)["MetricAlarms"]
    assert [x["AlarmName"] for x in found] == [name]

    cw.disable_alarm_actions(AlarmNames=[name])
    assert cw.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["ActionsEnabled"] is False
    cw.enable_alarm_actions(AlarmNames=[name])
    assert cw.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["ActionsEnabled"] is True

    arn = a["AlarmArn"]
    cw.tag_resource(ResourceARN=arn, Tags=[{"Key": "env", "Value": "prod"}])
    tags = {t["Key"]: t["Value"] for t in cw.list_tags_for_resource(ResourceARN=arn)["Tags"]}
    assert tags == {"team": "core", "env": "prod"}
    cw.untag_resource(ResourceARN=arn, TagKeys=["team"])
    assert cw.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "env", "Value": "prod"}]

    comp = unique("composite")
    cw.put_composite_alarm(AlarmName=comp, AlarmRule=f'ALARM("{name}")')
    (c,) = cw.describe_alarms(AlarmNames=[comp], AlarmTypes=["CompositeAlarm"])["CompositeAlarms"]
    assert c["AlarmRule"] == f'ALARM("{name}")'
    with pytest.raises(botocore.exceptions.ClientError) as e:
        cw.delete_alarms(AlarmNames=[name])
    assert e.value.response["Error"]["Code"] == "ResourceConflict"
    cw.delete_alarms(AlarmNames=[comp])
    cw.delete_alarms(AlarmNames=[name])
    assert cw.describe_alarms(AlarmNames=[name])["MetricAlarms"] == []


def test_dashboards(cw):
    name = unique("dash")
    body = json.dumps({"widgets": [{"type": "text", "x": 0, "y": 0, "width": 6, "height": 3,
                                    "properties": {"markdown": "# hi"}}]})
    r = cw.put_dashboard(DashboardName=name, DashboardBody=body)
    assert r["DashboardValidationMessages"] == []
    g = cw.get_dashboard(DashboardName=name)
    assert g["DashboardBody"] == body
    assert g["DashboardArn"] == f"arn:aws:cloudwatch::{ACCOUNT}:dashboard/{name}"
    entries = cw.list_dashboards(DashboardNamePrefix=name)["DashboardEntries"]
    assert [(x["DashboardName"], x["Size"]) for x in entries] == [(name, len(body))]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        cw.put_dashboard(DashboardName=name, DashboardBody='{"widgets": [{"type": "metric"}]}')
    assert e.value.response["Error"]["Code"] == "InvalidParameterInput"
    cw.delete_dashboards(DashboardNames=[name])
    with pytest.raises(botocore.exceptions.ClientError) as e:
        cw.get_dashboard(DashboardName=name)
    assert e.value.response["Error"]["Code"] == "ResourceNotFound"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_errors_carry_the_query_codes(cw):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        cw.put_metric_data(Namespace="AWS/EC2", MetricData=[{"MetricName": "x", "Value": 1}])
    assert e.value.response["Error"]["Code"] == "InvalidParameterValue"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        cw.set_alarm_state(AlarmName=unique("ghost"), StateValue="OK", StateReason="r")
    assert e.value.response["Error"]["Code"] == "ResourceNotFound"


def test_metric_filters_feed_metrics(server, cw, logs):
    group = unique("py-mf")
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    ns = unique("Py/Filter")
    logs.put_metric_filter(
        logGroupName=group, filterName="errors", filterPattern="ERROR",
        metricTransformations=[{"metricName": "Errors", "metricNamespace": ns, "metricValue": "1"}])
    (f,) = logs.describe_metric_filters(logGroupName=group)["metricFilters"]
    assert f["filterPattern"] == "ERROR"
    m = logs.test_metric_filter(filterPattern="ERROR", logEventMessages=["ERROR x", "ok"])["matches"]
    assert [x["eventNumber"] for x in m] == [1]
    t = int(time.time()) // 60 * 60 - 120
    logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=[
        {"timestamp": t * 1000, "message": "ERROR one"},
        {"timestamp": t * 1000 + 1, "message": "fine"},
        {"timestamp": t * 1000 + 2, "message": "ERROR two"}])
    r = cw.get_metric_statistics(Namespace=ns, MetricName="Errors", StartTime=t, EndTime=t + 60,
                                 Period=60, Statistics=["Sum"])
    assert [d["Sum"] for d in r["Datapoints"]] == [2.0]
    logs.delete_metric_filter(logGroupName=group, filterName="errors")
    assert logs.describe_metric_filters(logGroupName=group)["metricFilters"] == []


def test_serve_delivers_alarm_notifications_to_a_webhook(tmp_path):
    """`openwatch serve` with an `actions` config: SetAlarmState to ALARM reaches a local
    HTTP receiver as an SNS-shaped notification; the first attempt fails and is retried."""
    import http.server
    import re
    import subprocess
    import threading
    import urllib.request

    from conftest import _binary

    received, attempts = [], []

    class Hook(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            attempts.append(body)
            if len(attempts) == 1:
                self.send_response(500)
            else:
                received.append((dict(self.headers), json.loads(body)))
                self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    hook = http.server.HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    topic = f"arn:aws:sns:us-east-1:{ACCOUNT}:py-alarms"
    config = tmp_path / "config.json"
    config.write_text(json.dumps({
        "accessKeys": [{"accessKeyId": ACCESS_KEY, "secretAccessKey": SECRET_KEY, "accountId": ACCOUNT}],
        "actions": {"sns": [{"topicArn": topic, "webhook": f"http://127.0.0.1:{hook.server_port}/hook"}],
                    "retry": {"maxAttempts": 3, "initialBackoffMs": 50}},
    }))
    proc = subprocess.Popen(
        [str(_binary()), "serve", "--listen", "127.0.0.1:0", "--data-dir", str(tmp_path / "data"),
         "--config", str(config)],
        stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        endpoint = None
        deadline = time.time() + 60
        while time.time() < deadline and endpoint is None:
            line = proc.stderr.readline()
            if not line and proc.poll() is not None:
                break
            m = re.search(r"on (http://127\.0\.0\.1:\d+)", line or "")
            endpoint = m.group(1) if m else None
        assert endpoint, "openwatch serve did not start"
        cw = _client(endpoint, "native")
        cw.put_metric_alarm(
            AlarmName="py-hook", MetricName="Errors", Namespace="Py/Hook", Statistic="Sum",
            Period=60, EvaluationPeriods=1, Threshold=1.0,
            ComparisonOperator="GreaterThanOrEqualToThreshold", AlarmActions=[topic])
        cw.set_alarm_state(AlarmName="py-hook", StateValue="ALARM", StateReason="drill")
        deadline = time.time() + 40  # the scheduler ticks every 10 s
        while time.time() < deadline and not received:
            time.sleep(0.2)
        assert received, f"no notification (attempts: {len(attempts)})"
        headers, body = received[0]
        assert len(attempts) == 2, "one failure, one retry"
        assert headers["x-amz-sns-topic-arn"] == topic
        assert body["Type"] == "Notification" and body["TopicArn"] == topic
        assert body["Subject"] == 'ALARM: "py-hook" in US East (N. Virginia)'
        msg = json.loads(body["Message"])
        assert (msg["AlarmName"], msg["NewStateValue"], msg["NewStateReason"]) == ("py-hook", "ALARM", "drill")
        hist = cw.describe_alarm_history(AlarmName="py-hook", HistoryItemType="Action")["AlarmHistoryItems"]
        assert hist[0]["HistorySummary"] == f"Successfully executed action {topic}"
    finally:
        proc.terminate()
        assert proc.wait(timeout=60) == 0
        hook.shutdown()


def test_large_put_metric_data_is_gzip_compressed(cw):
    """botocore gzips PutMetricData bodies of 10 KiB and more (the model's
    `requestcompression`); the server inflates them after checking the signature."""
    if BOTOCORE < FIRST_MULTI_PROTOCOL and not cw.meta.service_model.operation_model(
            "PutMetricData").request_compression:
        pytest.skip("this botocore's model does not compress PutMetricData")
    sent = []
    cw.meta.events.register("before-send.cloudwatch.PutMetricData",
                            lambda request, **_: sent.append(dict(request.headers)))
    ns = unique("Py/Gzip")
    cw.put_metric_data(Namespace=ns, MetricData=[
        {"MetricName": f"metric-{i:04d}-{'x' * 40}", "Value": float(i)} for i in range(400)])
    assert sent and sent[0].get("Content-Encoding") in ("gzip", b"gzip"), sent
    names = set()
    for page in cw.get_paginator("list_metrics").paginate(Namespace=ns):
        names.update(m["MetricName"] for m in page["Metrics"])
    assert len(names) == 400
