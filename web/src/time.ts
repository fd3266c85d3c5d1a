// Time ranges: relative ("last 1 hour"), absolute (two UTC instants), or all time.

import { h } from "./dom";

/** A time range as the user picked it. */
export type TimeRange =
  | { kind: "relative"; seconds: number }
  | { kind: "absolute"; startMs: number; endMs: number }
  | { kind: "all" };

/** The relative choices offered (seconds). */
export const RELATIVE: [string, number][] = [
  ["5m", 300],
  ["15m", 900],
  ["1h", 3600],
  ["3h", 3 * 3600],
  ["6h", 6 * 3600],
  ["12h", 12 * 3600],
  ["1d", 86400],
  ["3d", 3 * 86400],
  ["1w", 7 * 86400],
  ["30d", 30 * 86400],
];

/** The range's [start, end] in epoch ms, at `now`. All time starts at 0. */
export function resolve(r: TimeRange, now = Date.now()): { startMs: number; endMs: number } {
  switch (r.kind) {
    case "relative":
      return { startMs: now - r.seconds * 1000, endMs: now };
    case "absolute":
      return { startMs: r.startMs, endMs: r.endMs };
    case "all":
      return { startMs: 0, endMs: now };
  }
}

/** A label for the range. */
export function describe(r: TimeRange): string {
  if (r.kind === "all") return "All time";
  if (r.kind === "relative") return `Last ${RELATIVE.find(([, s]) => s === r.seconds)?.[0] ?? `${r.seconds}s`}`;
  return `${toInput(r.startMs).replace("T", " ")} → ${toInput(r.endMs).replace("T", " ")} UTC`;
}

/** `YYYY-MM-DDTHH:MM:SS` (UTC) for a datetime-local input. */
export function toInput(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19);
}

/** Parses a datetime-local value as UTC. */
export function fromInput(v: string): number | undefined {
  if (!v) return undefined;
  const t = Date.parse(v.length === 16 ? `${v}:00Z` : `${v}Z`);
  return Number.isFinite(t) ? t : undefined;
}

/**
 * Parses an ISO 8601 duration such as CloudWatch dashboards use for `start` (`-PT6H`,
 * `-P7D`, `-PT15M`); returns signed milliseconds, or undefined.
 */
export function parseIsoDuration(text: string): number | undefined {
  const m = /^([+-])?P(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(
    text.trim(),
  );
  if (!m || text.trim().replace(/^[+-]?P/, "").replace("T", "") === "") return undefined;
  const [, sign, w, d, hh, mm, ss] = m;
  const ms =
    (Number(w ?? 0) * 7 * 86400 + Number(d ?? 0) * 86400 + Number(hh ?? 0) * 3600 + Number(mm ?? 0) * 60 + Number(ss ?? 0)) *
    1000;
  return sign === "-" ? -ms : ms;
}

/** A dashboard's `start`/`end` as a range (relative durations, absolute ISO times). */
export function dashboardRange(start: unknown, end: unknown): TimeRange {
  if (typeof start === "string") {
    const d = parseIsoDuration(start);
    if (d !== undefined && d < 0 && (end === undefined || end === "")) return { kind: "relative", seconds: Math.round(-d / 1000) };
    const s = Date.parse(start);
    const e = typeof end === "string" ? Date.parse(end) : Date.now();
    if (Number.isFinite(s) && Number.isFinite(e)) return { kind: "absolute", startMs: s, endMs: e };
  }
  return { kind: "relative", seconds: 3 * 3600 };
}

/** The time range picker: relative buttons, "All", and a custom absolute range (UTC). */
export function timePicker(initial: TimeRange, onChange: (r: TimeRange) => void): HTMLElement {
  let current = initial;
  const root = h("div", { class: "time-picker", role: "group", "aria-label": "Time range" });
  const startIn = h("input", { type: "datetime-local", step: "1", "aria-label": "Start (UTC)", "data-testid": "time-start" });
  const endIn = h("input", { type: "datetime-local", step: "1", "aria-label": "End (UTC)", "data-testid": "time-end" });
  const custom = h(
    "div",
    { class: "custom-range", hidden: true },
    startIn,
    h("span", null, "→"),
    endIn,
    h("span", { class: "muted" }, "UTC"),
    h(
      "button",
      {
        class: "small",
        "data-testid": "time-apply",
        onclick: () => {
          const a = fromInput(startIn.value);
          const b = fromInput(endIn.value);
          if (a === undefined || b === undefined || b < a) {
            startIn.setCustomValidity(a === undefined ? "Enter a start time" : "");
            endIn.setCustomValidity(b === undefined || (a !== undefined && b < a) ? "End must be after start" : "");
            startIn.reportValidity();
            endIn.reportValidity();
            return;
          }
          startIn.setCustomValidity("");
          endIn.setCustomValidity("");
          set({ kind: "absolute", startMs: a, endMs: b });
        },
      },
      "Apply",
    ),
  );
  const buttons: HTMLButtonElement[] = [];
  const choice = (label: string, r: TimeRange | "custom") => {
    const b = h(
      "button",
      {
        class: "seg",
        "data-range": label,
        onclick: () => {
          if (r === "custom") {
            const { startMs, endMs } = resolve(current);
            startIn.value = toInput(startMs);
            endIn.value = toInput(endMs);
            custom.hidden = false;
            mark("custom");
          } else set(r);
        },
      },
      label === "custom" ? "Custom" : label,
    );
    buttons.push(b);
    return b;
  };
  const mark = (label: string) => {
    for (const b of buttons) b.classList.toggle("active", b.dataset.range === label);
  };
  const labelOf = (r: TimeRange) =>
    r.kind === "all" ? "All" : r.kind === "absolute" ? "custom" : RELATIVE.find(([, s]) => s === r.seconds)?.[0] ?? "custom";
  const set = (r: TimeRange) => {
    current = r;
    custom.hidden = r.kind !== "absolute";
    if (r.kind === "absolute") {
      startIn.value = toInput(r.startMs);
      endIn.value = toInput(r.endMs);
    }
    mark(labelOf(r));
    onChange(r);
  };
  root.append(
    h("div", { class: "segments" }, RELATIVE.map(([l, s]) => choice(l, { kind: "relative", seconds: s })), choice("All", { kind: "all" }), choice("custom", "custom")),
    custom,
  );
  if (current.kind === "absolute") {
    startIn.value = toInput(current.startMs);
    endIn.value = toInput(current.endMs);
    custom.hidden = false;
  }
  mark(labelOf(current));
  return root;
}
