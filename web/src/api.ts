// The console's only way to the server: signed AWS JSON requests to `POST /` of the page's
// own origin, exactly what an AWS SDK sends (spec/api.md §A.1 for Logs, §B.1 for metrics).

import { type Credentials, signPost } from "./sigv4";

/** One AWS JSON service as the console calls it. */
export interface Service {
  /** SigV4 signing name (`logs`, `monitoring`). */
  signingName: string;
  /** `X-Amz-Target` prefix, with the trailing dot. */
  targetPrefix: string;
  /** Request content type (JSON 1.1 for Logs, JSON 1.0 for CloudWatch). */
  contentType: string;
  /** Extra headers (signed too). */
  headers?: Record<string, string>;
}

/** CloudWatch Logs: AWS JSON 1.1, `Logs_20140328.<Op>` (spec §A.1). */
export const LOGS: Service = {
  signingName: "logs",
  targetPrefix: "Logs_20140328.",
  contentType: "application/x-amz-json-1.1",
};

/** CloudWatch metrics, alarms, dashboards: AWS JSON 1.0, query-compatible (spec §B.1). */
export const MONITORING: Service = {
  signingName: "monitoring",
  targetPrefix: "GraniteServiceVersion20100801.",
  contentType: "application/x-amz-json-1.0",
  headers: { "x-amzn-query-mode": "true" },
};

/** An error answer: `__type` without any `namespace#` prefix, the message, the whole body. */
export class AwsError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status: number,
    readonly body: Record<string, unknown>,
  ) {
    super(message);
    this.name = type;
  }
}

/**
 * True when the server does not serve the operation: it answered
 * `UnknownOperationException`, or it refused credentials scoped to the operation's
 * service (a server without the CloudWatch metrics API accepts only `logs`-scoped
 * signatures and says so before looking at the target).
 */
export function isUnavailable(e: unknown): boolean {
  if (!(e instanceof AwsError)) return false;
  if (e.type === "UnknownOperationException" || e.type === "UnknownOperation") return true;
  return e.type === "InvalidSignatureException" && /scoped to correct service/i.test(e.message);
}

const CREDS_KEY = "openwatch.credentials";

/** The credentials kept for this browser tab (sessionStorage), if any. */
export function loadCredentials(): Credentials | null {
  try {
    const raw = sessionStorage.getItem(CREDS_KEY);
    if (!raw) return null;
    const c = JSON.parse(raw) as Credentials;
    return c.accessKeyId && c.secretAccessKey ? c : null;
  } catch {
    return null;
  }
}

/** Keeps credentials for this tab only (never localStorage, never a cookie). */
export function saveCredentials(c: Credentials | null): void {
  if (c) sessionStorage.setItem(CREDS_KEY, JSON.stringify(c));
  else sessionStorage.removeItem(CREDS_KEY);
}

/** Called when the server refuses the credentials (so the shell can ask again). */
export let onAuthFailure: (e: AwsError) => void = () => {};
export function setAuthFailureHandler(f: (e: AwsError) => void): void {
  onAuthFailure = f;
}

const AUTH_ERRORS = new Set([
  "UnrecognizedClientException",
  "MissingAuthenticationTokenException",
  "IncompleteSignatureException",
]);

/** Calls `op` of `service` with `input`; resolves to the JSON answer. */
export async function call<T = any>(
  service: Service,
  op: string,
  input: unknown = {},
  signal?: AbortSignal,
): Promise<T> {
  const creds = loadCredentials();
  if (!creds) throw new AwsError("MissingAuthenticationTokenException", "Sign in first", 0, {});
  const body = JSON.stringify(input ?? {});
  const headers: Record<string, string> = {
    "x-amz-target": service.targetPrefix + op,
    ...(service.headers ?? {}),
  };
  const signed = await signPost(creds, service.signingName, location.host, headers, body);
  let response: Response;
  try {
    response = await fetch("/", {
      method: "POST",
      headers: { ...headers, ...signed, "Content-Type": service.contentType },
      body,
      signal,
      credentials: "omit",
      cache: "no-store",
    });
  } catch (e) {
    if ((e as Error).name === "AbortError") throw e;
    throw new AwsError("NetworkError", `The server did not answer: ${(e as Error).message}`, 0, {});
  }
  const text = await response.text();
  let json: any = {};
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    json = { message: text.slice(0, 300) };
  }
  if (!response.ok) {
    const rawType = String(json.__type ?? json.code ?? `HTTP${response.status}`);
    const type = rawType.includes("#") ? rawType.slice(rawType.lastIndexOf("#") + 1) : rawType;
    const err = new AwsError(type, String(json.message ?? json.Message ?? response.statusText), response.status, json);
    if (AUTH_ERRORS.has(type) || (type === "InvalidSignatureException" && !isUnavailable(err))) onAuthFailure(err);
    throw err;
  }
  return json as T;
}

/** CloudWatch Logs call. */
export const logs = <T = any>(op: string, input: unknown = {}, signal?: AbortSignal) =>
  call<T>(LOGS, op, input, signal);

/** CloudWatch (metrics/alarms/dashboards) call. */
export const monitoring = <T = any>(op: string, input: unknown = {}, signal?: AbortSignal) =>
  call<T>(MONITORING, op, input, signal);

// ---- Logs shapes (spec §A.2) ----

export interface LogGroup {
  logGroupName: string;
  creationTime?: number;
  retentionInDays?: number;
  storedBytes?: number;
  metricFilterCount?: number;
  arn?: string;
  logGroupClass?: string;
}

export interface LogStream {
  logStreamName: string;
  creationTime?: number;
  firstEventTimestamp?: number;
  lastEventTimestamp?: number;
  lastIngestionTime?: number;
}

export interface ResultField {
  field: string;
  value: string;
}

export interface QueryStatistics {
  recordsMatched?: number;
  recordsScanned?: number;
  bytesScanned?: number;
  logGroupsScanned?: number;
}

export interface QueryResults {
  status: string;
  results: ResultField[][];
  statistics?: QueryStatistics;
}

/** Every log group (follows `nextToken`, up to `max`). */
export async function allLogGroups(max = 1000): Promise<LogGroup[]> {
  const out: LogGroup[] = [];
  let nextToken: string | undefined;
  do {
    const page = await logs<{ logGroups?: LogGroup[]; nextToken?: string }>("DescribeLogGroups", {
      limit: 50,
      ...(nextToken ? { nextToken } : {}),
    });
    out.push(...(page.logGroups ?? []));
    nextToken = page.nextToken;
  } while (nextToken && out.length < max);
  return out;
}

/** The newest event time of a log group (ms), from its most recently written stream. */
export async function newestEventMs(logGroupName: string): Promise<number | undefined> {
  const page = await logs<{ logStreams?: LogStream[] }>("DescribeLogStreams", {
    logGroupName,
    orderBy: "LastEventTime",
    descending: true,
    limit: 1,
  });
  const s = page.logStreams?.[0];
  return s?.lastEventTimestamp ?? s?.lastIngestionTime;
}
