// The CloudWatch metrics client (JSON 1.0, `GraniteServiceVersion20100801.<Op>`, spec §B.1/B.3)
// used by the metrics, alarms and dashboards pages. Timestamps are epoch seconds on the wire.

import { isUnavailable, monitoring } from "./api";
import type { Series } from "./charts";

export interface Dimension {
  Name: string;
  Value: string;
}

export interface Metric {
  Namespace: string;
  MetricName: string;
  Dimensions?: Dimension[];
}

export interface MetricDataQuery {
  Id: string;
  MetricStat?: { Metric: Metric; Period: number; Stat: string; Unit?: string };
  Expression?: string;
  Label?: string;
  ReturnData?: boolean;
  Period?: number;
}

export interface MetricDataResult {
  Id: string;
  Label?: string;
  Timestamps?: (number | string)[];
  Values?: number[];
  StatusCode?: string;
  Messages?: { Code?: string; Value?: string }[];
}

/** Every metric (follows NextToken, up to `max`). */
export async function listMetrics(filter: Partial<Metric> = {}, max = 5000): Promise<Metric[]> {
  const out: Metric[] = [];
  let NextToken: string | undefined;
  do {
    const r = await monitoring<{ Metrics?: Metric[]; NextToken?: string }>("ListMetrics", { ...filter, ...(NextToken ? { NextToken } : {}) });
    out.push(...(r.Metrics ?? []));
    NextToken = r.NextToken;
  } while (NextToken && out.length < max);
  return out;
}

/** A wire timestamp (epoch seconds, or an ISO string from a query-protocol bridge) as ms. */
export function wireTimeMs(t: number | string): number {
  return typeof t === "number" ? t * 1000 : Date.parse(t);
}

/** GetMetricData over [startMs, endMs], as chart series (one per returned query). */
export async function getMetricData(queries: MetricDataQuery[], startMs: number, endMs: number): Promise<{ series: Series[]; messages: string[] }> {
  const results: MetricDataResult[] = [];
  const messages: string[] = [];
  let NextToken: string | undefined;
  let pages = 0;
  do {
    const r = await monitoring<{ MetricDataResults?: MetricDataResult[]; NextToken?: string; Messages?: { Value?: string }[] }>("GetMetricData", {
      MetricDataQueries: queries,
      StartTime: Math.floor(startMs / 1000),
      EndTime: Math.ceil(endMs / 1000),
      ScanBy: "TimestampAscending",
      ...(NextToken ? { NextToken } : {}),
    });
    for (const res of r.MetricDataResults ?? []) {
      const prev = results.find((x) => x.Id === res.Id);
      if (prev) {
        prev.Timestamps = [...(prev.Timestamps ?? []), ...(res.Timestamps ?? [])];
        prev.Values = [...(prev.Values ?? []), ...(res.Values ?? [])];
      } else results.push({ ...res });
      for (const m of res.Messages ?? []) if (m.Value) messages.push(`${res.Id}: ${m.Value}`);
    }
    for (const m of r.Messages ?? []) if (m.Value) messages.push(m.Value);
    NextToken = r.NextToken;
  } while (NextToken && ++pages < 20);
  const series = results.map((res) => ({
    name: res.Label || res.Id,
    points: (res.Timestamps ?? [])
      .map((t, i) => [wireTimeMs(t), Number(res.Values?.[i])] as [number, number])
      .filter(([t, v]) => Number.isFinite(t) && Number.isFinite(v))
      .sort((a, b) => a[0] - b[0]),
  }));
  return { series, messages };
}

/** Whether the server serves the CloudWatch metrics API (probes ListMetrics once). */
let available: Promise<boolean> | null = null;
export function metricsAvailable(): Promise<boolean> {
  available ??= monitoring("ListMetrics", {})
    .then(() => true)
    .catch((e) => {
      if (isUnavailable(e)) return false;
      available = null; // another failure: ask again next time
      throw e;
    });
  return available;
}

/** `Namespace · MetricName · k=v, …` */
export function metricLabel(m: Metric): string {
  const dims = (m.Dimensions ?? []).map((d) => `${d.Name}=${d.Value}`).join(", ");
  return `${m.MetricName}${dims ? ` {${dims}}` : ""}`;
}

export const STATS = ["Average", "Sum", "Minimum", "Maximum", "SampleCount", "p50", "p90", "p99"];
export const PERIODS: [string, number][] = [
  ["1 min", 60],
  ["5 min", 300],
  ["15 min", 900],
  ["1 hour", 3600],
  ["1 day", 86400],
];

/** A period (s) giving at most ~`max` points (GetMetricStatistics caps 1,440). */
export function autoPeriod(spanMs: number, max = 300): number {
  for (const [, p] of PERIODS) if (spanMs / 1000 / p <= max) return p;
  return 86400;
}
