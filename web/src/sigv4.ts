// AWS Signature Version 4 for the console's requests, computed in the browser.
//
// Source: AWS General Reference, "Create a signed AWS API request" (canonical request,
// string to sign, signing key derivation). The console signs `host`, `x-amz-date` and
// `x-amz-target` (the server requires `host` and `x-amz-date`; crates/ow-api/src/auth.rs).
// WebCrypto does the hashing where the page is a secure context (localhost, 127.0.0.1,
// HTTPS); elsewhere (a plain-HTTP LAN address) a small SHA-256 in TypeScript does.

const enc = new TextEncoder();

/** Credentials the user pasted (the access key `openwatch serve` printed). */
export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
}

/** Hex of bytes. */
export function hex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

const subtle: SubtleCrypto | undefined =
  typeof crypto !== "undefined" && crypto.subtle && globalThis.isSecureContext !== false ? crypto.subtle : undefined;

/** SHA-256 of bytes. */
export async function sha256(data: Uint8Array): Promise<Uint8Array> {
  if (subtle) return new Uint8Array(await subtle.digest("SHA-256", data as BufferSource));
  return sha256Sync(data);
}

/** HMAC-SHA-256 (RFC 2104) of `data` under `key`. */
export async function hmac(key: Uint8Array, data: Uint8Array): Promise<Uint8Array> {
  if (subtle) {
    const k = await subtle.importKey("raw", key as BufferSource, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    return new Uint8Array(await subtle.sign("HMAC", k, data as BufferSource));
  }
  const block = 64;
  let k = key.length > block ? sha256Sync(key) : key;
  const padded = new Uint8Array(block);
  padded.set(k);
  const inner = new Uint8Array(block + data.length);
  const outer = new Uint8Array(block + 32);
  for (let i = 0; i < block; i++) {
    inner[i] = padded[i] ^ 0x36;
    outer[i] = padded[i] ^ 0x5c;
  }
  inner.set(data, block);
  outer.set(sha256Sync(inner), block);
  return sha256Sync(outer);
}

const K = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2,
]);

/** SHA-256 (FIPS 180-4) in plain TypeScript, for pages that are not a secure context. */
export function sha256Sync(data: Uint8Array): Uint8Array {
  const len = data.length;
  const total = Math.ceil((len + 9) / 64) * 64;
  const buf = new Uint8Array(total);
  buf.set(data);
  buf[len] = 0x80;
  const view = new DataView(buf.buffer);
  view.setUint32(total - 8, Math.floor(len / 0x20000000));
  view.setUint32(total - 4, (len << 3) >>> 0);
  const h = new Uint32Array([
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
  ]);
  const w = new Uint32Array(64);
  const rotr = (x: number, n: number) => (x >>> n) | (x << (32 - n));
  for (let off = 0; off < total; off += 64) {
    for (let i = 0; i < 16; i++) w[i] = view.getUint32(off + i * 4);
    for (let i = 16; i < 64; i++) {
      const s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >>> 3);
      const s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >>> 10);
      w[i] = (w[i - 16] + s0 + w[i - 7] + s1) >>> 0;
    }
    let [a, b, c, d, e, f, g, hh] = h;
    for (let i = 0; i < 64; i++) {
      const s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
      const ch = (e & f) ^ (~e & g);
      const t1 = (hh + s1 + ch + K[i] + w[i]) >>> 0;
      const s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
      const maj = (a & b) ^ (a & c) ^ (b & c);
      const t2 = (s0 + maj) >>> 0;
      hh = g;
      g = f;
      f = e;
      e = (d + t1) >>> 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) >>> 0;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
  }
  const out = new Uint8Array(32);
  const ov = new DataView(out.buffer);
  for (let i = 0; i < 8; i++) ov.setUint32(i * 4, h[i]);
  return out;
}

/** `YYYYMMDDTHHMMSSZ` of a date (SigV4's X-Amz-Date). */
export function amzDate(d: Date): string {
  return d.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
}

/**
 * Signs a `POST /` request: returns the headers to send (`X-Amz-Date`, `Authorization`)
 * in addition to `headers` (which must hold `x-amz-target`). `host` is the request's Host
 * header value (the page's `location.host`).
 */
export async function signPost(
  creds: Credentials,
  service: string,
  host: string,
  headers: Record<string, string>,
  body: string,
  now: Date = new Date(),
): Promise<Record<string, string>> {
  const date = amzDate(now);
  const day = date.slice(0, 8);
  const all: Record<string, string> = { host, "x-amz-date": date };
  for (const [k, v] of Object.entries(headers)) all[k.toLowerCase()] = v;
  const names = Object.keys(all).sort();
  const canonicalHeaders = names.map((n) => `${n}:${all[n].trim().replace(/\s+/g, " ")}\n`).join("");
  const signedHeaders = names.join(";");
  const payloadHash = hex(await sha256(enc.encode(body)));
  const canonical = ["POST", "/", "", canonicalHeaders, signedHeaders, payloadHash].join("\n");
  const scope = `${day}/${creds.region}/${service}/aws4_request`;
  const toSign = ["AWS4-HMAC-SHA256", date, scope, hex(await sha256(enc.encode(canonical)))].join("\n");
  let key = await hmac(enc.encode(`AWS4${creds.secretAccessKey}`), enc.encode(day));
  key = await hmac(key, enc.encode(creds.region));
  key = await hmac(key, enc.encode(service));
  key = await hmac(key, enc.encode("aws4_request"));
  const signature = hex(await hmac(key, enc.encode(toSign)));
  return {
    "X-Amz-Date": date,
    Authorization: `AWS4-HMAC-SHA256 Credential=${creds.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
  };
}
