// Unit tests of the console's pure functions (vitest, node environment).
import { describe, expect, test } from "vitest";
import { markdown } from "./markdown";
import { metricQueries, parseBody, splitSources } from "./pages/dashboards";
import { charToUtf16, fieldRef } from "./insights/language";
import { binFor, HELPER_SUFFIX, histogramQuery, spanQuery, splitStages } from "./insights/query";
import { hex, hmac, sha256, sha256Sync, signPost } from "./sigv4";
import { naturalCompare, parseTimestamp } from "./dom";
import { dashboardRange, parseIsoDuration } from "./time";

const enc = new TextEncoder();

describe("sigv4", () => {
  test("SHA-256 (FIPS 180-4 examples), WebCrypto and the fallback agree", async () => {
    const abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    expect(hex(sha256Sync(enc.encode("abc")))).toBe(abc);
    expect(hex(await sha256(enc.encode("abc")))).toBe(abc);
    expect(hex(sha256Sync(new Uint8Array()))).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    const long = enc.encode("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq");
    expect(hex(sha256Sync(long))).toBe("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    const big = new Uint8Array(1000).map((_, i) => i & 255);
    expect(hex(sha256Sync(big))).toBe(hex(await sha256(big)));
  });

  test("signing key derivation (AWS General Reference example)", async () => {
    let key = await hmac(enc.encode("AWS4wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"), enc.encode("20120215"));
    key = await hmac(key, enc.encode("us-east-1"));
    key = await hmac(key, enc.encode("iam"));
    key = await hmac(key, enc.encode("aws4_request"));
    expect(hex(key)).toBe("f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
  });

  test("post-vanilla (AWS SigV4 test suite)", async () => {
    const headers = await signPost(
      { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", region: "us-east-1" },
      "service",
      "example.amazonaws.com",
      {},
      "",
      new Date(Date.UTC(2015, 7, 30, 12, 36, 0)),
    );
    expect(headers["X-Amz-Date"]).toBe("20150830T123600Z");
    expect(headers.Authorization).toBe(
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
    );
  });
});

describe("query text", () => {
  test("stages split at top-level pipes only", () => {
    const q = `fields @message # a | comment\n| filter @message like /a|b/ and x = "c|d"\n| parse @message "[*] *" as a, b\n| stats count(*) by bin(5m)`;
    expect(splitStages(q).map((s) => s.command)).toEqual(["fields", "filter", "parse", "stats"]);
    expect(splitStages("fields a / b | limit 3").map((s) => s.command)).toEqual(["fields", "limit"]);
  });

  test("the histogram query keeps filters and drops ordering and output", () => {
    expect(histogramQuery("fields @timestamp, x | filter x > 1 | sort @timestamp desc | limit 20 | display x", "5m")).toBe(
      "fields @timestamp, x\n| filter x > 1\n| stats count(*) as events by bin(5m)",
    );
    expect(histogramQuery("filter x | stats count(*)", "1m")).toBeNull();
    expect(spanQuery("filter x = 1 | limit 5")).toBe("filter x = 1\n| stats min(@timestamp) as first, max(@timestamp) as last");
    expect(HELPER_SUFFIX.test(histogramQuery("fields x", "5m")!)).toBe(true);
    expect(HELPER_SUFFIX.test(spanQuery("fields x")!)).toBe(true);
    expect(HELPER_SUFFIX.test("stats count(*) as events by bin(5m)")).toBe(false);
  });

  test("bins give at most 100 bars", () => {
    expect(binFor(3600e3)).toEqual(["1m", 60e3]);
    expect(binFor(2 * 3600e3)).toEqual(["5m", 300e3]);
    expect(binFor(7 * 86400e3)).toEqual(["3h", 3 * 3600e3]);
  });

  test("server character offsets become UTF-16 offsets", () => {
    expect(charToUtf16("abc", 2)).toBe(2);
    expect(charToUtf16("😀 | x", 2)).toBe(3);
    expect(charToUtf16("é😀x", 3)).toBe(4);
    expect(charToUtf16("ab", 9)).toBe(2);
  });

  test("field references are quoted when needed", () => {
    expect(fieldRef("userIdentity.arn")).toBe("userIdentity.arn");
    expect(fieldRef("@timestamp")).toBe("@timestamp");
    expect(fieldRef("a b")).toBe("`a b`");
  });
});

describe("values", () => {
  test("Insights timestamps parse as UTC", () => {
    expect(parseTimestamp("2023-07-10 11:42:18.000")).toBe(Date.UTC(2023, 6, 10, 11, 42, 18));
    expect(parseTimestamp("2023-07-10T11:42:18Z")).toBe(Date.UTC(2023, 6, 10, 11, 42, 18));
    expect(parseTimestamp("2023-07-10T13:42:18+02:00")).toBe(Date.UTC(2023, 6, 10, 11, 42, 18));
    expect(parseTimestamp("12")).toBeUndefined();
  });

  test("natural comparison: numbers numerically", () => {
    expect(["10", "9", "b", "a2", "a10", ""].sort(naturalCompare)).toEqual(["9", "10", "a2", "a10", "b", ""]);
  });
});

describe("dashboards", () => {
  test("metric rows become GetMetricData queries; '.' repeats", () => {
    const q = metricQueries({
      stat: "Sum",
      period: 60,
      metrics: [
        ["AWS/EC2", "CPUUtilization", "InstanceId", "i-1", { id: "m1", stat: "Average" }],
        [".", ".", ".", "i-2"],
        [{ expression: "m1 * 2", label: "double", id: "e1" }],
      ],
    });
    expect(q).toEqual([
      { Id: "m1", MetricStat: { Metric: { Namespace: "AWS/EC2", MetricName: "CPUUtilization", Dimensions: [{ Name: "InstanceId", Value: "i-1" }] }, Period: 60, Stat: "Average" }, Label: "CPUUtilization i-1", ReturnData: true },
      { Id: "w1", MetricStat: { Metric: { Namespace: "AWS/EC2", MetricName: "CPUUtilization", Dimensions: [{ Name: "InstanceId", Value: "i-2" }] }, Period: 60, Stat: "Sum" }, Label: "CPUUtilization i-2", ReturnData: true },
      { Id: "e1", Expression: "m1 * 2", Label: "double", ReturnData: true, Period: 60 },
    ]);
  });

  test("log widget queries carry their log groups as SOURCE clauses", () => {
    expect(splitSources("SOURCE 'a' | SOURCE \"b/c\" | stats count(*) by bin(1h)")).toEqual({ groups: ["a", "b/c"], query: "stats count(*) by bin(1h)" });
    expect(splitSources("fields x")).toEqual({ groups: [], query: "fields x" });
  });

  test("bodies: raw, or an exported GetDashboard answer", () => {
    const body = { widgets: [{ type: "text", properties: { markdown: "x" } }] };
    expect(parseBody(JSON.stringify(body)).body).toEqual(body);
    expect(parseBody(JSON.stringify({ DashboardName: "d", DashboardBody: JSON.stringify(body) }))).toEqual({ body, name: "d" });
    expect(() => parseBody("{}")).toThrow(/widgets/);
    expect(() => parseBody('{"widgets":[{}]}')).toThrow(/type/);
  });

  test("dashboard time ranges", () => {
    expect(parseIsoDuration("-PT6H")).toBe(-6 * 3600e3);
    expect(parseIsoDuration("-P7D")).toBe(-7 * 86400e3);
    expect(parseIsoDuration("-P1DT12H30M")).toBe(-(86400 + 12 * 3600 + 1800) * 1000);
    expect(parseIsoDuration("P")).toBeUndefined();
    expect(dashboardRange("-PT3H", undefined)).toEqual({ kind: "relative", seconds: 10800 });
    expect(dashboardRange("2023-07-10T11:00:00Z", "2023-07-10T13:00:00Z")).toEqual({ kind: "absolute", startMs: Date.UTC(2023, 6, 10, 11), endMs: Date.UTC(2023, 6, 10, 13) });
  });

  test("markdown escapes HTML and unsafe links", () => {
    const html = markdown('# T <b>\n<script>alert(1)</script> **bold** [x](javascript:alert(1)) [y](https://e.x/)');
    expect(html).not.toContain("<script>");
    expect(html).not.toContain("javascript:");
    expect(html).toContain("<h1>T &lt;b&gt;</h1>");
    expect(html).toContain("<strong>bold</strong>");
    expect(html).toContain('<a href="https://e.x/"');
  });
});
