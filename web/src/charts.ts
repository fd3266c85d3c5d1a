// Hand-written SVG charts (no chart library): time series as line, stacked area or bars,
// categorical bars, and the Logs Insights histogram. Charts redraw at the container's width.

import { fmtShort, h, s } from "./dom";

/** One series: points are [epoch ms, value]; a missing period is simply absent. */
export interface Series {
  name: string;
  points: [number, number][];
}

export type ChartKind = "line" | "area" | "bar";

export interface TimeChartOptions {
  kind: ChartKind;
  /** Stack series (area and bar). */
  stacked?: boolean;
  height?: number;
  /** Horizontal threshold line (alarms). */
  threshold?: { value: number; label: string };
  /** The x range to draw; defaults to the data's. */
  xRange?: [number, number];
  /** Width of one bar period in ms (bars); default: the smallest gap in the data. */
  periodMs?: number;
  /** Label for the y axis. */
  yLabel?: string;
}

export const PALETTE = ["#2f6fdb", "#e07b00", "#2e9e5b", "#c8334b", "#8e5bd0", "#14a3b8", "#b58900", "#d45d9d", "#5b6b7f", "#7aa32e"];

const TIME_STEPS = [
  1e3, 5e3, 10e3, 30e3, 60e3, 5 * 60e3, 10 * 60e3, 15 * 60e3, 30 * 60e3, 3600e3, 3 * 3600e3, 6 * 3600e3, 12 * 3600e3, 86400e3,
  2 * 86400e3, 7 * 86400e3, 14 * 86400e3, 30 * 86400e3, 91 * 86400e3, 365 * 86400e3,
];

function niceStep(span: number, target: number): number {
  const raw = span / Math.max(1, target);
  const mag = 10 ** Math.floor(Math.log10(raw || 1));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * mag >= raw) return m * mag;
  return 10 * mag;
}

function timeLabel(t: number, step: number, span: number): string {
  const iso = new Date(t).toISOString();
  if (step >= 86400e3) return iso.slice(0, 10);
  if (span > 86400e3) return `${iso.slice(5, 10)} ${iso.slice(11, 16)}`;
  if (step < 60e3) return iso.slice(11, 19);
  return iso.slice(11, 16);
}

/** Draws `series` in `container` (replacing its content) and keeps it sized to the container. */
export function timeChart(container: HTMLElement, series: Series[], opts: TimeChartOptions): void {
  const draw = () => drawTimeChart(container, series, opts);
  draw();
  const prev = (container as any).__ro as ResizeObserver | undefined;
  prev?.disconnect();
  let lastWidth = container.clientWidth;
  const ro = new ResizeObserver(() => {
    if (Math.abs(container.clientWidth - lastWidth) > 4) {
      lastWidth = container.clientWidth;
      draw();
    }
  });
  ro.observe(container);
  (container as any).__ro = ro;
}

