// End-to-end test of the web console in real headless Chromium (Debian's chromium, driven
// by playwright-core), against a running `openwatch serve` into which
// scripts/e2e-console.sh imported the shared CloudTrail data (invictus-aws_dataset).
//
// Expected values are computed here from the same delivery files (independently of the
// server), never written down. Screenshots go to $OW_SCREENSHOTS.
//
// Environment: OW_URL (http://127.0.0.1:PORT), OW_KEY_ID, OW_SECRET, OW_GROUP (log group),
// OW_DATA (the delivery directory imported), OW_SCREENSHOTS, CHROMIUM (default /usr/bin/chromium).

import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { gunzipSync } from "node:zlib";
import { createHash, createHmac } from "node:crypto";
import { chromium } from "playwright-core";

const URL_BASE = process.env.OW_URL ?? "http://127.0.0.1:4566";
const KEY_ID = process.env.OW_KEY_ID;
const SECRET = process.env.OW_SECRET;
const GROUP = process.env.OW_GROUP ?? "cloudtrail";
const DATA = process.env.OW_DATA;
const SHOTS = process.env.OW_SCREENSHOTS ?? "screenshots";
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
if (!KEY_ID || !SECRET || !DATA) throw new Error("set OW_KEY_ID, OW_SECRET and OW_DATA (see scripts/e2e-console.sh)");
mkdirSync(SHOTS, { recursive: true });

// ---- expected values, from the files themselves ----
const records = readdirSync(DATA)
  .filter((f) => f.endsWith(".json.gz"))
  .flatMap((f) => JSON.parse(gunzipSync(readFileSync(join(DATA, f))).toString("utf8")).Records);
const times = records.map((r) => Date.parse(r.eventTime));
const firstMs = Math.min(...times);
const lastMs = Math.max(...times);
const bySource = new Map();
for (const r of records) bySource.set(r.eventSource, (bySource.get(r.eventSource) ?? 0) + 1);
const topSources = [...bySource].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
// A range that covers every event, in whole minutes, as the custom range inputs take it.
const rangeStart = new Date(Math.floor(firstMs / 60e3) * 60e3 - 10 * 60e3);
const rangeEnd = new Date(Math.ceil(lastMs / 60e3) * 60e3 + 10 * 60e3);
const inputValue = (d) => d.toISOString().slice(0, 19);

