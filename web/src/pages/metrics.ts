// Metrics: browse namespaces, metrics and dimensions (ListMetrics); graph a statistic over a
// period and time range (GetMetricData).

import { timeChart } from "../charts";
import { errorBox, h, mount, unavailableBox } from "../dom";
import { autoPeriod, getMetricData, listMetrics, type Metric, metricLabel, metricsAvailable, PERIODS, STATS } from "../metrics";
import { resolve, type TimeRange, timePicker } from "../time";

export function metricsPage(root: HTMLElement): void {
  const body = h("div", { class: "page-body" }, h("div", { class: "muted pad" }, "Loading…"));
  mount(root, h("div", { class: "page" }, h("header", { class: "page-head" }, h("h1", null, "Metrics")), body));
  metricsAvailable()
    .then((ok) => (ok ? explorer(body) : mount(body, unavailableBox("Metrics", ["ListMetrics", "GetMetricData"]))))
    .catch((e) => mount(body, errorBox(e)));
}

async function explorer(body: HTMLElement): Promise<void> {
  let metrics: Metric[];
  try {
    metrics = await listMetrics();
  } catch (e) {
    mount(body, errorBox(e));
    return;
  }
  let namespace: string | null = null;
  let chosen: Metric[] = [];
  let stat = "Average";
  let period = 0; // 0 = automatic
  let range: TimeRange = { kind: "relative", seconds: 3 * 3600 };
  const nsHost = h("div", { class: "side-list" });
  const metricHost = h("div", { class: "metric-list" });
  const chartHost = h("div", { class: "card chart-card", "data-testid": "metric-chart" });
  const filter = h("input", { type: "search", placeholder: "Filter metrics and dimensions", "aria-label": "Filter metrics" });
  const namespaces = [...new Set(metrics.map((m) => m.Namespace))].sort();
  const key = (m: Metric) => JSON.stringify([m.Namespace, m.MetricName, (m.Dimensions ?? []).map((d) => [d.Name, d.Value]).sort()]);

  const drawNs = () =>
    mount(
      nsHost,
      namespaces.length === 0 ? h("div", { class: "muted pad" }, "No metrics yet.") : null,
      namespaces.map((ns) =>
        h("button", { class: `side-item ${ns === namespace ? "active" : ""}`, onclick: () => ((namespace = ns), drawNs(), drawMetrics()) }, ns, h("span", { class: "muted" }, String(metrics.filter((m) => m.Namespace === ns).length))),
      ),
    );
  const drawMetrics = () => {
    const f = filter.value.toLowerCase();
    const shown = metrics.filter((m) => (!namespace || m.Namespace === namespace) && metricLabel(m).toLowerCase().includes(f)).slice(0, 500);
    // group by dimension-name set, as the AWS console does
    const groups = new Map<string, Metric[]>();
    for (const m of shown) {
      const g = `${m.Namespace} › ${(m.Dimensions ?? []).map((d) => d.Name).sort().join(", ") || "Metrics with no dimensions"}`;
      groups.set(g, [...(groups.get(g) ?? []), m]);
    }
    mount(
      metricHost,
      [...groups].map(([g, ms]) =>
        h(
          "div",
          { class: "metric-group" },
          h("h3", null, g),
          ms.map((m) =>
            h(
              "label",
              { class: "picker-item" },
              h("input", {
                type: "checkbox",
                checked: chosen.some((c) => key(c) === key(m)),
                onchange: (e: Event) => {
                  chosen = (e.target as HTMLInputElement).checked ? [...chosen, m] : chosen.filter((c) => key(c) !== key(m));
                  drawChart();
                },
              }),
              metricLabel(m),
            ),
          ),
        ),
      ),
    );
  };
  const statSel = h("select", { "aria-label": "Statistic", onchange: (e: Event) => ((stat = (e.target as HTMLSelectElement).value), drawChart()) }, STATS.map((s) => h("option", { value: s }, s)));
  const periodSel = h(
    "select",
    { "aria-label": "Period", onchange: (e: Event) => ((period = Number((e.target as HTMLSelectElement).value)), drawChart()) },
    h("option", { value: "0" }, "Auto period"),
    PERIODS.map(([l, p]) => h("option", { value: String(p) }, l)),
  );
  async function drawChart() {
    if (chosen.length === 0) {
      mount(chartHost, h("div", { class: "empty" }, "Select metrics to graph them."));
      return;
    }
    const { startMs, endMs } = resolve(range);
    const p = period || autoPeriod(endMs - startMs);
    mount(chartHost, h("div", { class: "muted pad" }, "Loading…"));
    try {
      const { series, messages } = await getMetricData(
        chosen.slice(0, 100).map((m, i) => ({ Id: `m${i}`, MetricStat: { Metric: m, Period: p, Stat: stat }, Label: metricLabel(m), ReturnData: true })),
        startMs,
        endMs,
      );
      const chart = h("div");
      mount(chartHost, h("div", { class: "card-head" }, h("h2", null, `${stat} per ${PERIODS.find(([, x]) => x === p)?.[0] ?? `${p} s`}`)), chart, messages.length ? h("div", { class: "muted" }, messages.join("; ")) : null);
      timeChart(chart, series, { kind: "line", height: 300, xRange: [startMs, endMs], periodMs: p * 1000 });
    } catch (e) {
      mount(chartHost, errorBox(e));
    }
  }
  filter.addEventListener("input", drawMetrics);
  mount(
    body,
    h("div", { class: "toolbar" }, timePicker(range, (r) => ((range = r), drawChart())), h("div", { class: "head-actions" }, statSel, periodSel)),
    chartHost,
    h("div", { class: "browse" }, h("aside", { class: "side" }, h("h2", null, "Namespaces"), nsHost), h("div", { class: "card" }, filter, metricHost)),
  );
  drawNs();
  drawMetrics();
  drawChart();
}
