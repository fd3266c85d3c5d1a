// Small DOM helpers: the console uses no UI framework.

type Child = Node | string | number | null | undefined | false | Child[];
type Attrs = Record<string, unknown> & { class?: string; style?: string };

/** Creates an element: `h("button", {class: "primary", onclick}, "Run")`. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs | null = null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith("on") && typeof v === "function") {
        el.addEventListener(k.slice(2), v as EventListener);
      } else if (k === "value" && "value" in el) {
        (el as HTMLInputElement).value = String(v);
      } else if (k === "checked" && "checked" in el) {
        (el as HTMLInputElement).checked = Boolean(v);
      } else if (v === true) {
        el.setAttribute(k, "");
      } else {
        el.setAttribute(k, String(v));
      }
    }
  }
  append(el, children);
  return el;
}

function append(el: Node, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.appendChild(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
  }
}

/** Replaces an element's children. */
export function mount(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

/** SVG element. */
export function s<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number | undefined> = {},
  ...children: (SVGElement | string)[]
): SVGElementTagNameMap[K] {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) el.setAttribute(k, String(v));
  for (const c of children) el.append(c);
  return el;
}

/** `2024-01-02 12:00:00` (UTC) of epoch ms. */
export function fmtTime(ms: number | undefined): string {
  if (ms === undefined || ms === null || !Number.isFinite(ms)) return "—";
  return new Date(ms).toISOString().replace("T", " ").replace(/\.\d{3}Z$/, "").replace("Z", "");
}

/** Bytes as `1.2 MB`. */
export function fmtBytes(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return "—";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}

/** A count with thousands separators. */
export function fmtCount(n: number | undefined): string {
  return n === undefined || !Number.isFinite(n) ? "—" : Math.round(n).toLocaleString("en-US");
}

/** A short number for chart axes (`1.2k`, `3.4M`). */
export function fmtShort(n: number): string {
  const a = Math.abs(n);
  if (a >= 1e9) return `${+(n / 1e9).toFixed(1)}G`;
  if (a >= 1e6) return `${+(n / 1e6).toFixed(1)}M`;
  if (a >= 1e4) return `${+(n / 1e3).toFixed(1)}k`;
  if (a !== 0 && a < 0.01) return n.toExponential(1);
  return `${+n.toFixed(2)}`;
}

/**
 * Parses a Logs Insights timestamp value as GetQueryResults renders it
 * (`2024-01-02 12:00:00.000`, UTC; spec insights-language §10), an ISO 8601 string or
 * epoch milliseconds. Returns epoch ms, or undefined.
 */
export function parseTimestamp(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?$/.exec(v.trim());
  if (m) {
    const ms = m[7] ? Number(m[7].slice(0, 3).padEnd(3, "0")) : 0;
    let t = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], m[6] ? +m[6] : 0, ms);
    if (m[8] && m[8] !== "Z") {
      const sign = m[8][0] === "-" ? -1 : 1;
      const digits = m[8].slice(1).replace(":", "");
      t -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
    }
    return t;
  }
  return undefined;
}

/** Saves text as a file download (a blob: URL; nothing leaves the browser). */
export function download(name: string, type: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h("a", { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** An error as a notice box. */
export function errorBox(e: unknown): HTMLElement {
  const err = e as { name?: string; type?: string; message?: string };
  return h("div", { class: "notice error", role: "alert" }, h("strong", null, err.type ?? err.name ?? "Error"), ": ", err.message ?? String(e));
}

/** The "not available on this server" notice for pages whose API the server lacks. */
export function unavailableBox(what: string, ops: string[]): HTMLElement {
  return h(
    "div",
    { class: "notice unavailable", "data-testid": "unavailable" },
    h("strong", null, `${what}: not available on this server`),
    h(
      "p",
      null,
      `This OpenWatch server does not answer the CloudWatch operations this page needs (${ops.join(", ")}). `,
      "Nothing is shown rather than made-up data; the page works once the server serves them.",
    ),
  );
}

/** Natural comparison: numbers numerically, then strings. */
export function naturalCompare(a: string | undefined, b: string | undefined): number {
  if (a === b) return 0;
  if (a === undefined || a === "") return 1;
  if (b === undefined || b === "") return -1;
  const na = Number(a);
  const nb = Number(b);
  if (a.trim() !== "" && b.trim() !== "" && Number.isFinite(na) && Number.isFinite(nb)) return na - nb;
  return a.localeCompare(b, "en", { numeric: true });
}
