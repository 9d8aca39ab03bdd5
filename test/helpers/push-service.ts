/**
 * A real, local web push service for tests: an HTTP server on loopback that receives what chatd
 * sends to a subscription's endpoint, checks the VAPID authorization (RFC 8292: an ES256 JWT
 * whose `aud` is the endpoint's origin, `exp` in the future, `sub` present, signed by the key in
 * `k`) and decrypts the aes128gcm body (RFC 8188 records, keys derived as RFC 8291 says) with the
 * subscription's private key. Written with node:crypto only, independently of web-push, so it
 * checks what a browser's push service and the browser would.
 *
 * A subscription is made here (the test plays the browser): a P-256 key pair and a 16-byte auth
 * secret. Each one answers 201 unless told to answer another status (410: "gone").
 */
import { createECDH, createPublicKey, createDecipheriv, hkdfSync, randomBytes, randomUUID, verify, type ECDH } from "node:crypto";
import http from "node:http";
import { z } from "zod";

/** aes128gcm header: salt (16), record size (4), key id length (1), then the key id. */
const SALT_BYTES = 16;
const HEADER_FIXED_BYTES = SALT_BYTES + 4 + 1;
const TAG_BYTES = 16;
/** RFC 8188: a record's last plaintext byte is 0x02 for the last record, 0x01 for the others. */
const LAST_RECORD_DELIMITER = 0x02;
/** RFC 8292 section 2: a JWT may not be valid for more than 24 hours. */
const MAX_JWT_LIFETIME_S = 24 * 60 * 60;

export interface BrowserSubscription {
  endpoint: string;
  /** What the browser's PushSubscription.toJSON() gives: the request body of the subscribe route. */
  json: { endpoint: string; p256dh_key: string; auth_key: string };
}

export interface ReceivedPush {
  endpoint: string;
  /** The decrypted payload, parsed. */
  message: unknown;
  /** The VAPID claims and key that authorized it. */
  claims: { aud: string; exp: number; sub: string };
  vapidPublicKey: string;
  ttl: string | null;
}

interface Registered {
  ecdh: ECDH;
  auth: Buffer;
  status: number;
}

const jwtHeaderSchema = z.object({ typ: z.literal("JWT").optional(), alg: z.literal("ES256") });
const jwtClaimsSchema = z.object({ aud: z.string(), exp: z.number().int(), sub: z.string().min(1) });

/** The raw uncompressed point as a KeyObject node:crypto can verify with. */
function p256PublicKey(raw: Buffer) {
  if (raw.length !== 65 || raw[0] !== 0x04) throw new Error("VAPID k is not an uncompressed P-256 point");
  return createPublicKey({
    format: "jwk",
    key: { kty: "EC", crv: "P-256", x: raw.subarray(1, 33).toString("base64url"), y: raw.subarray(33).toString("base64url") },
  });
}

