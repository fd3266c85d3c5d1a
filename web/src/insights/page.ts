// The Logs Insights page: editor, log group and time range pickers, run/cancel, results
// table, histogram, visualization, export, saved queries and history.

import { closeBrackets } from "@codemirror/autocomplete";
import { defaultKeymap, history, historyKeymap } from "@codemirror/commands";
import { bracketMatching } from "@codemirror/language";
import { lintGutter } from "@codemirror/lint";
import { EditorState } from "@codemirror/state";
import { EditorView, keymap, placeholder } from "@codemirror/view";
import { allLogGroups, logs, newestEventMs, type QueryResults, type ResultField } from "../api";
import { barList, type ChartKind, type Series, timeChart } from "../charts";
import { download, errorBox, fmtBytes, fmtCount, fmtTime, h, mount, naturalCompare, parseTimestamp } from "../dom";
import { describe, resolve, type TimeRange, timePicker } from "../time";
import { clearDiagnostics, diagnosticsExtension, type FieldInfo, fieldRef, insightsCompletion, insightsSupport, showDiagnostics } from "./language";
import { binFor, columnsOf, HELPER_SUFFIX, compileError, hasStats, histogramQuery, rowsToObjects, runQuery, spanQuery } from "./query";

const PREFS = "openwatch.insights";

/** The last results, kept while the tab lives so that leaving the page and coming back keeps them. */
const memo: { rows: ResultField[][]; query: string; status: Node[] } = { rows: [], query: "", status: [] };
const DEFAULT_QUERY = "fields @timestamp, @message, @logStream, @log\n| sort @timestamp desc\n| limit 100";

interface Prefs {
  groups: string[];
  query: string;
  range: TimeRange;
}

function loadPrefs(): Prefs {
  try {
    const p = JSON.parse(localStorage.getItem(PREFS) ?? "{}");
    return { groups: Array.isArray(p.groups) ? p.groups : [], query: typeof p.query === "string" ? p.query : DEFAULT_QUERY, range: p.range ?? { kind: "relative", seconds: 3600 } };
  } catch {
    return { groups: [], query: DEFAULT_QUERY, range: { kind: "relative", seconds: 3600 } };
  }
}

