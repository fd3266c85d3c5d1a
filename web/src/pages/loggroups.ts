// Log groups: the list, a group's streams, a stream's newest events, and a live tail of
// the group's newest events (FilterLogEvents polled every 2 s; StartLiveTail's event
// stream is not served, spec §A.1).

import { allLogGroups, logs, type LogStream, newestEventMs } from "../api";
import { errorBox, fmtBytes, fmtCount, fmtTime, h, mount } from "../dom";

export function logGroupsPage(root: HTMLElement, _params: URLSearchParams, path: string[]): (() => void) | void {
  const group = path[0];
  if (group) return groupDetail(root, group);
  const list = h("div", { class: "card" }, h("div", { class: "muted pad" }, "Loading…"));
  const filter = h("input", { type: "search", placeholder: "Filter by name", "aria-label": "Filter log groups" });
  mount(root, h("div", { class: "page" }, h("header", { class: "page-head" }, h("h1", null, "Log groups"), filter), list));
  allLogGroups()
    .then((groups) => {
      const draw = () => {
        const f = filter.value.toLowerCase();
        const shown = groups.filter((g) => g.logGroupName.toLowerCase().includes(f));
        mount(
          list,
          groups.length === 0
            ? h("div", { class: "empty" }, "No log groups yet. Import logs with ", h("code", null, "openwatch import"), " or send them with PutLogEvents.")
            : h(
                "table",
                { class: "grid-table", "data-testid": "log-groups" },
                h("thead", null, h("tr", null, ["Log group", "Created (UTC)", "Retention", "Stored", "Class"].map((c) => h("th", null, c)))),
                h(
                  "tbody",
                  null,
                  shown.map((g) =>
                    h(
                      "tr",
                      null,
                      h("td", null, h("a", { href: `#/logs/${encodeURIComponent(g.logGroupName)}` }, g.logGroupName)),
                      h("td", null, fmtTime(g.creationTime)),
                      h("td", null, g.retentionInDays ? `${g.retentionInDays} days` : "Never expire"),
                      h("td", null, fmtBytes(g.storedBytes)),
                      h("td", null, g.logGroupClass ?? "STANDARD"),
                    ),
                  ),
                ),
              ),
        );
      };
      filter.addEventListener("input", draw);
      draw();
    })
    .catch((e) => mount(list, errorBox(e)));
}

interface TailEvent {
  eventId?: string;
  timestamp: number;
  message: string;
  logStreamName?: string;
  ingestionTime?: number;
}

