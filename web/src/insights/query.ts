// Running Logs Insights queries (StartQuery → GetQueryResults → StopQuery) and the query
// rewrites the console makes for the histogram.

import { AwsError, logs, type QueryResults, type ResultField } from "../api";

/** Terminal statuses of GetQueryResults (spec §A.2). */
export const TERMINAL = new Set(["Complete", "Failed", "Cancelled", "Timeout", "Unknown"]);

export interface QueryRequest {
  logGroupNames: string[];
  startMs: number;
  endMs: number;
  queryString: string;
  limit?: number;
}

/**
 * Runs a query to its end. `onProgress` sees each poll's (partial) results. Aborting
 * `signal` stops the query on the server (StopQuery) and resolves with what it has, status
 * `Cancelled`. Compile errors reject with the server's `MalformedQueryException`.
 */
export async function runQuery(
  req: QueryRequest,
  onProgress: (r: QueryResults, queryId: string) => void = () => {},
  signal?: AbortSignal,
): Promise<QueryResults & { queryId: string }> {
  const start = await logs<{ queryId: string }>("StartQuery", {
    // A query that starts with SOURCE names its own log groups (spec §A.2 StartQuery).
    ...(req.logGroupNames.length ? { logGroupNames: req.logGroupNames } : {}),
    // StartQuery takes epoch seconds, both ends inclusive (spec §A.2).
    startTime: Math.floor(req.startMs / 1000),
    endTime: Math.floor(req.endMs / 1000),
    queryString: req.queryString,
    ...(req.limit ? { limit: req.limit } : {}),
  });
  const queryId = start.queryId;
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    logs("StopQuery", { queryId }).catch(() => {
      /* the query may have ended meanwhile: "not running" is fine */
    });
  };
  signal?.addEventListener("abort", stop, { once: true });
  let delay = 150;
  try {
    for (;;) {
      const r = await logs<QueryResults>("GetQueryResults", { queryId });
      onProgress(r, queryId);
      if (TERMINAL.has(r.status)) return { ...r, queryId };
      if (stopped) {
        // one more poll after StopQuery shows the final (Cancelled) state
        await sleep(200);
        const last = await logs<QueryResults>("GetQueryResults", { queryId });
        onProgress(last, queryId);
        return { ...last, queryId };
      }
      await sleep(delay);
      delay = Math.min(1000, delay * 1.5);
    }
  } finally {
    signal?.removeEventListener("abort", stop);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The server's compile error as offsets + message, if `e` is one. */
export function compileError(e: unknown): { startChar: number; endChar: number; message: string } | null {
  if (!(e instanceof AwsError) || e.type !== "MalformedQueryException") return null;
  const qce = (e.body as any).queryCompileError;
  const loc = qce?.location ?? {};
  return {
    startChar: Number(loc.startCharOffset ?? 0),
    endChar: Number(loc.endCharOffset ?? 0),
    message: String(qce?.message ?? e.message),
  };
}

/** Result rows as objects (field → value), without `@ptr` unless `keepPtr`. */
export function rowsToObjects(rows: ResultField[][], keepPtr = false): Record<string, string>[] {
  return rows.map((row) => {
    const o: Record<string, string> = {};
    for (const { field, value } of row) if (keepPtr || field !== "@ptr") o[field] = value;
    return o;
  });
}

/** The columns of result rows, in first-seen order, `@ptr` excluded. */
export function columnsOf(rows: ResultField[][]): string[] {
  const seen = new Set<string>();
  for (const row of rows) for (const { field } of row) if (field !== "@ptr") seen.add(field);
  return [...seen];
}

/** One stage of a query: its command word (lower case) and text. */
export interface Stage {
  command: string;
  text: string;
}

const REGEX_BEFORE = /(?:\blike|\bparse|\bnot|\bin|=~|[(,]|\bfilter|\bwhere)\s*$/i;

/**
 * Splits a query into stages at top-level `|`, skipping quoted strings, backtick names,
 * comments and regex literals (a `/` starts a regex after `like`, `=~`, `parse`, `(` or `,`).
 */
export function splitStages(query: string): Stage[] {
  const stages: Stage[] = [];
  let start = 0;
  let i = 0;
  while (i < query.length) {
    const c = query[i];
    if (c === '"' || c === "'" || c === "`") {
      i++;
      while (i < query.length && query[i] !== c) i += query[i] === "\\" && c !== "`" ? 2 : 1;
      i++;
    } else if (c === "#") {
      const nl = query.indexOf("\n", i);
      i = nl < 0 ? query.length : nl;
    } else if (c === "/" && REGEX_BEFORE.test(query.slice(start, i))) {
      i++;
      while (i < query.length && query[i] !== "/") i += query[i] === "\\" ? 2 : 1;
      i++;
    } else if (c === "|") {
      stages.push(stage(query.slice(start, i)));
      start = ++i;
    } else i++;
  }
  stages.push(stage(query.slice(start)));
  return stages.filter((s) => s.text.replace(/#[^\n]*/g, "").trim() !== "");
}

function stage(text: string): Stage {
  const word = /^\s*(?:#[^\n]*\n\s*)*([A-Za-z_]+)/.exec(text);
  return { command: word ? word[1].toLowerCase() : "", text: text.trim() };
}

/** Whether a query aggregates (has a `stats` stage): its results chart, no histogram. */
export function hasStats(query: string): boolean {
  return splitStages(query).some((s) => s.command === "stats");
}

/**
 * The query behind the histogram of matched events: the user's query without its
 * ordering and output stages (`sort`, `limit`, `head`, `display`), then
 * `stats count(*) as events by bin(<period>)`. [I] AWS draws this histogram from the records
 * its filters match; dropping those stages keeps exactly the matching records.
 */
export function histogramQuery(query: string, period: string): string | null {
  const stages = splitStages(query);
  if (stages.some((s) => s.command === "stats")) return null;
  const kept = stages.filter((s) => !["sort", "limit", "head", "display"].includes(s.command)).map((s) => s.text);
  kept.push(`stats count(*) as events by bin(${period})`);
  return kept.join("\n| ");
}

/** The query that finds the time span of the matched events (for "All time"). */
export function spanQuery(query: string): string | null {
  const stages = splitStages(query);
  if (stages.some((s) => s.command === "stats")) return null;
  const kept = stages.filter((s) => !["sort", "limit", "head", "display"].includes(s.command)).map((s) => s.text);
  kept.push("stats min(@timestamp) as first, max(@timestamp) as last");
  return kept.join("\n| ");
}

/** The tail that histogramQuery/spanQuery append: such queries are the console's, hidden from History. */
export const HELPER_SUFFIX = /\n\| stats (count\(\*\) as events by bin\(\w+\)|min\(@timestamp\) as first, max\(@timestamp\) as last)$/;

const BINS: [string, number][] = [
  ["1s", 1e3], ["5s", 5e3], ["10s", 10e3], ["30s", 30e3], ["1m", 60e3], ["5m", 300e3], ["10m", 600e3], ["30m", 1800e3],
  ["1h", 3600e3], ["3h", 3 * 3600e3], ["6h", 6 * 3600e3], ["12h", 12 * 3600e3], ["1d", 86400e3], ["7d", 7 * 86400e3], ["30d", 30 * 86400e3],
];

/** A bin period giving at most ~`maxBins` bars over `spanMs`: [text, ms]. */
export function binFor(spanMs: number, maxBins = 100): [string, number] {
  return BINS.find(([, ms]) => spanMs / ms <= maxBins) ?? BINS[BINS.length - 1];
}
