/**
 * HTTP requests over node:http that tell apart the three ways a request can end: an answer, an
 * answer followed by the server closing the connection (a 413 sent before the unread rest of a
 * body), and a connection closed without any answer. fetch() folds the last two into one
 * rejection ("other side closed", EPIPE), which is exactly what the fuzz test must not hide.
 */
import http from "node:http";
import net from "node:net";

export interface RawRequest {
  method: string;
  /** Path and query string, sent as is (may be deliberately malformed). */
  path: string;
  headers?: Record<string, string>;
  /** Sent in chunks of at most CHUNK_BYTES; Content-Length is set unless `chunked`. */
  body?: Uint8Array | string;
  /** Send the body with Transfer-Encoding: chunked instead of a Content-Length. */
  chunked?: boolean;
}

export type RawOutcome =
  | { kind: "answered"; status: number; headers: http.IncomingHttpHeaders; text: string; json: unknown; closedAfter: boolean }
  | { kind: "no_answer"; error: string };

/** Writes are split so a server that stops reading shows up mid-body, as it would for a real client. */
const CHUNK_BYTES = 256 * 1024;
/** A request that sees nothing for this long counts as hung: no server answer should take it. */
const NO_ANSWER_TIMEOUT_MS = 20_000;

function parseJson(text: string): unknown {
  if (text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = Reflect.get(error, "code");
  return typeof code === "string" ? `${code}: ${error.message}` : error.message;
}

/**
 * Sends one request to `baseUrl` and settles with what came back; never rejects. `agent` lets a
 * caller reuse connections (keep-alive); a server that closes one must still answer first.
 */
export function rawRequest(baseUrl: string, request: RawRequest, agent?: http.Agent): Promise<RawOutcome> {
  const url = new URL(baseUrl);
  const body = typeof request.body === "string" ? Buffer.from(request.body, "utf8") : request.body;
  const headers: Record<string, string> = { ...request.headers };
  if (body !== undefined && !request.chunked) headers["Content-Length"] = String(body.byteLength);
  if (body !== undefined && request.chunked) headers["Transfer-Encoding"] = "chunked";

  return new Promise<RawOutcome>((resolve) => {
    let settled = false;
    let answered: Extract<RawOutcome, { kind: "answered" }> | undefined;
    const settle = (outcome: RawOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    const req = http.request({
      host: url.hostname,
      port: url.port,
      method: request.method,
      path: request.path,
      headers,
      agent: agent ?? false,
    });
    const timer = setTimeout(() => {
      req.destroy(new Error(`no answer within ${NO_ANSWER_TIMEOUT_MS} ms`));
    }, NO_ANSWER_TIMEOUT_MS);
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        answered = {
          kind: "answered",
          status: res.statusCode ?? 0,
          headers: res.headers,
          text,
          json: parseJson(text),
          closedAfter: res.headers.connection === "close",
        };
        settle(answered);
      });
      res.on("error", (error) => settle(answered ?? { kind: "no_answer", error: `response: ${errorText(error)}` }));
    });
    // After a complete answer, a write error (EPIPE as the server closes) is expected, not a failure.
    req.on("error", (error) => settle(answered ?? { kind: "no_answer", error: errorText(error) }));

    if (body === undefined) {
      req.end();
      return;
    }
    let offset = 0;
    const writeMore = () => {
      while (offset < body.byteLength) {
        const chunk = body.subarray(offset, Math.min(offset + CHUNK_BYTES, body.byteLength));
        offset += chunk.byteLength;
        if (!req.write(chunk)) {
          req.once("drain", writeMore);
          return;
        }
      }
      req.end();
    };
    writeMore();
  });
}

/**
 * Writes a whole request (head and body) before reading a byte of the answer, as a client that
 * is busy sending does. If the server closes while body bytes are still unread on its side, the
 * kernel resets the connection and throws away the answer it had sent: this then rejects with
 * the socket error (EPIPE, ECONNRESET) instead of returning an answer.
 */
export function sendWholeThenRead(baseUrl: string, head: string, body: Uint8Array): Promise<string> {
  const url = new URL(baseUrl);
  return new Promise<string>((resolve, reject) => {
    const socket = net.connect(Number(url.port), url.hostname);
    const chunks: Buffer[] = [];
    socket.pause();
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    socket.on("error", (error) => reject(new Error(errorText(error))));
    socket.write(head);
    socket.write(body, (error) => {
      if (error) reject(new Error(errorText(error)));
      else socket.resume();
    });
  });
}
