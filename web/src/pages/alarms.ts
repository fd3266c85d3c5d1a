// Alarms: the list with state (DescribeAlarms), an alarm's detail with its metric graph and
// threshold line (GetMetricData), and its state history (DescribeAlarmHistory).

import { monitoring } from "../api";
import { timeChart } from "../charts";
import { errorBox, fmtTime, h, mount, unavailableBox } from "../dom";
import { getMetricData, type MetricDataQuery, metricLabel, metricsAvailable, wireTimeMs } from "../metrics";
import { resolve, type TimeRange, timePicker } from "../time";

interface MetricAlarm {
  AlarmName: string;
  AlarmDescription?: string;
  StateValue: string;
  StateReason?: string;
  StateUpdatedTimestamp?: number | string;
  Namespace?: string;
  MetricName?: string;
  Dimensions?: { Name: string; Value: string }[];
  Statistic?: string;
  ExtendedStatistic?: string;
  Period?: number;
  EvaluationPeriods?: number;
  DatapointsToAlarm?: number;
  Threshold?: number;
  ComparisonOperator?: string;
  TreatMissingData?: string;
  Metrics?: MetricDataQuery[];
  ActionsEnabled?: boolean;
  AlarmActions?: string[];
  OKActions?: string[];
}

interface CompositeAlarm {
  AlarmName: string;
  AlarmRule: string;
  StateValue: string;
  StateReason?: string;
  StateUpdatedTimestamp?: number | string;
}

const OPS: Record<string, string> = {
  GreaterThanOrEqualToThreshold: ">=",
  GreaterThanThreshold: ">",
  LessThanThreshold: "<",
  LessThanOrEqualToThreshold: "<=",
};

const ts = (t: number | string | undefined) => (t === undefined ? undefined : wireTimeMs(t));

function badge(state: string): HTMLElement {
  return h("span", { class: `badge state-${state.toLowerCase()}` }, state === "INSUFFICIENT_DATA" ? "Insufficient data" : state === "ALARM" ? "In alarm" : state);
}

export function alarmsPage(root: HTMLElement, _p: URLSearchParams, path: string[]): void {
  const body = h("div", { class: "page-body" }, h("div", { class: "muted pad" }, "Loading…"));
  mount(
    root,
    h(
      "div",
      { class: "page" },
      h("header", { class: "page-head" }, h("div", null, path[0] ? [h("a", { href: "#/alarms", class: "muted" }, "Alarms"), " / ", h("h1", { class: "inline" }, path[0])] : h("h1", null, "Alarms"))),
      body,
    ),
  );
  metricsAvailable()
    .then((ok) => {
      if (!ok) mount(body, unavailableBox("Alarms", ["DescribeAlarms", "DescribeAlarmHistory", "GetMetricData"]));
      else if (path[0]) detail(body, path[0]);
      else list(body);
    })
    .catch((e) => mount(body, errorBox(e)));
}

async function list(body: HTMLElement) {
  try {
    const metric: MetricAlarm[] = [];
    const composite: CompositeAlarm[] = [];
    let NextToken: string | undefined;
    do {
      const r = await monitoring<{ MetricAlarms?: MetricAlarm[]; CompositeAlarms?: CompositeAlarm[]; NextToken?: string }>("DescribeAlarms", {
        AlarmTypes: ["MetricAlarm", "CompositeAlarm"],
        MaxRecords: 100,
        ...(NextToken ? { NextToken } : {}),
      });
      metric.push(...(r.MetricAlarms ?? []));
      composite.push(...(r.CompositeAlarms ?? []));
      NextToken = r.NextToken;
    } while (NextToken);
    const all = [
      ...metric.map((a) => ({ name: a.AlarmName, state: a.StateValue, updated: ts(a.StateUpdatedTimestamp), cond: conditionText(a), kind: "Metric" })),
      ...composite.map((a) => ({ name: a.AlarmName, state: a.StateValue, updated: ts(a.StateUpdatedTimestamp), cond: a.AlarmRule, kind: "Composite" })),
    ];
    const order: Record<string, number> = { ALARM: 0, INSUFFICIENT_DATA: 1, OK: 2 };
    all.sort((a, b) => (order[a.state] ?? 3) - (order[b.state] ?? 3) || a.name.localeCompare(b.name));
    const counts = (s: string) => all.filter((a) => a.state === s).length;
    mount(
      body,
      h("div", { class: "summary" }, badge("ALARM"), ` ${counts("ALARM")}  `, badge("INSUFFICIENT_DATA"), ` ${counts("INSUFFICIENT_DATA")}  `, badge("OK"), ` ${counts("OK")}`),
      all.length === 0
        ? h("div", { class: "empty" }, "No alarms. Create them with PutMetricAlarm (aws cloudwatch put-metric-alarm).")
        : h(
            "table",
            { class: "grid-table", "data-testid": "alarms" },
            h("thead", null, h("tr", null, ["Name", "State", "Since (UTC)", "Type", "Conditions"].map((c) => h("th", null, c)))),
            h(
              "tbody",
              null,
              all.map((a) =>
                h(
                  "tr",
                  null,
                  h("td", null, a.kind === "Metric" ? h("a", { href: `#/alarms/${encodeURIComponent(a.name)}` }, a.name) : a.name),
                  h("td", null, badge(a.state)),
                  h("td", null, fmtTime(a.updated)),
                  h("td", null, a.kind),
                  h("td", { class: "cond" }, a.cond),
                ),
              ),
            ),
          ),
    );
  } catch (e) {
    mount(body, errorBox(e));
  }
}