/** A SigV4-signed AWS JSON call from the test itself (to set up metrics and alarms). */
async function aws(service, target, body, contentType) {
  const payload = JSON.stringify(body);
  const date = new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
  const day = date.slice(0, 8);
  const headers = { "content-type": contentType, host: new URL(URL_BASE).host, "x-amz-date": date, "x-amz-target": target };
  const names = Object.keys(headers).sort();
  const sha = (x) => createHash("sha256").update(x).digest("hex");
  const mac = (k, x) => createHmac("sha256", k).update(x).digest();
  const canonical = ["POST", "/", "", names.map((n) => `${n}:${headers[n]}\n`).join(""), names.join(";"), sha(payload)].join("\n");
  const scope = `${day}/us-east-1/${service}/aws4_request`;
  const key = mac(mac(mac(mac(`AWS4${SECRET}`, day), "us-east-1"), service), "aws4_request");
  const signature = createHmac("sha256", key).update(["AWS4-HMAC-SHA256", date, scope, sha(canonical)].join("\n")).digest("hex");
  const { host: _host, ...sent } = headers;
  const res = await fetch(`${URL_BASE}/`, {
    method: "POST",
    headers: { ...sent, authorization: `AWS4-HMAC-SHA256 Credential=${KEY_ID}/${scope}, SignedHeaders=${names.join(";")}, Signature=${signature}` },
    body: payload,
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : {} };
}
const cloudwatch = (op, body) => aws("monitoring", `GraniteServiceVersion20100801.${op}`, body, "application/x-amz-json-1.0");

let context;
let page;
const offHost = [];
const consoleErrors = [];

async function shot(name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

async function setQuery(q) {
  await page.click(".cm-content");
  await page.keyboard.press("Control+A");
  await page.keyboard.press("Delete");
  await page.keyboard.insertText(q);
  await page.keyboard.press("Escape"); // close a completion popup, if any
}

async function runAndWait(viaKeyboard = false) {
  if (viaKeyboard) {
    await page.click(".cm-content");
    await page.keyboard.press("Control+Enter");
  } else await page.click('[data-testid="run"]');
  await page.waitForFunction(() => {
    const b = document.querySelector('[data-testid="run"]');
    return b && !b.disabled && !document.querySelector(".insights.running");
  }, null, { timeout: 60_000 });
}

async function columnValues(col) {
  return page.$$eval(
    '[data-testid="results-table"]',
    (tables, col) => {
      const t = tables[0];
      const heads = [...t.querySelectorAll("thead th")].map((th) => th.textContent);
      const i = heads.indexOf(col);
      return [...t.querySelectorAll("tbody tr.row")].map((tr) => tr.children[i]?.textContent ?? "");
    },
    col,
  );
}

describe("OpenWatch console", () => {
  before(async () => {
    const profile = mkdtempSync(join(tmpdir(), "ow-chromium-"));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1366, height: 820 },
      acceptDownloads: true,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
      ],
    });
    context.__profile = profile;
    page = context.pages()[0] ?? (await context.newPage());
    const origin = new URL(URL_BASE).origin;
    page.on("request", (req) => {
      const u = req.url();
      if (!u.startsWith(origin) && !u.startsWith("data:") && !u.startsWith("blob:")) offHost.push(u);
    });
    page.on("console", (m) => m.type() === "error" && consoleErrors.push(m.text()));
    page.on("pageerror", (e) => consoleErrors.push(String(e)));
  });

  after(async () => {
    await context?.close();
    if (context?.__profile) rmSync(context.__profile, { recursive: true, force: true });
  });

  test("sign in with the server's access key", async () => {
    await page.goto(`${URL_BASE}/console/`);
    await page.fill('[data-testid="access-key-id"]', KEY_ID);
    await page.fill('[data-testid="secret-access-key"]', "wrong-secret");
    await page.click('[data-testid="sign-in"]');
    await page.waitForSelector(".notice.error");
    assert.match(await page.textContent(".notice.error"), /InvalidSignature|signature/i);
    await page.fill('[data-testid="access-key-id"]', KEY_ID);
    await page.fill('[data-testid="secret-access-key"]', SECRET);
    await page.click('[data-testid="sign-in"]');
    await page.waitForSelector('[data-testid="editor"] .cm-content');
    assert.equal(await page.textContent("h1"), "Logs Insights");
  });

  test("pick the log group and an absolute time range", async () => {
    await page.click('[data-testid="group-picker"]');
    await page.waitForSelector(`input[data-group="${GROUP}"]`);
    const box = page.locator(`input[data-group="${GROUP}"]`);
    if (!(await box.isChecked())) await box.check();
    await page.click("h1"); // close the popover
    assert.match(await page.textContent('[data-testid="selected-groups"]'), new RegExp(GROUP));
    await page.click('button[data-range="custom"]');
    await page.fill('[data-testid="time-start"]', inputValue(rangeStart));
    await page.fill('[data-testid="time-end"]', inputValue(rangeEnd));
    await page.click('[data-testid="time-apply"]');
    // discovered fields of the group feed completion and the Fields panel
    await page.waitForSelector('[data-testid="fields"] .field-name');
    const fields = await page.$$eval('[data-testid="fields"] .field-name', (els) => els.map((e) => e.textContent));
    for (const f of ["@timestamp", "@message", "eventName", "eventSource"]) assert.ok(fields.includes(f), `field ${f} discovered`);
  });

  test("completion offers commands, functions and discovered fields", async () => {
    await setQuery("");
    await page.keyboard.type("fil");
    await page.waitForSelector(".cm-tooltip-autocomplete");
    const cmds = await page.$$eval(".cm-tooltip-autocomplete li", (els) => els.map((e) => e.textContent));
    assert.ok(cmds.some((c) => c.startsWith("filter")), `commands offered: ${cmds.join(",")}`);
    // CodeMirror ignores Enter on a completion list for its first 75 ms (`interactionDelay`);
    // pressed sooner, Enter inserts a newline (CI once typed "fil\neventS")
    await page.waitForTimeout(200);
    await page.keyboard.press("Enter");
    await page.keyboard.type("eventS");
    await page.waitForSelector(".cm-tooltip-autocomplete");
    const opts = await page.$$eval(".cm-tooltip-autocomplete li", (els) => els.map((e) => e.textContent));
    assert.ok(opts.some((c) => c.startsWith("eventSource")), `fields offered: ${opts.join(",")}`);
    await page.keyboard.press("Escape");
    const text = await page.textContent(".cm-content");
    assert.ok(text.startsWith("filter eventS"), text);
    // highlighting: the command is a keyword token
    const kw = await page.$$eval(".cm-content span", (els) => els.filter((e) => e.textContent === "filter").map((e) => getComputedStyle(e).color));
    assert.ok(kw.length > 0 && kw[0] !== "rgb(29, 39, 51)", "command highlighted");
  });

  test("a malformed query shows the server's diagnostic under the span", async () => {
    await setQuery("fields @timestamp, eventName\n| stats count(*) by");
    await runAndWait();
    await page.waitForSelector('[data-testid="inline-diagnostic"]');
    const msg = await page.textContent('[data-testid="inline-diagnostic"]');
    assert.ok(msg.includes("^"), msg);
    assert.match(await page.textContent('[data-testid="status"]'), /Malformed query/);
    await shot("01-insights-diagnostic");
  });

  test("run a query: rows, histogram, sorting, expanded JSON", async () => {
    const [source, count] = topSources[0];
    await setQuery(`fields @timestamp, eventName, eventSource, sourceIPAddress\n| filter eventSource = "${source}"\n| sort @timestamp desc\n| limit 10000`);
    await runAndWait();
    assert.match(await page.textContent('[data-testid="status"]'), /Complete/);
    assert.equal(await page.$$eval('[data-testid="results-table"] tbody tr.row', (r) => r.length), Math.min(count, 1000));
    assert.match(await page.textContent('[data-testid="tab-logs"]'), new RegExp(`\\(${count.toLocaleString("en-US")}\\)`));
    const sources = await columnValues("eventSource");
    assert.ok(sources.every((s) => s === source));
    // histogram: bars that add up to the matched records, each within the time range
    await page.waitForSelector('[data-testid="histogram"] svg rect.bar');
    const bars = await page.$$eval('[data-testid="histogram"] svg rect.bar', (rs) => rs.map((r) => [Number(r.dataset.t), Number(r.dataset.v)]));
    assert.equal(bars.reduce((a, [, v]) => a + v, 0), count);
    const perMinute = new Map();
    for (const r of records.filter((r) => r.eventSource === source)) {
      const m = Math.floor(Date.parse(r.eventTime) / 60e3) * 60e3;
      perMinute.set(m, (perMinute.get(m) ?? 0) + 1);
    }
    assert.deepEqual(new Map(bars), perMinute, "one bar per minute with that minute's events");
    // sorting by eventName ascending, then descending
    await page.click('th[data-col="eventName"]');
    const asc = await columnValues("eventName");
    assert.deepEqual(asc, [...asc].sort((a, b) => a.localeCompare(b, "en", { numeric: true })));
    await page.click('th[data-col="eventName"]');
    const desc = await columnValues("eventName");
    assert.equal(desc[0], asc[asc.length - 1]);
    // expand the first row to the event's JSON
    await page.click('[data-testid="results-table"] tbody tr.row >> nth=0');
    const json = JSON.parse(await page.textContent('[data-testid="event-json"]'));
    assert.equal(json.eventSource, source);
    assert.equal(typeof json.eventName, "string");
    await shot("02-insights-results");
  });

  test("all time: the histogram spans the matched events", async () => {
    await page.click('button[data-range="All"]');
    await runAndWait();
    await page.waitForSelector('[data-testid="histogram"] svg rect.bar');
    assert.match(await page.textContent('[data-testid="histogram"]'), /All time/);
    const bars = await page.$$eval('[data-testid="histogram"] svg rect.bar', (rs) => rs.map((r) => Number(r.dataset.v)));
    assert.equal(bars.reduce((a, b) => a + b, 0), topSources[0][1]);
    // back to the custom range for the next tests
    await page.click('button[data-range="custom"]');
    await page.fill('[data-testid="time-start"]', inputValue(rangeStart));
    await page.fill('[data-testid="time-end"]', inputValue(rangeEnd));
    await page.click('[data-testid="time-apply"]');
  });

  test("export CSV and JSON", async () => {
    const [source, count] = topSources[0];
    const [csvDl] = await Promise.all([page.waitForEvent("download"), page.click('[data-testid="export-csv"]')]);
    const csv = readFileSync(await csvDl.path(), "utf8").trimEnd().split("\r\n");
    assert.equal(csv[0], "@timestamp,eventName,eventSource,sourceIPAddress");
    assert.equal(csv.length - 1, count);
    const [jsonDl] = await Promise.all([page.waitForEvent("download"), page.click('[data-testid="export-json"]')]);
    const rows = JSON.parse(readFileSync(await jsonDl.path(), "utf8"));
    assert.equal(rows.length, count);
    assert.ok(rows.every((r) => r.eventSource === source));
  });

  test("stats by bin() charts as line, stacked area and bar", async () => {
    await setQuery("stats count(*) as events by bin(5m)");
    await runAndWait();
    await page.waitForSelector('[data-testid="viz-chart"] svg path.series');
    // the per-bin counts add up to every event in the files
    await page.click('[data-testid="tab-logs"]');
    const counts = (await columnValues("events")).map(Number);
    assert.equal(counts.reduce((a, b) => a + b, 0), records.length);
    await page.click('[data-testid="tab-viz"]');
    await shot("03-visualization-line");
    await page.click('button[data-chart="area"]');
    await page.waitForSelector('[data-testid="viz-chart"] svg path[fill-opacity]');
    await page.click('button[data-chart="bar"]');
    await page.waitForSelector('[data-testid="viz-chart"] svg rect.bar');
    assert.equal(await page.$$eval('[data-testid="viz-chart"] svg rect.bar', (r) => r.length), counts.filter((c) => c > 0).length);
    await shot("04-visualization-bar");
  });

  test("several series: stats by bin() and a field, stacked", async () => {
    const three = topSources.slice(0, 3).map(([s]) => s);
    await setQuery(`filter ${three.map((s) => `eventSource = "${s}"`).join(" or ")}\n| stats count(*) as n by bin(10m), eventSource`);
    await runAndWait();
    await page.waitForSelector('[data-testid="viz-chart"] svg');
    await page.click('button[data-chart="area"]');
    await page.waitForSelector('[data-testid="viz-chart"] svg path[fill-opacity]');
    const legend = await page.$$eval('[data-testid="viz-chart"] .legend-item', (els) => els.map((e) => e.textContent).sort());
    assert.deepEqual(legend, [...three].sort());
    await shot("04b-visualization-stacked");
  });

  test("stats by a field: results agree with the files", async () => {
    await setQuery("stats count(*) as n by eventSource\n| sort n desc");
    await runAndWait(true); // Ctrl+Enter runs
    await page.click('[data-testid="tab-logs"]');
    const names = await columnValues("eventSource");
    const ns = (await columnValues("n")).map(Number);
    assert.equal(names.length, bySource.size);
    for (const [i, name] of names.entries()) assert.equal(ns[i], bySource.get(name), name);
  });

  test("run and cancel", async () => {
    await setQuery("fields @timestamp, @message | sort @timestamp desc");
    await page.click('[data-testid="run"]');
    await page.click('[data-testid="cancel"]', { timeout: 5000 }).catch(() => {});
    await page.waitForFunction(() => !document.querySelector('[data-testid="run"]').disabled, null, { timeout: 30_000 });
    assert.match(await page.textContent('[data-testid="status"]'), /Cancelled|Complete/);
    assert.equal(await page.isDisabled('[data-testid="cancel"]'), true);
  });

  test("saved queries and history", async () => {
    await setQuery("stats count(*) as n by eventName | sort n desc | limit 5");
    await page.click('[data-testid="side-saved"]');
    await page.fill('[data-testid="save-name"]', "e2e top event names");
    await page.click('[data-testid="save-query"]');
    await page.waitForSelector('[data-testid="saved"] >> text=e2e top event names');
    await page.click('[data-testid="side-history"]');
    await page.waitForSelector('[data-testid="history"] .side-item');
    const hist = await page.textContent('[data-testid="history"]');
    assert.match(hist, /stats count\(\*\) as events by bin\(5m\)/);
    await setQuery("");
    await page.click('[data-testid="side-saved"]');
    await page.click('[data-testid="saved"] >> text=e2e top event names');
    assert.match(await page.textContent(".cm-content"), /by eventName/);
  });

  test("log groups: list, streams and live tail", async () => {
    await page.click('a[data-nav="logs"]');
    await page.waitForSelector('[data-testid="log-groups"]');
    await page.click(`[data-testid="log-groups"] a >> text="${GROUP}"`);
    await page.waitForSelector('[data-testid="streams"] tbody tr');
    await page.waitForSelector('[data-testid="tail"] .event');
    const n = await page.$$eval('[data-testid="tail"] .event', (e) => e.length);
    assert.ok(n > 0);
    await page.click('[data-testid="tail"] .event summary >> nth=0');
    await shot("05-log-group-tail");
  });

  test("metrics and alarms pages: real data or a clear 'not available'", async () => {
    await page.click('a[data-nav="metrics"]');
    await page.waitForSelector('[data-testid="unavailable"], [data-testid="metric-chart"]');
    await shot("06-metrics");
    await page.click('a[data-nav="alarms"]');
    await page.waitForSelector('[data-testid="unavailable"], [data-testid="alarms"], .summary');
    await shot("07-alarms");
  });

  test("open a dashboard (CloudWatch dashboard body JSON)", async () => {
    const body = {
      start: rangeStart.toISOString(),
      end: rangeEnd.toISOString(),
      widgets: [
        { type: "text", x: 0, y: 0, width: 24, height: 2, properties: { markdown: "## E2E dashboard\nCloudTrail from the **invictus** dataset." } },
        { type: "log", x: 0, y: 2, width: 12, height: 7, properties: { title: "Events per 5 minutes", view: "timeSeries", region: "us-east-1", query: `SOURCE '${GROUP}' | stats count(*) as events by bin(5m)` } },
        { type: "log", x: 12, y: 2, width: 12, height: 7, properties: { title: "Top sources", view: "table", region: "us-east-1", query: `SOURCE '${GROUP}' | stats count(*) as n by eventSource | sort n desc | limit 5` } },
        { type: "metric", x: 0, y: 9, width: 24, height: 5, properties: { title: "A metric", view: "timeSeries", stat: "Sum", period: 300, region: "us-east-1", metrics: [["CloudTrailMetrics", "EventCount"]] } },
      ],
    };
    await page.click('a[data-nav="dashboards"]');
    await page.fill('[data-testid="dashboard-json"]', JSON.stringify({ DashboardName: "e2e", DashboardBody: JSON.stringify(body) }));
    await page.click('[data-testid="open-json"]');
    await page.waitForSelector('[data-testid="dashboard-grid"]');
    await page.waitForSelector('[data-testid="log-widget-chart"] svg path.series');
    await page.waitForSelector('[data-testid="log-widget-table"] tbody tr');
    const top = await page.$$eval('[data-testid="log-widget-table"] tbody tr', (trs) => trs.map((tr) => [tr.children[0].textContent, Number(tr.children[1].textContent)]));
    assert.deepEqual(top, topSources.slice(0, 5));
    assert.match(await page.textContent(".widget-text"), /E2E dashboard/);
    await page.waitForSelector('.widget-metric [data-testid="unavailable"], .widget-metric svg');
    await shot("08-dashboard");
    // edit mode offers the widget editor
    await page.click('[data-testid="edit-dashboard"]');
    await page.waitForSelector('[data-testid="save-dashboard"]');
    await shot("09-dashboard-edit");
  });

  test("metrics, alarms and dashboards against the server's own CloudWatch API, when it has one", async (t) => {
    const probe = await cloudwatch("ListMetrics", {});
    if (probe.status !== 200) {
      // Without the API the pages said so (checked above); nothing more to test here.
      t.diagnostic(`server has no CloudWatch metrics API: ${probe.json.__type}`);
      return;
    }
    const now = Math.floor(Date.now() / 1000 / 60) * 60;
    const values = Array.from({ length: 30 }, (_, k) => ({ t: now - 60 * (29 - k), v: (k * 7) % 13 }));
    const dims = [{ Name: "Service", Value: "web" }];
    const put = await cloudwatch("PutMetricData", {
      Namespace: "E2E/Console",
      MetricData: values.map(({ t, v }) => ({ MetricName: "Latency", Dimensions: dims, Timestamp: t, Value: v, Unit: "Milliseconds" })),
    });
    assert.equal(put.status, 200, JSON.stringify(put.json));
    const alarm = await cloudwatch("PutMetricAlarm", {
      AlarmName: "e2e-latency",
      Namespace: "E2E/Console",
      MetricName: "Latency",
      Dimensions: dims,
      Statistic: "Maximum",
      Period: 60,
      EvaluationPeriods: 1,
      Threshold: 10,
      ComparisonOperator: "GreaterThanThreshold",
    });
    assert.equal(alarm.status, 200, JSON.stringify(alarm.json));

    await page.goto(`${URL_BASE}/console/#/metrics`);
    await page.reload();
    await page.click("text=E2E/Console");
    await page.click(".picker-item >> text=Latency");
    await page.waitForSelector('[data-testid="metric-chart"] svg path.series');
    assert.match(await page.textContent('[data-testid="metric-chart"]'), /Latency \{Service=web\}/);
    await shot("14-metrics-real");

    await page.click('a[data-nav="alarms"]');
    await page.waitForSelector('[data-testid="alarms"] >> text=e2e-latency');
    await page.click('[data-testid="alarms"] a >> text=e2e-latency');
    await page.waitForSelector('[data-testid="alarm-chart"] svg line.threshold', { state: "attached" });
    await page.waitForSelector('[data-testid="alarm-chart"] svg path.series');
    await shot("15-alarm-real");

    // Save the pasted dashboard with PutDashboard, find it with ListDashboards, open it again.
    await page.click('a[data-nav="dashboards"]');
    await page.fill('[data-testid="dashboard-json"]', JSON.stringify({
      start: rangeStart.toISOString(),
      end: rangeEnd.toISOString(),
      widgets: [
        { type: "log", x: 0, y: 0, width: 12, height: 6, properties: { title: "Top sources", view: "table", query: `SOURCE '${GROUP}' | stats count(*) as n by eventSource | sort n desc | limit 3` } },
        { type: "metric", x: 12, y: 0, width: 12, height: 6, properties: { title: "Latency", view: "timeSeries", stat: "Maximum", period: 60, metrics: [["E2E/Console", "Latency", "Service", "web"]] } },
      ],
    }));
    await page.click('[data-testid="open-json"]');
    await page.click('[data-testid="edit-dashboard"]');
    await page.fill('[data-testid="dashboard-name"]', "e2e-saved");
    await page.click('[data-testid="save-dashboard"]');
    await page.waitForURL(/#\/dashboards\/e2e-saved$/);
    await page.click('a[data-nav="dashboards"]');
    await page.click('[data-testid="dashboards"] a >> text=e2e-saved');
    await page.waitForSelector('[data-testid="log-widget-table"] tbody tr');
    const top = await page.$$eval('[data-testid="log-widget-table"] tbody tr', (trs) => trs.map((tr) => [tr.children[0].textContent, Number(tr.children[1].textContent)]));
    assert.deepEqual(top, topSources.slice(0, 3));
    await page.waitForSelector(".widget-metric svg");
    const got = await cloudwatch("GetDashboard", { DashboardName: "e2e-saved" });
    assert.equal(JSON.parse(got.json.DashboardBody).widgets.length, 2);
    await shot("16-dashboard-real");
    // DeleteDashboards from the list (after a confirmation)
    await page.click('a[data-nav="dashboards"]');
    page.once("dialog", (d) => d.accept());
    await page.click('[data-testid="dashboards"] tr:has-text("e2e-saved") button >> text=Delete');
    await page.waitForFunction(() => !document.querySelector('[data-testid="dashboards"]')?.textContent.includes("e2e-saved"));
    assert.equal((await cloudwatch("GetDashboard", { DashboardName: "e2e-saved" })).status, 404);
  });

  test("reads at laptop widths: no horizontal overflow", async () => {
    for (const [width, height] of [[1280, 800], [1024, 700]]) {
      await page.setViewportSize({ width, height });
      for (const nav of ["insights", "logs", "dashboards"]) {
        await page.click(`a[data-nav="${nav}"]`);
        await page.waitForTimeout(300);
        const over = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        assert.ok(over <= 0, `${nav} at ${width}px overflows by ${over}px`);
      }
      await page.click('a[data-nav="insights"]');
      await page.waitForSelector('[data-testid="editor"] .cm-content');
      await shot(`10-insights-${width}px`);
    }
  });

  // The CloudWatch metrics API (JSON 1.0) is not served by every OpenWatch build. These
  // tests answer its operations from the test itself (page.route), to check that the pages
  // send well-formed, SigV4-signed AWS requests and draw what comes back. They are UI tests;
  // the Logs pages above run against the real server.
  describe("metrics, alarms and dashboards pages with scripted CloudWatch answers", () => {
    const sent = [];
    const t0 = Date.UTC(2026, 0, 1);
    before(async () => {
      await page.setViewportSize({ width: 1366, height: 820 });
      await page.route(`${URL_BASE}/`, async (route) => {
        const req = route.request();
        const target = req.headers()["x-amz-target"] ?? "";
        if (!target.startsWith("GraniteServiceVersion20100801.")) return route.continue();
        const op = target.split(".")[1];
        const body = JSON.parse(req.postData() || "{}");
        sent.push({ op, body, headers: req.headers() });
        const json = (o) => route.fulfill({ status: 200, contentType: "application/x-amz-json-1.0", body: JSON.stringify(o) });
        const dims = [{ Name: "Service", Value: "api" }];
        const alarm = {
          AlarmName: "api-errors",
          StateValue: "ALARM",
          StateReason: "Threshold Crossed: 1 out of the last 1 datapoints [9.0] was greater than the threshold (5.0)",
          StateUpdatedTimestamp: t0 / 1000,
          Namespace: "OpenWatch/E2E",
          MetricName: "Errors",
          Dimensions: dims,
          Statistic: "Sum",
          Period: 300,
          EvaluationPeriods: 1,
          Threshold: 5,
          ComparisonOperator: "GreaterThanThreshold",
          TreatMissingData: "missing",
          ActionsEnabled: true,
          AlarmActions: ["arn:aws:sns:us-east-1:000000000000:ops"],
        };
        switch (op) {
          case "ListMetrics":
            return json({ Metrics: [{ Namespace: "OpenWatch/E2E", MetricName: "Requests", Dimensions: dims }, { Namespace: "OpenWatch/E2E", MetricName: "Errors", Dimensions: dims }] });
          case "GetMetricData": {
            const results = body.MetricDataQueries.map((q) => {
              const period = q.MetricStat?.Period ?? q.Period ?? 300;
              const ts = [];
              for (let t = Math.ceil(body.StartTime / period) * period; t < body.EndTime; t += period) ts.push(t);
              return { Id: q.Id, Label: q.Label ?? q.Id, StatusCode: "Complete", Timestamps: ts, Values: ts.map((t) => (t / period) % 10) };
            });
            return json({ MetricDataResults: results, Messages: [] });
          }
          case "DescribeAlarms":
            if (body.AlarmNames) return json({ MetricAlarms: [alarm] });
            return json({
              MetricAlarms: [alarm, { ...alarm, AlarmName: "api-requests-low", StateValue: "OK", MetricName: "Requests", ComparisonOperator: "LessThanThreshold", Threshold: 1 }],
              CompositeAlarms: [{ AlarmName: "api-health", AlarmRule: 'ALARM("api-errors") OR ALARM("api-requests-low")', StateValue: "ALARM" }],
            });
          case "DescribeAlarmHistory":
            return json({
              AlarmHistoryItems: [
                { AlarmName: "api-errors", Timestamp: t0 / 1000, HistoryItemType: "StateUpdate", HistorySummary: "Alarm updated from OK to ALARM" },
                { AlarmName: "api-errors", Timestamp: t0 / 1000 - 600, HistoryItemType: "ConfigurationUpdate", HistorySummary: "Alarm \"api-errors\" created" },
              ],
            });
          case "ListDashboards":
            return json({ DashboardEntries: [{ DashboardName: "ops", DashboardArn: "arn:aws:cloudwatch::000000000000:dashboard/ops", LastModified: t0 / 1000, Size: 321 }] });
          case "GetDashboard":
            return json({
              DashboardName: "ops",
              DashboardArn: "arn:aws:cloudwatch::000000000000:dashboard/ops",
              DashboardBody: JSON.stringify({
                start: "-PT6H",
                widgets: [
                  { type: "metric", x: 0, y: 0, width: 12, height: 6, properties: { title: "Requests", view: "timeSeries", stat: "Sum", period: 300, region: "us-east-1", metrics: [["OpenWatch/E2E", "Requests", "Service", "api"], [".", "Errors", ".", "."]] } },
                ],
              }),
            });
          case "PutDashboard":
            return json({ DashboardValidationMessages: [] });
          default:
            return route.fulfill({ status: 400, contentType: "application/x-amz-json-1.0", body: JSON.stringify({ __type: "UnknownOperationException", message: op }) });
        }
      });
      // the console probes the metrics API once per page load: load again (the key stays: same tab)
      await page.goto(`${URL_BASE}/console/#/metrics`);
      await page.reload();
    });
    after(async () => {
      await page.unroute(`${URL_BASE}/`);
    });

    test("metrics: browse and graph", async () => {
      await page.click('a[data-nav="metrics"]');
      await page.waitForSelector("text=OpenWatch/E2E");
      await page.click(".picker-item >> text=Requests");
      await page.waitForSelector('[data-testid="metric-chart"] svg path.series');
      const q = sent.filter((x) => x.op === "GetMetricData").pop();
      assert.deepEqual(q.body.MetricDataQueries[0].MetricStat.Metric, { Namespace: "OpenWatch/E2E", MetricName: "Requests", Dimensions: [{ Name: "Service", Value: "api" }] });
      assert.equal(q.body.MetricDataQueries[0].MetricStat.Stat, "Average");
      assert.ok(Number.isInteger(q.body.StartTime) && q.body.StartTime < q.body.EndTime, "times in epoch seconds");
      assert.match(q.headers.authorization, /Credential=[^/]+\/\d{8}\/us-east-1\/monitoring\/aws4_request, SignedHeaders=host;x-amz-date;x-amz-target;x-amzn-query-mode/);
      assert.equal(q.headers["content-type"], "application/x-amz-json-1.0");
      await shot("11-metrics-scripted");
    });

    test("alarms: list with state, detail with threshold line and history", async () => {
      await page.click('a[data-nav="alarms"]');
      await page.waitForSelector('[data-testid="alarms"]');
      const rows = await page.$$eval('[data-testid="alarms"] tbody tr', (trs) => trs.map((tr) => [tr.children[0].textContent, tr.children[1].textContent]));
      assert.deepEqual(rows, [["api-errors", "In alarm"], ["api-health", "In alarm"], ["api-requests-low", "OK"]]);
      await page.click('[data-testid="alarms"] a >> text=api-errors');
      await page.waitForSelector('[data-testid="alarm-chart"] svg line.threshold', { state: "attached" });
      await page.waitForSelector('[data-testid="alarm-history"] tbody tr');
      assert.match(await page.textContent('[data-testid="alarm-chart"]'), /> 5/);
      assert.equal(await page.$$eval('[data-testid="alarm-history"] tbody tr', (r) => r.length), 2);
      await shot("12-alarm-detail-scripted");
    });

    test("dashboards: list, open, add a widget, save with PutDashboard", async () => {
      await page.click('a[data-nav="dashboards"]');
      await page.click('[data-testid="dashboards"] a >> text=ops');
      await page.waitForSelector('.widget-metric svg path.series');
      const get = sent.filter((x) => x.op === "GetMetricData").pop();
      // the "." entries repeat the row above
      assert.deepEqual(get.body.MetricDataQueries[1].MetricStat.Metric, { Namespace: "OpenWatch/E2E", MetricName: "Errors", Dimensions: [{ Name: "Service", Value: "api" }] });
      await page.click('[data-testid="edit-dashboard"]');
      await page.click("button >> text=+ Text");
      await page.click("dialog button >> text=Apply");
      await page.click('[data-testid="save-dashboard"]');
      await page.waitForSelector(".notice.ok");
      const put = sent.filter((x) => x.op === "PutDashboard").pop();
      assert.equal(put.body.DashboardName, "ops");
      const saved = JSON.parse(put.body.DashboardBody);
      assert.deepEqual(saved.widgets.map((w) => w.type), ["metric", "text"]);
      assert.equal(saved.start, "-PT6H");
      await shot("13-dashboard-scripted");
    });
  });

  test("no request left the host, no script errors", async () => {
    assert.deepEqual(offHost, []);
    assert.deepEqual(consoleErrors.filter((e) => !/status of 400/.test(e)), []);
  });
});
