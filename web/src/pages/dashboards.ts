// Dashboards in CloudWatch's dashboard body JSON (spec §B.3): list (ListDashboards), view
// and edit widgets (metric graph, Logs Insights query, text), save (PutDashboard), delete
// (DeleteDashboards). A body exported from AWS can be pasted and opened as is; metric
// widgets need the metrics API, log widgets run real queries on this server.

import { type AwsError, isUnavailable, monitoring } from "../api";
import { barList, type ChartKind, timeChart } from "../charts";
import { errorBox, fmtBytes, fmtTime, h, mount, parseTimestamp, unavailableBox } from "../dom";
import { columnsOf, hasStats, rowsToObjects, runQuery } from "../insights/query";
import { markdown } from "../markdown";
import { getMetricData, type MetricDataQuery, metricsAvailable, wireTimeMs } from "../metrics";
import { dashboardRange, resolve, type TimeRange, timePicker } from "../time";

/** A widget of a dashboard body. */
export interface Widget {
  type: string;
  x?: number;
  y?: number;
  width?: number;
  height?: number;
  properties?: Record<string, any>;
}

/** A dashboard body (the JSON string of PutDashboard's DashboardBody). */
export interface DashboardBody {
  start?: string;
  end?: string;
  periodOverride?: string;
  widgets: Widget[];
  [k: string]: unknown;
}

const DRAFT_KEY = "openwatch.dashboard-draft";
const NAME_RE = /^[A-Za-z0-9_-]{1,255}$/;

/**
 * Parses a dashboard body. Accepts the body itself, or GetDashboard's answer / an
 * exported file holding `DashboardBody` (a JSON string) and `DashboardName`.
 */
export function parseBody(text: string): { body: DashboardBody; name?: string } {
  let v: any;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new Error(`Not JSON: ${(e as Error).message}`);
  }
  let name: string | undefined;
  if (v && typeof v.DashboardBody === "string") {
    name = typeof v.DashboardName === "string" ? v.DashboardName : undefined;
    v = JSON.parse(v.DashboardBody);
  }
  if (!v || typeof v !== "object" || !Array.isArray(v.widgets)) throw new Error('A dashboard body is an object with a "widgets" array');
  for (const [i, w] of v.widgets.entries()) {
    if (!w || typeof w !== "object" || typeof w.type !== "string") throw new Error(`widgets[${i}] has no "type"`);
  }
  return { body: v as DashboardBody, name };
}