function conditionText(a: MetricAlarm): string {
  const stat = a.Statistic ?? a.ExtendedStatistic ?? "";
  const what = a.MetricName ? `${stat} of ${metricLabel({ Namespace: a.Namespace ?? "", MetricName: a.MetricName, Dimensions: a.Dimensions })}` : "metric math";
  const op = OPS[a.ComparisonOperator ?? ""] ?? a.ComparisonOperator ?? "";
  const m = a.DatapointsToAlarm ?? a.EvaluationPeriods;
  return `${what} ${op} ${a.Threshold ?? "band"} for ${m} of ${a.EvaluationPeriods} × ${a.Period ?? "?"} s`;
}

async function detail(body: HTMLElement, name: string) {
  let alarm: MetricAlarm | undefined;
  try {
    const r = await monitoring<{ MetricAlarms?: MetricAlarm[] }>("DescribeAlarms", { AlarmNames: [name] });
    alarm = r.MetricAlarms?.[0];
  } catch (e) {
    mount(body, errorBox(e));
    return;
  }
  if (!alarm) {
    mount(body, h("div", { class: "notice error" }, `No metric alarm named ${name}.`));
    return;
  }
  const a = alarm;
  let range: TimeRange = { kind: "relative", seconds: Math.max(3 * 3600, (a.Period ?? 300) * (a.EvaluationPeriods ?? 1) * 20) };
  const chartHost = h("div", { "data-testid": "alarm-chart" });
  const historyHost = h("div", { class: "card" });
  async function drawChart() {
    const { startMs, endMs } = resolve(range);
    const queries: MetricDataQuery[] = a.Metrics?.length
      ? a.Metrics
      : [{ Id: "m1", MetricStat: { Metric: { Namespace: a.Namespace ?? "", MetricName: a.MetricName ?? "", Dimensions: a.Dimensions }, Period: a.Period ?? 300, Stat: a.Statistic ?? a.ExtendedStatistic ?? "Average" }, ReturnData: true, Label: a.MetricName }];
    try {
      const { series } = await getMetricData(queries, startMs, endMs);
      timeChart(chartHost, series, {
        kind: "line",
        height: 300,
        xRange: [startMs, endMs],
        periodMs: (a.Period ?? 300) * 1000,
        threshold: a.Threshold !== undefined ? { value: a.Threshold, label: `${OPS[a.ComparisonOperator ?? ""] ?? ""} ${a.Threshold}` } : undefined,
      });
    } catch (e) {
      mount(chartHost, errorBox(e));
    }
  }
  mount(
    body,
    h(
      "div",
      { class: "card" },
      h("div", { class: "card-head" }, h("h2", null, "State"), badge(a.StateValue)),
      h("p", null, a.StateReason ?? ""),
      h(
        "dl",
        { class: "props" },
        h("dt", null, "Condition"),
        h("dd", null, conditionText(a)),
        h("dt", null, "Missing data"),
        h("dd", null, a.TreatMissingData ?? "missing"),
        h("dt", null, "Actions"),
        h("dd", null, a.ActionsEnabled === false ? "disabled" : [...(a.AlarmActions ?? []), ...(a.OKActions ?? [])].join(", ") || "none"),
        a.AlarmDescription ? [h("dt", null, "Description"), h("dd", null, a.AlarmDescription)] : null,
      ),
    ),
    h("div", { class: "card" }, h("div", { class: "card-head" }, h("h2", null, "Metric and threshold"), timePicker(range, (r) => ((range = r), drawChart()))), chartHost),
    historyHost,
  );
  drawChart();
  try {
    const r = await monitoring<{ AlarmHistoryItems?: { Timestamp: number | string; HistoryItemType: string; HistorySummary: string }[] }>("DescribeAlarmHistory", {
      AlarmName: name,
      MaxRecords: 100,
      ScanBy: "TimestampDescending",
    });
    const items = r.AlarmHistoryItems ?? [];
    mount(
      historyHost,
      h("div", { class: "card-head" }, h("h2", null, "History")),
      items.length === 0
        ? h("div", { class: "empty" }, "No history.")
        : h(
            "table",
            { class: "grid-table", "data-testid": "alarm-history" },
            h("thead", null, h("tr", null, ["Time (UTC)", "Type", "Summary"].map((c) => h("th", null, c)))),
            h("tbody", null, items.map((i) => h("tr", null, h("td", null, fmtTime(ts(i.Timestamp))), h("td", null, i.HistoryItemType), h("td", null, i.HistorySummary)))),
          ),
    );
  } catch (e) {
    mount(historyHost, errorBox(e));
  }
}