/** Checks `Authorization: vapid t=<jwt>, k=<key>` for a push to `origin`; returns the claims and key. */
export function verifyVapid(header: string | undefined, origin: string, nowS = Math.floor(Date.now() / 1000)) {
  const match = /^vapid t=([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+),\s*k=([A-Za-z0-9_-]+)$/.exec(header ?? "");
  if (!match?.[1] || !match[2]) throw new Error(`not a VAPID authorization: ${header ?? "(none)"}`);
  const [encodedHeader = "", encodedClaims = "", signature = ""] = match[1].split(".");
  jwtHeaderSchema.parse(JSON.parse(Buffer.from(encodedHeader, "base64url").toString("utf8")));
  const claims = jwtClaimsSchema.parse(JSON.parse(Buffer.from(encodedClaims, "base64url").toString("utf8")));
  const key = p256PublicKey(Buffer.from(match[2], "base64url"));
  // JWS ES256 signatures are r || s (IEEE P1363), not DER.
  const valid = verify("sha256", Buffer.from(`${encodedHeader}.${encodedClaims}`), { key, dsaEncoding: "ieee-p1363" }, Buffer.from(signature, "base64url"));
  if (!valid) throw new Error("VAPID JWT signature does not verify with k");
  if (claims.aud !== origin) throw new Error(`VAPID aud ${claims.aud} is not the endpoint's origin ${origin}`);
  if (claims.exp <= nowS) throw new Error("VAPID JWT has expired");
  if (claims.exp > nowS + MAX_JWT_LIFETIME_S) throw new Error("VAPID JWT is valid for more than 24 hours");
  return { claims, vapidPublicKey: match[2] };
}

/** Decrypts an aes128gcm push body for the browser holding `ecdh` and `auth` (RFC 8291 section 3.4). */
export function decryptAes128gcm(body: Buffer, ecdh: ECDH, auth: Buffer): Buffer {
  if (body.length < HEADER_FIXED_BYTES) throw new Error("aes128gcm body is shorter than its header");
  const salt = body.subarray(0, SALT_BYTES);
  const recordSize = body.readUInt32BE(SALT_BYTES);
  const idLength = body.readUInt8(SALT_BYTES + 4);
  const serverPublic = body.subarray(HEADER_FIXED_BYTES, HEADER_FIXED_BYTES + idLength);
  if (serverPublic.length !== 65) throw new Error("aes128gcm key id is not the sender's P-256 public key");
  const shared = ecdh.computeSecret(serverPublic);
  const keyInfo = Buffer.concat([Buffer.from("WebPush: info\0"), ecdh.getPublicKey(), serverPublic]);
  const ikm = Buffer.from(hkdfSync("sha256", shared, auth, keyInfo, 32));
  const cek = Buffer.from(hkdfSync("sha256", ikm, salt, Buffer.from("Content-Encoding: aes128gcm\0"), 16));
  const baseNonce = Buffer.from(hkdfSync("sha256", ikm, salt, Buffer.from("Content-Encoding: nonce\0"), 12));
  const records = body.subarray(HEADER_FIXED_BYTES + idLength);
  const plaintexts: Buffer[] = [];
  for (let offset = 0, sequence = 0; offset < records.length; offset += recordSize, sequence += 1) {
    const record = records.subarray(offset, offset + recordSize);
    // The nonce of record i is the base nonce XOR i (as a 96-bit big-endian number; i < 2^32 here).
    const nonce = Buffer.from(baseNonce);
    nonce.writeUInt32BE((nonce.readUInt32BE(8) ^ sequence) >>> 0, 8);
    const decipher = createDecipheriv("aes-128-gcm", cek, nonce);
    decipher.setAuthTag(record.subarray(record.length - TAG_BYTES));
    const padded = Buffer.concat([decipher.update(record.subarray(0, record.length - TAG_BYTES)), decipher.final()]);
    let end = padded.length;
    while (end > 0 && padded[end - 1] === 0) end -= 1;
    const delimiter = padded[end - 1];
    const last = offset + recordSize >= records.length;
    if (delimiter !== (last ? LAST_RECORD_DELIMITER : 0x01)) throw new Error(`aes128gcm record ${sequence} has a bad padding delimiter`);
    plaintexts.push(padded.subarray(0, end - 1));
  }
  return Buffer.concat(plaintexts);
}

export class LocalPushService {
  readonly received: ReceivedPush[] = [];
  /** Requests that failed verification or decryption (a test fails if any appear). */
  readonly rejected: string[] = [];
  readonly #subscriptions = new Map<string, Registered>();
  readonly #waiters = new Set<() => void>();

  private constructor(
    private readonly server: http.Server,
    readonly origin: string,
  ) {}

  static async start(): Promise<LocalPushService> {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("push service is not on TCP");
    const service = new LocalPushService(server, `http://127.0.0.1:${address.port}`);
    server.on("request", (request, response) => void service.#handle(request, response));
    return service;
  }

  /** A new browser subscription at this service (status: what its endpoint answers). */
  subscribe(status = 201): BrowserSubscription {
    const ecdh = createECDH("prime256v1");
    ecdh.generateKeys();
    const auth = randomBytes(16);
    const endpoint = `${this.origin}/push/${randomUUID()}`;
    this.#subscriptions.set(new URL(endpoint).pathname, { ecdh, auth, status });
    return { endpoint, json: { endpoint, p256dh_key: ecdh.getPublicKey().toString("base64url"), auth_key: auth.toString("base64url") } };
  }

  /** Pushes received so far whose payload's `data.url` is `url`. */
  pushesTo(url: string): ReceivedPush[] {
    return this.received.filter((push) => JSON.stringify(push.message).includes(`"url":${JSON.stringify(url)}`));
  }

  /** Resolves once `predicate` holds over what was received; rejects at the deadline. */
  async waitUntil(predicate: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
    if (predicate()) return;
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!predicate()) return;
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`push service: timed out after ${timeoutMs} ms waiting for ${what}; rejected: ${this.rejected.join("; ")}`));
      }, timeoutMs);
      this.#waiters.add(check);
    });
  }

  async #handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
    const path = new URL(request.url ?? "/", this.origin).pathname;
    const registered = this.#subscriptions.get(path);
    if (!registered) {
      response.writeHead(404).end();
      return;
    }
    try {
      if (request.method !== "POST") throw new Error(`method ${request.method ?? ""}`);
      if (request.headers["content-encoding"] !== "aes128gcm") throw new Error(`content-encoding ${request.headers["content-encoding"] ?? "(none)"}`);
      const { claims, vapidPublicKey } = verifyVapid(request.headers.authorization, this.origin);
      const plaintext = decryptAes128gcm(Buffer.concat(chunks), registered.ecdh, registered.auth);
      const ttl = request.headers.ttl;
      this.received.push({
        endpoint: `${this.origin}${path}`,
        message: JSON.parse(plaintext.toString("utf8")),
        claims,
        vapidPublicKey,
        ttl: typeof ttl === "string" ? ttl : null,
      });
      response.writeHead(registered.status).end();
    } catch (error) {
      this.rejected.push(error instanceof Error ? error.message : String(error));
      response.writeHead(400).end();
    }
    for (const waiter of [...this.#waiters]) waiter();
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }
}