function groupDetail(root: HTMLElement, group: string): () => void {
  const streamsHost = h("div", { class: "card" }, h("div", { class: "muted pad" }, "Loading streams…"));
  const eventsHost = h("div", { class: "card tail", "data-testid": "tail" });
  const tailStatus = h("span", { class: "muted" });
  let timer: number | undefined;
  let stopped = false;
  const seen = new Set<string>();
  let events: TailEvent[] = [];
  let since = 0;
  const MAX = 500;

  const drawEvents = (title: string) =>
    mount(
      eventsHost,
      h("div", { class: "card-head" }, h("h2", null, title), tailStatus),
      events.length === 0
        ? h("div", { class: "empty" }, "No events yet.")
        : h(
            "div",
            { class: "event-list" },
            events.map((e) => {
              let pretty = e.message;
              return h(
                "details",
                { class: "event" },
                h("summary", null, h("span", { class: "ts" }, fmtTime(e.timestamp)), e.logStreamName ? h("span", { class: "stream muted" }, e.logStreamName) : null, h("span", { class: "msg" }, e.message)),
                h(
                  "pre",
                  { class: "json" },
                  (() => {
                    try {
                      pretty = JSON.stringify(JSON.parse(e.message), null, 2);
                    } catch {
                      /* plain text */
                    }
                    return pretty;
                  })(),
                ),
              );
            }),
          ),
    );

  async function poll() {
    if (stopped) return;
    try {
      let nextToken: string | undefined;
      let got = 0;
      do {
        const r = await logs<{ events?: TailEvent[]; nextToken?: string }>("FilterLogEvents", {
          logGroupName: group,
          startTime: since,
          limit: 1000,
          ...(nextToken ? { nextToken } : {}),
        });
        for (const e of r.events ?? []) {
          const key = e.eventId ?? `${e.logStreamName}/${e.timestamp}/${e.message}`;
          if (seen.has(key)) continue;
          seen.add(key);
          events.unshift(e);
          got++;
          since = Math.max(since, e.timestamp);
        }
        nextToken = r.nextToken;
      } while (nextToken && got < 5000 && !stopped);
      events.sort((a, b) => b.timestamp - a.timestamp);
      if (events.length > MAX) events = events.slice(0, MAX);
      mount(tailStatus, h("span", { class: "live-dot" }), ` Live · updated ${new Date().toISOString().slice(11, 19)} UTC · ${fmtCount(events.length)} shown`);
      if (got > 0 || eventsHost.childElementCount === 0) drawEvents("Live tail: newest events");
    } catch (e) {
      mount(tailStatus, errorBox(e));
    }
    if (!stopped) timer = window.setTimeout(poll, 2000);
  }

  const pauseButton = h(
    "button",
    {
      class: "small",
      onclick: () => {
        if (timer !== undefined) {
          clearTimeout(timer);
          timer = undefined;
          pauseButton.textContent = "Resume tail";
          mount(tailStatus, "Paused");
        } else {
          pauseButton.textContent = "Pause tail";
          poll();
        }
      },
    },
    "Pause tail",
  );

  mount(
    root,
    h(
      "div",
      { class: "page" },
      h(
        "header",
        { class: "page-head" },
        h("div", null, h("a", { href: "#/logs", class: "muted" }, "Log groups"), " / ", h("h1", { class: "inline" }, group)),
        h("div", { class: "head-actions" }, pauseButton, h("a", { class: "button", href: `#/insights?group=${encodeURIComponent(group)}` }, "Query in Logs Insights")),
      ),
      h("div", { class: "split" }, streamsHost, eventsHost),
    ),
  );
  drawEvents("Live tail: newest events");

  logs<{ logStreams?: LogStream[] }>("DescribeLogStreams", { logGroupName: group, orderBy: "LastEventTime", descending: true, limit: 50 })
    .then((r) => {
      const streams = r.logStreams ?? [];
      mount(
        streamsHost,
        h("div", { class: "card-head" }, h("h2", null, "Log streams"), h("span", { class: "muted" }, streams.length >= 50 ? "50 most recent" : `${streams.length}`)),
        streams.length === 0
          ? h("div", { class: "empty" }, "No streams.")
          : h(
              "table",
              { class: "grid-table", "data-testid": "streams" },
              h("thead", null, h("tr", null, ["Log stream", "Last event (UTC)"].map((c) => h("th", null, c)))),
              h(
                "tbody",
                null,
                streams.map((s) =>
                  h(
                    "tr",
                    { class: "row", onclick: () => showStream(s.logStreamName), title: "Show the newest events of this stream" },
                    h("td", { class: "stream-name" }, s.logStreamName),
                    h("td", null, fmtTime(s.lastEventTimestamp)),
                  ),
                ),
              ),
            ),
      );
    })
    .catch((e) => mount(streamsHost, errorBox(e)));

  async function showStream(stream: string) {
    if (timer !== undefined) {
      clearTimeout(timer);
      timer = undefined;
      pauseButton.textContent = "Resume tail";
    }
    try {
      const r = await logs<{ events?: TailEvent[] }>("GetLogEvents", { logGroupName: group, logStreamName: stream, limit: 200, startFromHead: false });
      events = (r.events ?? []).map((e) => ({ ...e, logStreamName: stream })).sort((a, b) => b.timestamp - a.timestamp);
      seen.clear();
      mount(tailStatus, `Stream ${stream} · ${fmtCount(events.length)} newest events · tail paused`);
      drawEvents(`Stream: ${stream}`);
    } catch (e) {
      mount(eventsHost, errorBox(e));
    }
  }

  // Start the tail a little before the newest event, so the page opens on recent data.
  newestEventMs(group)
    .then((newest) => {
      since = newest !== undefined ? Math.max(0, newest - 15 * 60_000) : Date.now() - 15 * 60_000;
      poll();
    })
    .catch(() => {
      since = Date.now() - 15 * 60_000;
      poll();
    });

  return () => {
    stopped = true;
    if (timer !== undefined) clearTimeout(timer);
  };
}
