/**
 * Request bodies are read in full, within a limit, before anything answers: before
 * authentication, routing or a handler can refuse the request. A server that answers while
 * part of the body is still unread and then closes the connection makes the kernel reset it,
 * and the client loses the answer (it sees EPIPE or "socket hang up"; issue 11 defect 1); one
 * that keeps the connection open leaves the unread bytes to be taken for the next request.
 *
 * Over the limit: the rest of the body is read and dropped, then 413 with the error shape, and
 * the connection closes. Only a body beyond DRAIN_LIMIT_BYTES, or one that stalls for
 * DRAIN_TIMEOUT_MS, is answered before it ends; that client may see a reset, which is the price
 * of not reading without bound.
 */
import { Readable } from "node:stream";
import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "./context.js";

/**
 * How much of an over-limit body is read and dropped so its 413 arrives cleanly: several times
 * both limits (4 MiB JSON, 10 MiB upload), a fraction of a second on a local network.
 */
export const DRAIN_LIMIT_BYTES = 64 * 1024 * 1024;
/** How long an over-limit body may take to arrive before the server stops waiting for it. */
export const DRAIN_TIMEOUT_MS = 10_000;

export interface BodyLimit {
  bytes: number;
  /** The 413 answer for this route (the caller's error message). */
  tooLarge: (c: Context<AppEnv>) => Response;
}

type ReadOutcome = { kind: "within"; body: Uint8Array } | { kind: "over" };

function declaredLength(c: Context<AppEnv>): number | undefined {
  if (c.req.header("transfer-encoding") !== undefined) return undefined;
  const header = c.req.header("content-length");
  if (header === undefined) return undefined;
  const length = Number(header);
  return Number.isSafeInteger(length) && length >= 0 ? length : undefined;
}

/** Resolves with the next chunk, or with `timeout` if none arrives in time. */
async function readWithin(reader: ReadableStreamDefaultReader<Uint8Array>, ms: number): Promise<Awaited<ReturnType<ReadableStreamDefaultReader<Uint8Array>["read"]>> | "timeout"> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), ms);
  });
  try {
    return await Promise.race([reader.read(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Drops the rest of the body, until it ends or a drain limit is reached. */
async function drain(reader: ReadableStreamDefaultReader<Uint8Array>, alreadyRead: number): Promise<void> {
  const deadline = Date.now() + DRAIN_TIMEOUT_MS;
  let read = alreadyRead;
  while (read <= DRAIN_LIMIT_BYTES) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) return;
    const chunk = await readWithin(reader, remaining);
    if (chunk === "timeout" || chunk.done) return;
    read += chunk.value.byteLength;
  }
}

async function readBody(stream: ReadableStream<Uint8Array>, limit: number): Promise<ReadOutcome> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await drain(reader, size);
      return { kind: "over" };
    }
    chunks.push(value);
  }
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return { kind: "within", body };
}

/** The 413, telling the client this connection is done (the body is gone or was cut off). */
function refuse(c: Context<AppEnv>, limit: BodyLimit): Response {
  const response = limit.tooLarge(c);
  response.headers.set("Connection", "close");
  return response;
}

/** GET and HEAD bodies mean nothing here, yet they are on the wire all the same. */
function bodylessMethod(c: Context<AppEnv>): boolean {
  return c.req.method === "GET" || c.req.method === "HEAD";
}

/**
 * Reads every request body (up to the limit `limitFor` gives the request) before the rest of
 * the chain runs; handlers then read it from memory as usual.
 */
export function readBodyFirst(limitFor: (c: Context<AppEnv>) => BodyLimit): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const declared = declaredLength(c);
    const chunked = c.req.header("transfer-encoding") !== undefined;
    if (declared === undefined ? !chunked : declared === 0) return next();
    const limit = limitFor(c);
    // Declared beyond what would ever be drained: answer now rather than read it for nothing.
    if (declared !== undefined && declared > DRAIN_LIMIT_BYTES) return refuse(c, limit);
    // The fetch Request of a GET has no body stream, so its bytes are read off the socket.
    const stream = bodylessMethod(c) ? Readable.toWeb(c.env.incoming) : c.req.raw.body;
    if (stream === null) return next();
    const outcome = await readBody(stream, limit.bytes);
    if (outcome.kind === "over") return refuse(c, limit);
    if (!bodylessMethod(c)) c.req.raw = new Request(c.req.raw, { body: outcome.body });
    return next();
  };
}