/** Renders the Insights page into `root`; `params` may carry `group` and `query` from links. */
export function insightsPage(root: HTMLElement, params: URLSearchParams): () => void {
  const prefs = loadPrefs();
  if (params.get("group")) prefs.groups = params.getAll("group");
  if (params.get("query")) prefs.query = params.get("query")!;
  let range: TimeRange = prefs.range;
  let selected = new Set(prefs.groups);
  let fields: FieldInfo[] = [];
  let current: AbortController | null = null;
  let lastRows: ResultField[][] = memo.rows;
  let lastQuery = memo.query;
  let definitionId: string | undefined;
  let sortCol: string | null = null;
  let sortDesc = false;
  let tab: "logs" | "viz" = "logs";
  let chartKind: ChartKind = "line";
  const savePrefs = () =>
    localStorage.setItem(PREFS, JSON.stringify({ groups: [...selected], query: view.state.doc.toString(), range }));

  // ---- editor ----
  const editorHost = h("div", { class: "editor", "data-testid": "editor" });
  const view = new EditorView({
    parent: editorHost,
    state: EditorState.create({
      doc: prefs.query,
      extensions: [
        history(),
        closeBrackets(),
        bracketMatching(),
        insightsSupport(),
        insightsCompletion(() => fields),
        diagnosticsExtension(),
        lintGutter(),
        placeholder("fields @timestamp, @message | sort @timestamp desc | limit 20"),
        keymap.of([
          { key: "Mod-Enter", run: () => (run(), true) },
          { key: "Shift-Enter", run: () => (run(), true) },
          ...defaultKeymap,
          ...historyKeymap,
        ]),
        EditorView.lineWrapping,
        EditorView.updateListener.of((u) => u.docChanged && savePrefs()),
      ],
    }),
  });

  // ---- log group picker ----
  const groupChips = h("div", { class: "chips", "data-testid": "selected-groups" });
  const groupList = h("div", { class: "picker-list" });
  const groupFilter = h("input", { type: "search", placeholder: "Filter log groups", "aria-label": "Filter log groups" });
  const groupPopover = h("div", { class: "popover", hidden: true }, groupFilter, groupList);
  let allGroups: string[] = [];
  const renderGroups = () => {
    const f = groupFilter.value.toLowerCase();
    mount(
      groupList,
      allGroups.length === 0 ? h("div", { class: "muted pad" }, "No log groups yet. Import logs with `openwatch import`, or PutLogEvents.") : null,
      allGroups
        .filter((g) => g.toLowerCase().includes(f))
        .map((g) =>
          h(
            "label",
            { class: "picker-item" },
            h("input", {
              type: "checkbox",
              checked: selected.has(g),
              "data-group": g,
              onchange: (e: Event) => {
                (e.target as HTMLInputElement).checked ? selected.add(g) : selected.delete(g);
                groupsChanged();
              },
            }),
            g,
          ),
        ),
    );
    mount(
      groupChips,
      selected.size === 0 ? h("span", { class: "muted" }, "No log group selected") : null,
      [...selected].map((g) =>
        h("span", { class: "chip" }, g, h("button", { class: "chip-x", title: `Remove ${g}`, "aria-label": `Remove ${g}`, onclick: () => (selected.delete(g), groupsChanged()) }, "×")),
      ),
    );
  };
  groupFilter.addEventListener("input", renderGroups);
  const groupButton = h(
    "button",
    {
      class: "picker-button",
      "data-testid": "group-picker",
      "aria-haspopup": "true",
      onclick: (e: Event) => {
        e.stopPropagation();
        groupPopover.hidden = !groupPopover.hidden;
        if (!groupPopover.hidden) groupFilter.focus();
      },
    },
    "Log groups ▾",
  );
  const closePopover = (e: Event) => {
    if (!groupPopover.contains(e.target as Node)) groupPopover.hidden = true;
  };
  document.addEventListener("click", closePopover);
  const groupsChanged = () => {
    renderGroups();
    savePrefs();
    loadFields();
  };
  allLogGroups()
    .then((gs) => {
      allGroups = gs.map((g) => g.logGroupName);
      // Drop remembered groups that no longer exist.
      selected = new Set([...selected].filter((g) => allGroups.includes(g)));
      if (selected.size === 0 && allGroups.length === 1) selected.add(allGroups[0]);
      renderGroups();
      loadFields();
    })
    .catch((e) => mount(groupList, errorBox(e)));

  // ---- discovered fields ----
  const fieldsPanel = h("div", { class: "side-list", "data-testid": "fields" });
  async function loadFields() {
    const groups = [...selected];
    if (groups.length === 0) {
      fields = [];
      renderFields();
      return;
    }
    const merged = new Map<string, number>();
    mount(fieldsPanel, h("div", { class: "muted pad" }, h("span", { class: "spinner" }), " Discovering fields…"));
    await Promise.all(
      groups.slice(0, 10).map(async (g) => {
        try {
          // GetLogGroupFields looks ±8 minutes around `time` (s); use the group's newest event.
          const newest = await newestEventMs(g);
          const r = await logs<{ logGroupFields?: FieldInfo[] }>("GetLogGroupFields", {
            logGroupName: g,
            ...(newest !== undefined ? { time: Math.floor(newest / 1000) } : {}),
          });
          for (const f of r.logGroupFields ?? []) merged.set(f.name, Math.max(merged.get(f.name) ?? 0, f.percent));
        } catch {
          /* a group without events has no fields */
        }
      }),
    );
    fields = [...merged].map(([name, percent]) => ({ name, percent })).sort((a, b) => b.percent - a.percent || a.name.localeCompare(b.name));
    renderFields();
  }
  const renderFields = () =>
    mount(
      fieldsPanel,
      fields.length === 0 ? h("div", { class: "muted pad" }, "Select a log group to see its discovered fields.") : null,
      fields.map((f) =>
        h(
          "button",
          {
            class: "side-item field",
            title: `Insert ${f.name}`,
            onclick: () => {
              const pos = view.state.selection.main.head;
              view.dispatch({ changes: { from: pos, insert: fieldRef(f.name) }, selection: { anchor: pos + fieldRef(f.name).length } });
              view.focus();
            },
          },
          h("span", { class: "field-name" }, f.name),
          h("span", { class: "muted" }, `${f.percent}%`),
        ),
      ),
    );

  // ---- saved queries and history ----
  const savedPanel = h("div", { class: "side-list", "data-testid": "saved" });
  const historyPanel = h("div", { class: "side-list", "data-testid": "history" });
  const saveName = h("input", { type: "text", placeholder: "Query name", "aria-label": "Query name", "data-testid": "save-name" });
  async function loadSaved() {
    try {
      const r = await logs<{ queryDefinitions?: any[] }>("DescribeQueryDefinitions", { maxResults: 1000 });
      const defs = r.queryDefinitions ?? [];
      mount(
        savedPanel,
        defs.length === 0 ? h("div", { class: "muted pad" }, "No saved queries.") : null,
        defs.map((d) =>
          h(
            "div",
            { class: "side-item saved" },
            h(
              "button",
              {
                class: "link",
                title: d.queryString,
                onclick: () => {
                  definitionId = d.queryDefinitionId;
                  saveName.value = d.name;
                  setQuery(d.queryString);
                  if (Array.isArray(d.logGroupNames) && d.logGroupNames.length) {
                    selected = new Set(d.logGroupNames);
                    groupsChanged();
                  }
                },
              },
              d.name,
            ),
            h(
              "button",
              {
                class: "icon",
                title: `Delete ${d.name}`,
                "aria-label": `Delete ${d.name}`,
                onclick: async () => {
                  if (!confirm(`Delete the saved query "${d.name}"?`)) return;
                  await logs("DeleteQueryDefinition", { queryDefinitionId: d.queryDefinitionId }).catch((e) => alert(e.message));
                  if (definitionId === d.queryDefinitionId) definitionId = undefined;
                  loadSaved();
                },
              },
              "🗑",
            ),
          ),
        ),
      );
    } catch (e) {
      mount(savedPanel, errorBox(e));
    }
  }
  async function save() {
    const name = saveName.value.trim();
    if (!name) {
      saveName.setCustomValidity("Give the query a name");
      saveName.reportValidity();
      return;
    }
    saveName.setCustomValidity("");
    try {
      const r = await logs<{ queryDefinitionId: string }>("PutQueryDefinition", {
        name,
        queryString: view.state.doc.toString(),
        logGroupNames: [...selected],
        ...(definitionId ? { queryDefinitionId: definitionId } : {}),
      });
      definitionId = r.queryDefinitionId;
      loadSaved();
    } catch (e) {
      alert((e as Error).message);
    }
  }
  async function loadHistory() {
    try {
      const r = await logs<{ queries?: any[] }>("DescribeQueries", { maxResults: 50 });
      // The histogram's helper queries (HELPER_SUFFIX) are the console's, not the user's.
      const qs = (r.queries ?? [])
        .filter((q) => !HELPER_SUFFIX.test(String(q.queryString ?? "")))
        .sort((a, b) => (b.createTime ?? 0) - (a.createTime ?? 0));
      mount(
        historyPanel,
        qs.length === 0 ? h("div", { class: "muted pad" }, "No queries run yet.") : null,
        qs.map((q) =>
          h(
            "button",
            { class: "side-item history", title: q.queryString, onclick: () => setQuery(q.queryString) },
            h("span", { class: `status ${String(q.status).toLowerCase()}` }, q.status),
            h("span", { class: "muted" }, fmtTime(q.createTime)),
            h("code", { class: "history-query" }, String(q.queryString ?? "").replace(/\s+/g, " ")),
          ),
        ),
      );
    } catch (e) {
      mount(historyPanel, errorBox(e));
    }
  }
  const setQuery = (q: string) => {
    view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: q } });
    clearDiagnostics(view);
    view.focus();
  };
  let sideTab: "fields" | "saved" | "history" = "fields";
  const sideBody = h("div", { class: "side-body" });
  const sideTabs = h("div", { class: "tabs small" });
  const renderSide = () => {
    mount(
      sideTabs,
      (["fields", "saved", "history"] as const).map((t) =>
        h("button", { class: `tab ${sideTab === t ? "active" : ""}`, "data-testid": `side-${t}`, onclick: () => ((sideTab = t), renderSide(), t === "history" ? loadHistory() : t === "saved" ? loadSaved() : null) }, t === "fields" ? "Fields" : t === "saved" ? "Saved" : "History"),
      ),
    );
    mount(
      sideBody,
      sideTab === "fields" ? fieldsPanel : null,
      sideTab === "saved" ? [h("div", { class: "save-row" }, saveName, h("button", { class: "small", "data-testid": "save-query", onclick: save }, "Save")), savedPanel] : null,
      sideTab === "history" ? historyPanel : null,
    );
  };
  renderSide();
  renderFields();

  // ---- run / cancel ----
  const runButton = h("button", { class: "primary", "data-testid": "run", onclick: () => run() }, "Run query");
  const cancelButton = h("button", { class: "danger", "data-testid": "cancel", disabled: true, onclick: () => current?.abort() }, "Cancel");
  const status = h("div", { class: "status-line", "data-testid": "status", "aria-live": "polite" });
  const histogram = h("div", { class: "histogram", "data-testid": "histogram" });
  const resultsHost = h("div", { class: "results", "data-testid": "results" });
  const vizHost = h("div", { class: "viz", "data-testid": "visualization" });
  const tabs = h("div", { class: "tabs" });
  const exportButtons = h(
    "div",
    { class: "export" },
    h("button", { class: "small", "data-testid": "export-csv", onclick: () => exportRows("csv") }, "Export CSV"),
    h("button", { class: "small", "data-testid": "export-json", onclick: () => exportRows("json") }, "Export JSON"),
  );
  const renderTabs = () => {
    mount(
      tabs,
      h("button", { class: `tab ${tab === "logs" ? "active" : ""}`, "data-testid": "tab-logs", onclick: () => ((tab = "logs"), renderTabs()) }, `Logs (${fmtCount(lastRows.length)})`),
      h("button", { class: `tab ${tab === "viz" ? "active" : ""}`, "data-testid": "tab-viz", onclick: () => ((tab = "viz"), renderTabs(), renderViz()) }, "Visualization"),
      exportButtons,
    );
    resultsHost.hidden = tab !== "logs";
    histogram.hidden = tab !== "logs" || histogram.childElementCount === 0;
    vizHost.hidden = tab !== "viz";
  };

  function setRunning(on: boolean) {
    runButton.disabled = on;
    cancelButton.disabled = !on;
    root.classList.toggle("running", on);
  }

  function statsText(r: QueryResults, elapsedMs: number): string {
    const st = r.statistics ?? {};
    return `${r.status} · ${fmtCount(r.results?.length ?? 0)} rows · ${fmtCount(st.recordsMatched)} records matched · ${fmtCount(st.recordsScanned)} scanned · ${fmtBytes(st.bytesScanned)} · ${(elapsedMs / 1000).toFixed(1)} s`;
  }

  async function run() {
    if (current) return;
    const query = view.state.doc.toString();
    if (!query.trim()) return;
    const groups = [...selected];
    if (groups.length === 0 && !/^\s*source\b/i.test(query)) {
      mount(status, h("span", { class: "warn" }, "Select at least one log group (or start the query with SOURCE)."));
      groupPopover.hidden = false;
      return;
    }
    clearDiagnostics(view);
    savePrefs();
    const { startMs, endMs } = resolve(range);
    const ctrl = new AbortController();
    current = ctrl;
    setRunning(true);
    const t0 = performance.now();
    mount(status, h("span", { class: "spinner" }), " Running…");
    lastQuery = query;
    sortCol = null;
    mount(histogram);
    const histogramDone = drawHistogram(query, groups, startMs, endMs, ctrl.signal);
    try {
      const r = await runQuery({ logGroupNames: groups, startMs, endMs, queryString: query }, (p) => {
        lastRows = p.results ?? [];
        mount(status, p.status === "Complete" ? "" : h("span", { class: "spinner" }), statsText(p, performance.now() - t0));
        renderResults();
        renderTabs();
      }, ctrl.signal);
      lastRows = r.results ?? [];
      mount(status, h("span", { class: `status ${r.status.toLowerCase()}` }, r.status), " ", statsText(r, performance.now() - t0).replace(/^\w+ · /, ""));
      if (hasStats(query) && columnsOf(lastRows).some((c) => /bin\(/i.test(c) || isTimeColumn(lastRows, c))) tab = "viz";
      else if (!hasStats(query)) tab = "logs";
      renderResults();
      renderTabs();
      if (tab === "viz") renderViz();
    } catch (e) {
      const ce = compileError(e);
      if (ce) {
        showDiagnostics(view, [ce]);
        mount(status, h("span", { class: "status failed" }, "Malformed query"), " ", ce.message);
      } else if ((e as Error).name !== "AbortError") {
        mount(status, errorBox(e));
      }
    } finally {
      memo.rows = lastRows;
      memo.query = lastQuery;
      memo.status = [...status.childNodes];
      await histogramDone.catch(() => {});
      current = null;
      setRunning(false);
      renderTabs();
      if (sideTab === "history") loadHistory();
    }
  }

  async function drawHistogram(query: string, groups: string[], startMs: number, endMs: number, signal: AbortSignal) {
    if (hasStats(query)) return;
    let lo = startMs;
    let hi = endMs;
    if (range.kind === "all") {
      const sq = spanQuery(query);
      if (!sq) return;
      const span = await runQuery({ logGroupNames: groups, startMs, endMs, queryString: sq }, undefined, signal).catch(() => null);
      const row = span?.results?.[0];
      const first = parseTimestamp(row?.find((f) => f.field === "first")?.value);
      const last = parseTimestamp(row?.find((f) => f.field === "last")?.value);
      if (first === undefined || last === undefined) return;
      lo = first;
      hi = last + 1;
    }
    const [period, periodMs] = binFor(hi - lo);
    const hq = histogramQuery(query, period);
    if (!hq || signal.aborted) return;
    const r = await runQuery({ logGroupNames: groups, startMs: lo, endMs: hi, queryString: hq }, undefined, signal).catch(() => null);
    if (!r || r.status !== "Complete") return;
    const points: [number, number][] = [];
    for (const row of r.results ?? []) {
      const t = parseTimestamp(row.find((f) => f.field !== "events")?.value);
      const v = Number(row.find((f) => f.field === "events")?.value);
      if (t !== undefined && Number.isFinite(v)) points.push([t, v]);
    }
    const x0 = Math.floor(lo / periodMs) * periodMs;
    const x1 = Math.ceil(hi / periodMs) * periodMs;
    histogram.replaceChildren();
    const chart = h("div", { class: "histogram-chart" });
    histogram.append(h("div", { class: "histogram-title" }, `Matched events per ${period}`, h("span", { class: "muted" }, ` · ${describe(range)}`)), chart);
    histogram.hidden = tab !== "logs";
    timeChart(chart, [{ name: "", points }], { kind: "bar", height: 110, periodMs, xRange: [x0, x1], yLabel: "events" });
  }

  // ---- results table ----
  const MAX_RENDER = 1000;
  let renderLimit = MAX_RENDER;
  function sortedRows(): ResultField[][] {
    if (!sortCol) return lastRows;
    const col = sortCol;
    const val = (r: ResultField[]) => r.find((f) => f.field === col)?.value;
    const rows = lastRows.slice().sort((a, b) => naturalCompare(val(a), val(b)));
    return sortDesc ? rows.reverse() : rows;
  }
  function renderResults() {
    const cols = columnsOf(lastRows);
    if (lastRows.length === 0) {
      mount(resultsHost, h("div", { class: "empty" }, lastQuery ? "No records match this query in the time range." : "Run a query to see records."));
      return;
    }
    const rows = sortedRows();
    const table = h("table", { class: "grid-table", "data-testid": "results-table" });
    const headRow = h(
      "tr",
      null,
      h("th", { class: "expander-col" }),
      cols.map((c) =>
        h(
          "th",
          {
            class: `sortable ${sortCol === c ? (sortDesc ? "desc" : "asc") : ""}`,
            "data-col": c,
            "aria-sort": sortCol === c ? (sortDesc ? "descending" : "ascending") : "none",
            tabindex: "0",
            onkeydown: (e: KeyboardEvent) => (e.key === "Enter" || e.key === " ") && (e.target as HTMLElement).click(),
            onclick: () => {
              if (sortCol === c) sortDesc = !sortDesc;
              else {
                sortCol = c;
                sortDesc = false;
              }
              renderResults();
            },
          },
          c,
        ),
      ),
    );
    const body = h("tbody");
    rows.slice(0, renderLimit).forEach((row) => {
      const obj: Record<string, string> = {};
      for (const f of row) obj[f.field] = f.value;
      const tr = h(
        "tr",
        { class: "row", tabindex: "0", "aria-expanded": "false" },
        h("td", { class: "expander" }, "▸"),
        cols.map((c) => h("td", { title: obj[c] ?? "" }, obj[c] ?? "")),
      );
      let detail: HTMLTableRowElement | null = null;
      tr.addEventListener("keydown", (e) => (e.key === "Enter" || e.key === " ") && (e.preventDefault(), tr.click()));
      tr.addEventListener("click", () => {
        if (detail) {
          detail.remove();
          detail = null;
          tr.classList.remove("open");
          tr.setAttribute("aria-expanded", "false");
          return;
        }
        tr.classList.add("open");
        tr.setAttribute("aria-expanded", "true");
        detail = h("tr", { class: "detail" }, h("td", { colspan: cols.length + 1 }, eventDetail(obj)));
        tr.after(detail);
      });
      body.append(tr);
    });
    mount(
      resultsHost,
      h("div", { class: "table-scroll" }, h("table", { class: table.className, "data-testid": "results-table" }, h("thead", null, headRow), body)),
      rows.length > renderLimit
        ? h("button", { class: "small more", onclick: () => ((renderLimit += MAX_RENDER), renderResults()) }, `Show ${Math.min(MAX_RENDER, rows.length - renderLimit)} more of ${fmtCount(rows.length - renderLimit)}`)
        : null,
    );
  }

  function eventDetail(obj: Record<string, string>): HTMLElement {
    const shown: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(obj)) if (k !== "@ptr") shown[k] = v;
    if (typeof obj["@message"] === "string") {
      try {
        shown["@message"] = JSON.parse(obj["@message"]);
      } catch {
        /* not JSON: keep the text */
      }
    }
    const pre = h("pre", { class: "json", "data-testid": "event-json" }, JSON.stringify(shown, null, 2));
    const box = h("div", { class: "event-detail" }, pre);
    if (obj["@ptr"]) {
      const b = h(
        "button",
        {
          class: "small",
          onclick: async (e: Event) => {
            e.stopPropagation();
            try {
              const r = await logs<{ logRecord: Record<string, string> }>("GetLogRecord", { logRecordPointer: obj["@ptr"] });
              const rec: Record<string, unknown> = { ...r.logRecord };
              try {
                if (typeof rec["@message"] === "string") rec["@message"] = JSON.parse(rec["@message"] as string);
              } catch {
                /* keep text */
              }
              pre.textContent = JSON.stringify(rec, null, 2);
              b.remove();
            } catch (err) {
              box.append(errorBox(err));
            }
          },
        },
        "Show the whole event (GetLogRecord)",
      );
      box.prepend(b);
    }
    box.addEventListener("click", (e) => e.stopPropagation());
    return box;
  }

  function exportRows(kind: "csv" | "json") {
    if (lastRows.length === 0) return;
    const cols = columnsOf(lastRows);
    const objs = rowsToObjects(sortedRows());
    const stamp = new Date().toISOString().replace(/[:.]/g, "-").slice(0, 19);
    if (kind === "json") {
      download(`logs-insights-${stamp}.json`, "application/json", JSON.stringify(objs, null, 2));
    } else {
      const q = (v: string | undefined) => (v === undefined ? "" : /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
      const lines = [cols.map(q).join(","), ...objs.map((o) => cols.map((c) => q(o[c])).join(","))];
      download(`logs-insights-${stamp}.csv`, "text/csv", lines.join("\r\n") + "\r\n");
    }
  }

  // ---- visualization ----
  function isTimeColumn(rows: ResultField[][], c: string): boolean {
    let n = 0;
    for (const row of rows) {
      const v = row.find((f) => f.field === c)?.value;
      if (v === undefined || v === "") continue;
      if (parseTimestamp(v) === undefined) return false;
      n++;
    }
    return n > 0;
  }
  function renderViz() {
    const cols = columnsOf(lastRows);
    if (lastRows.length === 0 || !hasStats(lastQuery)) {
      mount(vizHost, h("div", { class: "empty" }, "Charts show the results of a query with stats, for example:", h("pre", null, "stats count(*) by bin(5m)\nstats count(*) by eventSource, bin(1h)")));
      return;
    }
    const objs = rowsToObjects(lastRows);
    const timeCol = cols.find((c) => isTimeColumn(lastRows, c));
    const numeric = cols.filter((c) => c !== timeCol && objs.every((o) => o[c] === undefined || o[c] === "" || Number.isFinite(Number(o[c]))));
    const groupCols = cols.filter((c) => c !== timeCol && !numeric.includes(c));
    const chartHost = h("div", { class: "viz-chart", "data-testid": "viz-chart" });
    const controls = h(
      "div",
      { class: "viz-controls" },
      timeCol
        ? (["line", "area", "bar"] as ChartKind[]).map((k) =>
            h("button", { class: `seg ${chartKind === k ? "active" : ""}`, "data-chart": k, onclick: () => ((chartKind = k), renderViz()) }, k === "line" ? "Line" : k === "area" ? "Stacked area" : "Bar"),
          )
        : h("span", { class: "muted" }, "Bar chart of the first numeric column by the other columns"),
    );
    mount(vizHost, controls, chartHost);
    if (numeric.length === 0) {
      mount(chartHost, h("div", { class: "empty" }, "No numeric column to chart."));
      return;
    }
    if (timeCol) {
      const series = new Map<string, Series>();
      for (const o of objs) {
        const t = parseTimestamp(o[timeCol]);
        if (t === undefined) continue;
        const key = groupCols.map((g) => o[g] ?? "").join(" · ");
        for (const n of numeric) {
          const v = Number(o[n]);
          if (o[n] === undefined || o[n] === "" || !Number.isFinite(v)) continue;
          const name = numeric.length > 1 ? (key ? `${key} · ${n}` : n) : key || n;
          let se = series.get(name);
          if (!se) series.set(name, (se = { name, points: [] }));
          se.points.push([t, v]);
        }
      }
      const list = [...series.values()].map((se) => ({ ...se, points: se.points.sort((a, b) => a[0] - b[0]) }));
      timeChart(chartHost, list, { kind: chartKind, stacked: chartKind !== "line", height: 320, yLabel: numeric.join(", ") });
    } else {
      const n = numeric[0];
      barList(
        chartHost,
        objs.map((o) => ({ label: groupCols.map((g) => o[g] ?? "").join(" · ") || n, value: Number(o[n]) })),
      );
    }
  }

  // ---- layout ----
  const picker = timePicker(range, (r) => {
    range = r;
    savePrefs();
  });
  mount(
    root,
    h(
      "div",
      { class: "page insights" },
      h("header", { class: "page-head" }, h("h1", null, "Logs Insights")),
      h("div", { class: "toolbar" }, h("div", { class: "group-picker" }, groupButton, groupPopover, groupChips), picker),
      h(
        "div",
        { class: "query-area" },
        h(
          "div",
          { class: "editor-col" },
          editorHost,
          h("div", { class: "actions" }, runButton, cancelButton, h("span", { class: "muted hint" }, "Ctrl+Enter runs · Ctrl+Space completes"), status),
        ),
        h("aside", { class: "side" }, sideTabs, sideBody),
      ),
      tabs,
      histogram,
      resultsHost,
      vizHost,
    ),
  );
  if (memo.status.length) mount(status, ...memo.status.map((n) => n.cloneNode(true)));
  if (hasStats(lastQuery) && lastRows.length) tab = "viz";
  renderTabs();
  renderResults();
  if (tab === "viz") renderViz();
  view.focus();
  return () => {
    current?.abort();
    document.removeEventListener("click", closePopover);
    view.destroy();
  };
}