function drawTimeChart(container: HTMLElement, series: Series[], opts: TimeChartOptions): void {
  const width = Math.max(280, container.clientWidth || 600);
  const height = opts.height ?? 260;
  const m = { l: 52, r: 12, t: 10, b: 26 };
  const w = width - m.l - m.r;
  const ht = height - m.t - m.b;
  const xs = [...new Set(series.flatMap((se) => se.points.map((p) => p[0])))].sort((a, b) => a - b);
  if (xs.length === 0 && !opts.xRange) {
    container.replaceChildren(h("div", { class: "empty" }, "No data points in this range."));
    return;
  }
  let periodMs = opts.periodMs ?? 0;
  if (!periodMs) {
    periodMs = Infinity;
    for (let i = 1; i < xs.length; i++) periodMs = Math.min(periodMs, xs[i] - xs[i - 1]);
    if (!Number.isFinite(periodMs)) periodMs = 60e3;
  }
  const bars = opts.kind === "bar";
  let [x0, x1] = opts.xRange ?? [xs[0], xs[xs.length - 1] + (bars ? periodMs : 0)];
  if (x1 <= x0) x1 = x0 + periodMs;
  const stacked = opts.stacked && opts.kind !== "line";
  // values per series per x
  const index = new Map(xs.map((x, i) => [x, i]));
  const grid = series.map((se) => {
    const row: (number | undefined)[] = new Array(xs.length).fill(undefined);
    for (const [x, v] of se.points) row[index.get(x)!] = v;
    return row;
  });
  const base: number[][] = [];
  const acc = new Array(xs.length).fill(0);
  for (const row of grid) {
    base.push(acc.slice());
    if (stacked) row.forEach((v, i) => (acc[i] += v ?? 0));
  }
  let yMax = -Infinity;
  let yMin = Infinity;
  grid.forEach((row, si) =>
    row.forEach((v, i) => {
      if (v === undefined) return;
      const top = stacked ? base[si][i] + v : v;
      yMax = Math.max(yMax, top);
      yMin = Math.min(yMin, stacked ? base[si][i] : v);
    }),
  );
  if (opts.threshold) {
    yMax = Math.max(yMax, opts.threshold.value);
    yMin = Math.min(yMin, opts.threshold.value);
  }
  if (!Number.isFinite(yMax)) {
    yMax = 1;
    yMin = 0;
  }
  yMin = Math.min(0, yMin);
  if (yMax === yMin) yMax = yMin + 1;
  const ystep = niceStep(yMax - yMin, 5);
  yMax = Math.ceil(yMax / ystep) * ystep;
  yMin = Math.floor(yMin / ystep) * ystep;
  const X = (t: number) => m.l + ((t - x0) / (x1 - x0)) * w;
  const Y = (v: number) => m.t + ht - ((v - yMin) / (yMax - yMin)) * ht;

  const svg = s("svg", { width, height, class: "chart", role: "img", "aria-label": opts.yLabel ?? "chart" });
  // grid + y axis
  for (let v = yMin; v <= yMax + ystep / 2; v += ystep) {
    svg.append(s("line", { x1: m.l, x2: m.l + w, y1: Y(v), y2: Y(v), class: "grid" }));
    svg.append(s("text", { x: m.l - 6, y: Y(v) + 4, class: "tick", "text-anchor": "end" }, fmtShort(v)));
  }
  // x axis
  const span = x1 - x0;
  const tstep = TIME_STEPS.find((st) => span / st <= Math.max(2, Math.floor(w / 90))) ?? TIME_STEPS[TIME_STEPS.length - 1];
  for (let t = Math.ceil(x0 / tstep) * tstep; t <= x1; t += tstep) {
    svg.append(s("line", { x1: X(t), x2: X(t), y1: m.t + ht, y2: m.t + ht + 4, class: "axis" }));
    svg.append(s("text", { x: X(t), y: height - 6, class: "tick", "text-anchor": "middle" }, timeLabel(t, tstep, span)));
  }
  svg.append(s("line", { x1: m.l, x2: m.l + w, y1: m.t + ht, y2: m.t + ht, class: "axis" }));

  const n = series.length;
  grid.forEach((row, si) => {
    const color = PALETTE[si % PALETTE.length];
    if (bars) {
      const slot = Math.max(1, X(x0 + periodMs) - X(x0) - 1);
      const bw = stacked ? slot : Math.max(1, slot / n);
      row.forEach((v, i) => {
        if (v === undefined) return;
        const b0 = stacked ? base[si][i] : 0;
        const x = X(xs[i]) + (stacked ? 0 : bw * si);
        const yTop = Y(b0 + v);
        const yBot = Y(b0);
        svg.append(s("rect", { x, y: Math.min(yTop, yBot), width: bw, height: Math.max(0.5, Math.abs(yBot - yTop)), fill: color, class: "bar", "data-t": xs[i], "data-v": v }));
      });
      return;
    }
    // line / area: break the line at missing points (line) or treat missing as 0 (stacked area)
    const segs: [number, number, number][][] = [];
    let cur: [number, number, number][] = [];
    row.forEach((v, i) => {
      if (v === undefined && !stacked) {
        if (cur.length) segs.push(cur);
        cur = [];
        return;
      }
      const b0 = stacked ? base[si][i] : yMin < 0 ? 0 : yMin;
      cur.push([X(xs[i]), Y(b0 + (v ?? 0)), Y(stacked ? base[si][i] : b0)]);
    });
    if (cur.length) segs.push(cur);
    for (const seg of segs) {
      const line = seg.map(([x, y], k) => `${k ? "L" : "M"}${x.toFixed(1)},${y.toFixed(1)}`).join("");
      if (opts.kind === "area") {
        const back = seg
          .slice()
          .reverse()
          .map(([x, , yb]) => `L${x.toFixed(1)},${yb.toFixed(1)}`)
          .join("");
        svg.append(s("path", { d: `${line}${back}Z`, fill: color, "fill-opacity": 0.35, stroke: "none" }));
      }
      svg.append(s("path", { d: line, fill: "none", stroke: color, "stroke-width": 1.8, class: "series" }));
      if (seg.length === 1) svg.append(s("circle", { cx: seg[0][0], cy: seg[0][1], r: 2.5, fill: color }));
    }
  });
  if (opts.threshold) {
    const y = Y(opts.threshold.value);
    svg.append(s("line", { x1: m.l, x2: m.l + w, y1: y, y2: y, class: "threshold" }));
    svg.append(s("text", { x: m.l + w - 4, y: y - 4, class: "threshold-label", "text-anchor": "end" }, opts.threshold.label));
  }
  // hover: nearest x
  const cursor = s("line", { y1: m.t, y2: m.t + ht, class: "cursor", visibility: "hidden" });
  svg.append(cursor);
  const tip = h("div", { class: "chart-tip", hidden: true });
  svg.addEventListener("mousemove", (ev) => {
    const rect = svg.getBoundingClientRect();
    const px = ev.clientX - rect.left;
    let best = -1;
    let bd = Infinity;
    xs.forEach((x, i) => {
      const d = Math.abs(X(x) + (bars ? (X(x0 + periodMs) - X(x0)) / 2 : 0) - px);
      if (d < bd) {
        bd = d;
        best = i;
      }
    });
    if (best < 0) return;
    const cx = X(xs[best]) + (bars ? (X(x0 + periodMs) - X(x0)) / 2 : 0);
    cursor.setAttribute("x1", String(cx));
    cursor.setAttribute("x2", String(cx));
    cursor.setAttribute("visibility", "visible");
    tip.replaceChildren(
      h("div", { class: "tip-time" }, new Date(xs[best]).toISOString().replace("T", " ").slice(0, 19)),
      ...series.map((se, si) =>
        grid[si][best] === undefined
          ? null
          : h("div", null, h("span", { class: "swatch", style: `background:${PALETTE[si % PALETTE.length]}` }), `${se.name}: ${fmtShort(grid[si][best]!)}`),
      ).filter((x): x is HTMLDivElement => x !== null),
    );
    tip.hidden = false;
    tip.style.left = `${Math.min(cx + 12, width - 180)}px`;
    tip.style.top = `${m.t}px`;
  });
  svg.addEventListener("mouseleave", () => {
    cursor.setAttribute("visibility", "hidden");
    tip.hidden = true;
  });
  const legend =
    series.length > 1 || (series.length === 1 && series[0].name)
      ? h(
          "div",
          { class: "legend" },
          series.slice(0, 40).map((se, si) => h("span", { class: "legend-item" }, h("span", { class: "swatch", style: `background:${PALETTE[si % PALETTE.length]}` }), se.name)),
          series.length > 40 ? h("span", { class: "muted" }, `… ${series.length - 40} more`) : null,
        )
      : null;
  container.replaceChildren(h("div", { class: "chart-wrap" }, svg, tip), legend ?? "");
}

/** Horizontal bars for categorical results (`stats count(*) by eventName`). */
export function barList(container: HTMLElement, items: { label: string; value: number }[]): void {
  const max = Math.max(0, ...items.map((i) => i.value)) || 1;
  container.replaceChildren(
    h(
      "div",
      { class: "barlist" },
      items.slice(0, 100).map((it, i) =>
        h(
          "div",
          { class: "barlist-row" },
          h("span", { class: "barlist-label", title: it.label }, it.label === "" ? "(empty)" : it.label),
          h(
            "span",
            { class: "barlist-track" },
            h("span", { class: "barlist-bar", style: `width:${((Math.max(0, it.value) / max) * 100).toFixed(2)}%;background:${PALETTE[i % PALETTE.length]}` }),
          ),
          h("span", { class: "barlist-value" }, fmtShort(it.value)),
        ),
      ),
    ),
  );
}