/** The log groups and the query of a log widget's `query` (`SOURCE 'g' | SOURCE 'h' | …`). */
export function splitSources(query: string): { groups: string[]; query: string } {
  const groups: string[] = [];
  let rest = query;
  for (;;) {
    const m = /^\s*SOURCE\s+(['"])((?:(?!\1).)*)\1\s*\|/is.exec(rest);
    if (!m) break;
    groups.push(m[2]);
    rest = rest.slice(m[0].length);
  }
  return { groups, query: rest.trim() };
}

/** A metric widget's `metrics` rows as GetMetricData queries (`.` repeats the row above). */
export function metricQueries(props: Record<string, any>): MetricDataQuery[] {
  const rows: unknown[] = Array.isArray(props.metrics) ? props.metrics : [];
  const out: MetricDataQuery[] = [];
  let prev: string[] = [];
  rows.forEach((row, i) => {
    if (!Array.isArray(row)) return;
    const last = row[row.length - 1];
    const opts: Record<string, any> = last && typeof last === "object" && !Array.isArray(last) ? last : {};
    const parts = (opts === last ? row.slice(0, -1) : row).map((v, k) => (v === "." || v === ".." ? prev[k] ?? "" : String(v)));
    const id = typeof opts.id === "string" && /^[a-z][A-Za-z0-9_]*$/.test(opts.id) ? opts.id : `w${i}`;
    const period = Number(opts.period ?? props.period ?? 300) || 300;
    const returnData = opts.visible !== false;
    if (typeof opts.expression === "string") {
      out.push({ Id: id, Expression: opts.expression, Label: opts.label ?? opts.expression, ReturnData: returnData, Period: period });
      return;
    }
    if (parts.length < 2) return;
    prev = parts;
    const dims = [];
    for (let k = 2; k + 1 < parts.length; k += 2) dims.push({ Name: parts[k], Value: parts[k + 1] });
    out.push({
      Id: id,
      MetricStat: { Metric: { Namespace: parts[0], MetricName: parts[1], Dimensions: dims }, Period: period, Stat: String(opts.stat ?? props.stat ?? "Average") },
      Label: opts.label ?? `${parts[1]}${dims.length ? ` ${dims.map((d) => d.Value).join(" ")}` : ""}`,
      ReturnData: returnData,
    });
  });
  return out;
}

export function dashboardsPage(root: HTMLElement, params: URLSearchParams, path: string[]): () => void {
  const body = h("div", { class: "page-body" }, h("div", { class: "muted pad" }, "Loading…"));
  const head = h("header", { class: "page-head" });
  mount(root, h("div", { class: "page dashboards" }, head, body));
  const state = { disposed: false };
  if (path[0]) openDashboard(head, body, path[0], params.get("edit") === "1", state);
  else listDashboards(head, body);
  return () => {
    state.disposed = true;
  };
}

async function listDashboards(head: HTMLElement, body: HTMLElement) {
  const name = h("input", { placeholder: "new-dashboard-name", "aria-label": "New dashboard name", pattern: "[A-Za-z0-9_-]{1,255}" });
  const paste = h("textarea", { rows: 8, placeholder: '{"widgets": [ … ]}  — a CloudWatch dashboard body, or an exported dashboard', "data-testid": "dashboard-json", spellcheck: "false" });
  const pasteOut = h("div");
  mount(head, h("h1", null, "Dashboards"));
  const listHost = h("div", { class: "card" }, h("div", { class: "muted pad" }, "Loading…"));
  const openPasted = () => {
    try {
      const { body: b, name: n } = parseBody(paste.value);
      sessionStorage.setItem(DRAFT_KEY, JSON.stringify({ body: b, name: n ?? "" }));
      location.hash = "#/dashboards/~draft";
    } catch (e) {
      mount(pasteOut, errorBox(e));
    }
  };
  mount(
    body,
    listHost,
    h(
      "div",
      { class: "card" },
      h("div", { class: "card-head" }, h("h2", null, "Open a dashboard body (JSON)")),
      h("p", { class: "muted" }, "Paste a dashboard exported from AWS CloudWatch (its DashboardBody, or the whole get-dashboard answer) to view or edit it here."),
      paste,
      h("div", { class: "actions" }, h("button", { class: "primary", "data-testid": "open-json", onclick: openPasted }, "Open"), h("button", { onclick: () => ((paste.value = JSON.stringify(SAMPLE, null, 2)), undefined) }, "Insert an example")),
      pasteOut,
    ),
  );
  try {
    const entries: { DashboardName: string; LastModified?: number | string; Size?: number }[] = [];
    let NextToken: string | undefined;
    do {
      const r = await monitoring<{ DashboardEntries?: typeof entries; NextToken?: string }>("ListDashboards", NextToken ? { NextToken } : {});
      entries.push(...(r.DashboardEntries ?? []));
      NextToken = r.NextToken;
    } while (NextToken);
    const createOut = h("div");
    mount(
      listHost,
      h(
        "div",
        { class: "card-head" },
        h("h2", null, "Saved dashboards"),
        h(
          "form",
          {
            class: "inline-form",
            onsubmit: (e: Event) => {
              e.preventDefault();
              if (!NAME_RE.test(name.value)) {
                mount(createOut, h("div", { class: "notice error" }, "Names use letters, digits, - and _ (at most 255)."));
                return;
              }
              sessionStorage.setItem(DRAFT_KEY, JSON.stringify({ body: { widgets: [] }, name: name.value }));
              location.hash = `#/dashboards/~draft?edit=1`;
            },
          },
          name,
          h("button", { class: "primary", type: "submit" }, "Create"),
        ),
      ),
      createOut,
      entries.length === 0
        ? h("div", { class: "empty" }, "No dashboards saved yet.")
        : h(
            "table",
            { class: "grid-table", "data-testid": "dashboards" },
            h("thead", null, h("tr", null, ["Name", "Last modified (UTC)", "Size", ""].map((c) => h("th", null, c)))),
            h(
              "tbody",
              null,
              entries.map((d) =>
                h(
                  "tr",
                  null,
                  h("td", null, h("a", { href: `#/dashboards/${encodeURIComponent(d.DashboardName)}` }, d.DashboardName)),
                  h("td", null, fmtTime(d.LastModified === undefined ? undefined : wireTimeMs(d.LastModified))),
                  h("td", null, fmtBytes(d.Size)),
                  h(
                    "td",
                    null,
                    h(
                      "button",
                      {
                        class: "small danger",
                        onclick: async () => {
                          if (!confirm(`Delete dashboard ${d.DashboardName}?`)) return;
                          try {
                            await monitoring("DeleteDashboards", { DashboardNames: [d.DashboardName] });
                            listDashboards(head, body);
                          } catch (e) {
                            alert((e as Error).message);
                          }
                        },
                      },
                      "Delete",
                    ),
                  ),
                ),
              ),
            ),
          ),
    );
  } catch (e) {
    mount(listHost, isUnavailable(e) ? unavailableBox("Saved dashboards", ["ListDashboards", "GetDashboard", "PutDashboard", "DeleteDashboards"]) : errorBox(e));
  }
}

async function openDashboard(head: HTMLElement, host: HTMLElement, name: string, editing: boolean, life: { disposed: boolean }) {
  let body: DashboardBody;
  let dashName = name;
  const draft = name === "~draft";
  try {
    if (draft) {
      const d = JSON.parse(sessionStorage.getItem(DRAFT_KEY) ?? "null");
      if (!d) throw new Error("No dashboard to open: paste one on the Dashboards page.");
      body = d.body;
      dashName = d.name ?? "";
    } else {
      const r = await monitoring<{ DashboardBody: string; DashboardName: string }>("GetDashboard", { DashboardName: name });
      body = parseBody(r.DashboardBody).body;
    }
  } catch (e) {
    mount(head, h("div", null, h("a", { href: "#/dashboards", class: "muted" }, "Dashboards"), " / ", h("h1", { class: "inline" }, name)));
    mount(host, isUnavailable(e) ? unavailableBox("Dashboards", ["GetDashboard"]) : errorBox(e));
    return;
  }
  let range: TimeRange = dashboardRange(body.start, body.end);
  const grid = h("div", { class: "dash-grid", "data-testid": "dashboard-grid" });
  const saveOut = h("div");
  const nameInput = h("input", { value: dashName, placeholder: "dashboard-name", "aria-label": "Dashboard name", "data-testid": "dashboard-name" });
  let metricsOk: boolean | null = null;
  metricsAvailable()
    .then((ok) => (metricsOk = ok))
    .catch(() => (metricsOk = false));

  const keepDraft = () => sessionStorage.setItem(DRAFT_KEY, JSON.stringify({ body, name: nameInput.value }));

  async function save() {
    const n = nameInput.value.trim();
    if (!NAME_RE.test(n)) {
      mount(saveOut, h("div", { class: "notice error" }, "Dashboard names use letters, digits, - and _ (at most 255)."));
      return;
    }
    try {
      const r = await monitoring<{ DashboardValidationMessages?: { DataPath?: string; Message?: string }[] }>("PutDashboard", { DashboardName: n, DashboardBody: JSON.stringify(body) });
      const msgs = r.DashboardValidationMessages ?? [];
      mount(saveOut, h("div", { class: "notice ok" }, `Saved ${n}.`, msgs.map((m) => h("div", null, `${m.DataPath ?? ""}: ${m.Message ?? ""}`))));
      if (draft) location.hash = `#/dashboards/${encodeURIComponent(n)}`;
    } catch (e) {
      const err = e as AwsError;
      const msgs: any[] = (err.body as any)?.dashboardValidationMessages ?? (err.body as any)?.DashboardValidationMessages ?? [];
      mount(
        saveOut,
        isUnavailable(e)
          ? unavailableBox("Saving dashboards", ["PutDashboard"])
          : h("div", null, errorBox(e), msgs.map((m) => h("div", { class: "muted" }, `${m.DataPath ?? ""}: ${m.Message ?? ""}`))),
      );
    }
  }

  const renderHead = () =>
    mount(
      head,
      h("div", null, h("a", { href: "#/dashboards", class: "muted" }, "Dashboards"), " / ", h("h1", { class: "inline" }, dashName || "Unsaved dashboard"), draft ? h("span", { class: "badge" }, "not saved") : null),
      h(
        "div",
        { class: "head-actions" },
        timePicker(range, (r) => ((range = r), renderGrid())),
        h("button", { class: editing ? "active" : "", "data-testid": "edit-dashboard", onclick: () => ((editing = !editing), renderHead(), renderGrid()) }, editing ? "Done editing" : "Edit"),
        h(
          "button",
          {
            onclick: () => {
              const blob = JSON.stringify(body, null, 2);
              const a = h("a", { href: URL.createObjectURL(new Blob([blob], { type: "application/json" })), download: `${nameInput.value || "dashboard"}.json` });
              a.click();
            },
          },
          "Download JSON",
        ),
      ),
    );

  function renderGrid() {
    if (life.disposed) return;
    const toolbar = editing
      ? h(
          "div",
          { class: "card edit-bar" },
          h("label", null, "Name ", nameInput),
          h("button", { onclick: () => addWidget("metric") }, "+ Metric graph"),
          h("button", { onclick: () => addWidget("log") }, "+ Logs Insights query"),
          h("button", { onclick: () => addWidget("text") }, "+ Text"),
          h("button", { onclick: () => editJson() }, "Edit body JSON"),
          h("button", { class: "primary", "data-testid": "save-dashboard", onclick: save }, "Save"),
          saveOut,
        )
      : saveOut;
    grid.replaceChildren();
    if (body.widgets.length === 0) grid.append(h("div", { class: "empty", style: "grid-column: 1 / -1" }, editing ? "Add a widget to start." : "This dashboard has no widgets."));
    body.widgets.forEach((w, i) => grid.append(widgetBox(w, i)));
    mount(host, toolbar, grid);
  }

  function nextY(): number {
    return body.widgets.reduce((m, w) => Math.max(m, (w.y ?? 0) + (w.height ?? 6)), 0);
  }

  function addWidget(type: "metric" | "log" | "text") {
    const w: Widget =
      type === "text"
        ? { type, x: 0, y: nextY(), width: 24, height: 2, properties: { markdown: "## Notes\nWrite **Markdown** here." } }
        : type === "log"
          ? { type, x: 0, y: nextY(), width: 12, height: 6, properties: { query: "SOURCE 'my-log-group' | stats count(*) by bin(1h)", view: "timeSeries", title: "Events per hour", region: "us-east-1" } }
          : { type, x: 0, y: nextY(), width: 12, height: 6, properties: { metrics: [["MyNamespace", "MyMetric"]], view: "timeSeries", stat: "Average", period: 300, title: "MyMetric", region: "us-east-1" } };
    body.widgets.push(w);
    keepDraft();
    renderGrid();
    editWidget(body.widgets.length - 1);
  }

  function editJson() {
    const ta = h("textarea", { rows: 24, spellcheck: "false", class: "mono" });
    ta.value = JSON.stringify(body, null, 2);
    const out = h("div");
    const dlg = dialog("Dashboard body (JSON)", [ta, out], () => {
      try {
        body = parseBody(ta.value).body;
        keepDraft();
        renderGrid();
        return true;
      } catch (e) {
        mount(out, errorBox(e));
        return false;
      }
    });
    document.body.append(dlg);
    dlg.showModal();
  }

  function editWidget(i: number) {
    const w = body.widgets[i];
    const p = (w.properties ??= {});
    const fields: HTMLElement[] = [];
    const title = h("input", { value: p.title ?? "" });
    const num = (v: number | undefined, d: number, max: number) => h("input", { type: "number", min: "0", max: String(max), value: String(v ?? d) });
    const x = num(w.x, 0, 23);
    const y = num(w.y, 0, 1000);
    const width = num(w.width, 6, 24);
    const height = num(w.height, 6, 1000);
    let apply: () => void = () => {};
    if (w.type === "text") {
      const md = h("textarea", { rows: 10, class: "mono" });
      md.value = p.markdown ?? "";
      fields.push(h("label", null, "Markdown", md));
      apply = () => (p.markdown = md.value);
    } else if (w.type === "log") {
      const { groups, query } = splitSources(p.query ?? "");
      const g = h("input", { value: groups.join(", "), placeholder: "log-group-a, log-group-b" });
      const q = h("textarea", { rows: 6, class: "mono" });
      q.value = query;
      const view = h("select", null, ["table", "timeSeries", "bar"].map((v) => h("option", { value: v, selected: (p.view ?? "table") === v }, v)));
      fields.push(h("label", null, "Log groups (comma-separated)", g), h("label", null, "Query", q), h("label", null, "View", view));
      apply = () => {
        const gs = g.value.split(",").map((s) => s.trim()).filter(Boolean);
        p.query = [...gs.map((s) => `SOURCE '${s.replace(/'/g, "")}'`), q.value.trim()].join(" | ");
        p.view = view.value;
      };
    } else {
      const m = h("textarea", { rows: 6, class: "mono" });
      m.value = JSON.stringify(p.metrics ?? [], null, 1);
      const stat = h("input", { value: p.stat ?? "Average" });
      const period = h("input", { type: "number", min: "1", value: String(p.period ?? 300) });
      const view = h("select", null, ["timeSeries", "singleValue", "bar"].map((v) => h("option", { value: v, selected: (p.view ?? "timeSeries") === v }, v)));
      const stacked = h("input", { type: "checkbox", checked: !!p.stacked });
      fields.push(
        h("label", null, 'Metrics (rows of [Namespace, MetricName, DimName, DimValue, …, {options}])', m),
        h("div", { class: "row-fields" }, h("label", null, "Stat", stat), h("label", null, "Period (s)", period), h("label", null, "View", view), h("label", { class: "check" }, stacked, "Stacked")),
      );
      apply = () => {
        p.metrics = JSON.parse(m.value);
        p.stat = stat.value;
        p.period = Number(period.value) || 300;
        p.view = view.value;
        p.stacked = stacked.checked;
      };
    }
    const out = h("div");
    const dlg = dialog(
      `Edit ${w.type} widget`,
      [h("label", null, "Title", title), ...fields, h("div", { class: "row-fields" }, h("label", null, "x", x), h("label", null, "y", y), h("label", null, "Width (of 24)", width), h("label", null, "Height", height)), out],
      () => {
        try {
          apply();
        } catch (e) {
          mount(out, errorBox(e));
          return false;
        }
        if (title.value) p.title = title.value;
        else delete p.title;
        w.x = clamp(Number(x.value), 0, 23);
        w.y = clamp(Number(y.value), 0, 10000);
        w.width = clamp(Number(width.value), 1, 24);
        w.height = clamp(Number(height.value), 1, 1000);
        keepDraft();
        renderGrid();
        return true;
      },
    );
    document.body.append(dlg);
    dlg.showModal();
  }

  function widgetBox(w: Widget, i: number): HTMLElement {
    const p = w.properties ?? {};
    const content = h("div", { class: "widget-body" });
    const box = h(
      "section",
      {
        class: `widget widget-${w.type}`,
        "data-testid": `widget-${w.type}`,
        style: `grid-column: ${clamp(w.x ?? 0, 0, 23) + 1} / span ${clamp(w.width ?? 6, 1, 24)}; grid-row: ${(w.y ?? 0) + 1} / span ${Math.max(1, w.height ?? 6)}`,
      },
      w.type !== "text" || p.title || editing
        ? h(
            "header",
            { class: "widget-head" },
            h("h3", null, p.title ?? (w.type === "log" ? "Logs Insights" : w.type === "metric" ? "Metric" : "")),
            editing
              ? h(
                  "span",
                  { class: "widget-tools" },
                  h("button", { class: "icon", title: "Edit", "aria-label": "Edit widget", onclick: () => editWidget(i) }, "✎"),
                  h("button", { class: "icon", title: "Remove", "aria-label": "Remove widget", onclick: () => (body.widgets.splice(i, 1), keepDraft(), renderGrid()) }, "✕"),
                )
              : null,
          )
        : null,
      content,
    );
    if (w.type === "text") {
      content.classList.add("markdown");
      content.innerHTML = markdown(String(p.markdown ?? ""));
    } else if (w.type === "log") logWidget(content, p);
    else if (w.type === "metric") metricWidget(content, p);
    else content.append(h("div", { class: "muted" }, `Widgets of type "${w.type}" are not supported by this console.`));
    return box;
  }

  async function logWidget(el: HTMLElement, p: Record<string, any>) {
    const { groups, query } = splitSources(String(p.query ?? ""));
    if (groups.length === 0 || !query) {
      mount(el, h("div", { class: "notice error" }, "The query names no log group: start it with SOURCE '<log group>' |"));
      return;
    }
    mount(el, h("div", { class: "muted pad" }, h("span", { class: "spinner" }), " Running…"));
    const { startMs, endMs } = resolve(range);
    try {
      const r = await runQuery({ logGroupNames: groups, startMs, endMs, queryString: query });
      const rows = r.results ?? [];
      const cols = columnsOf(rows);
      const objs = rowsToObjects(rows);
      if (rows.length === 0) {
        mount(el, h("div", { class: "empty" }, "No results."));
        return;
      }
      const view = String(p.view ?? "table");
      const timeCol = cols.find((c) => objs.every((o) => o[c] === undefined || parseTimestamp(o[c]) !== undefined));
      const numeric = cols.filter((c) => c !== timeCol && objs.every((o) => o[c] === undefined || Number.isFinite(Number(o[c]))));
      const groupCols = cols.filter((c) => c !== timeCol && !numeric.includes(c));
      if ((view === "timeSeries" || view === "bar") && hasStats(query) && numeric.length) {
        const chart = h("div", { "data-testid": "log-widget-chart" });
        mount(el, chart);
        if (timeCol) {
          const series = new Map<string, [number, number][]>();
          for (const o of objs) {
            const t = parseTimestamp(o[timeCol]);
            if (t === undefined) continue;
            for (const n of numeric) {
              const key = [groupCols.map((g) => o[g]).join(" · "), numeric.length > 1 ? n : ""].filter(Boolean).join(" · ") || n;
              series.set(key, [...(series.get(key) ?? []), [t, Number(o[n])]]);
            }
          }
          const kind: ChartKind = view === "bar" ? "bar" : p.stacked ? "area" : "line";
          timeChart(chart, [...series].map(([name, points]) => ({ name, points: points.sort((a, b) => a[0] - b[0]) })), { kind, stacked: !!p.stacked, height: Math.max(120, (el.clientHeight || 200) - 40) });
        } else {
          barList(chart, objs.map((o) => ({ label: groupCols.map((g) => o[g]).join(" · "), value: Number(o[numeric[0]]) })));
        }
        return;
      }
      mount(
        el,
        h(
          "div",
          { class: "table-scroll" },
          h(
            "table",
            { class: "grid-table compact", "data-testid": "log-widget-table" },
            h("thead", null, h("tr", null, cols.map((c) => h("th", null, c)))),
            h("tbody", null, objs.slice(0, 200).map((o) => h("tr", null, cols.map((c) => h("td", { title: o[c] ?? "" }, o[c] ?? ""))))),
          ),
        ),
      );
    } catch (e) {
      mount(el, errorBox(e));
    }
  }

  async function metricWidget(el: HTMLElement, p: Record<string, any>) {
    if (metricsOk === null) {
      try {
        metricsOk = await metricsAvailable();
      } catch {
        metricsOk = false;
      }
    }
    if (!metricsOk) {
      mount(el, h("div", { class: "notice unavailable small-text", "data-testid": "unavailable" }, "Metrics are not available on this server (no GetMetricData)."));
      return;
    }
    const queries = metricQueries(p);
    if (queries.length === 0) {
      mount(el, h("div", { class: "muted" }, "No metrics in this widget."));
      return;
    }
    const { startMs, endMs } = resolve(range);
    try {
      const { series } = await getMetricData(queries, startMs, endMs);
      if (p.view === "singleValue") {
        mount(el, h("div", { class: "single-values" }, series.map((s) => h("div", { class: "single" }, h("div", { class: "big-number" }, s.points.length ? String(+s.points[s.points.length - 1][1].toFixed(3)) : "—"), h("div", { class: "muted" }, s.name)))));
        return;
      }
      const chart = h("div");
      mount(el, chart);
      const ann = p.annotations?.horizontal?.[0];
      timeChart(chart, series, {
        kind: p.view === "bar" ? "bar" : p.stacked ? "area" : "line",
        stacked: !!p.stacked,
        height: Math.max(120, (el.clientHeight || 200) - 40),
        xRange: [startMs, endMs],
        threshold: ann && Number.isFinite(Number(ann.value)) ? { value: Number(ann.value), label: String(ann.label ?? ann.value) } : undefined,
      });
    } catch (e) {
      mount(el, errorBox(e));
    }
  }

  renderHead();
  renderGrid();
}

function clamp(v: number, lo: number, hi: number): number {
  return Number.isFinite(v) ? Math.min(hi, Math.max(lo, Math.round(v))) : lo;
}

function dialog(title: string, content: HTMLElement[], onOk: () => boolean): HTMLDialogElement {
  const dlg = h("dialog", { class: "dialog" });
  dlg.append(
    h(
      "form",
      {
        method: "dialog",
        onsubmit: (e: Event) => {
          e.preventDefault();
          if (onOk()) {
            dlg.close();
            dlg.remove();
          }
        },
      },
      h("h2", null, title),
      content,
      h("div", { class: "actions" }, h("button", { class: "primary", type: "submit" }, "Apply"), h("button", { type: "button", onclick: () => (dlg.close(), dlg.remove()) }, "Cancel")),
    ),
  );
  return dlg;
}

/** The example offered on the Dashboards page (log widgets query a group named "cloudtrail"). */
const SAMPLE: DashboardBody = {
  start: "-P7D",
  widgets: [
    { type: "text", x: 0, y: 0, width: 24, height: 2, properties: { markdown: "## CloudTrail overview\nEvents and errors from the **cloudtrail** log group." } },
    {
      type: "log",
      x: 0,
      y: 2,
      width: 12,
      height: 6,
      properties: { title: "Top event sources", view: "bar", region: "us-east-1", query: "SOURCE 'cloudtrail' | stats count(*) as events by eventSource | sort events desc | limit 10" },
    },
    {
      type: "log",
      x: 12,
      y: 2,
      width: 12,
      height: 6,
      properties: { title: "Errors", view: "table", region: "us-east-1", query: "SOURCE 'cloudtrail' | filter ispresent(errorCode) | stats count(*) as n by errorCode | sort n desc | limit 20" },
    },
    { type: "metric", x: 0, y: 8, width: 24, height: 6, properties: { title: "CloudTrail event count", view: "timeSeries", stat: "Sum", period: 300, region: "us-east-1", metrics: [["CloudTrailMetrics", "EventCount"]] } },
  ],
};

