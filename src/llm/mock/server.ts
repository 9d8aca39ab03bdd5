/**
 * One real `node:http` server that speaks all four provider wire formats, answering each model
 * request with the next scripted turn (or an echo of the user's last message when the queue is
 * empty), recording every request, and injecting faults at the socket level so the AI SDK's own
 * provider packages meet the same failures they would in production.
 *
 * Invariants: a request consumes exactly one turn, in arrival order; API keys never leave the
 * request (recorded headers and paths carry "[present]" instead); `close()` ends every open
 * stream at once, including hung ones, so test teardown never waits on a delay.
 */
import { setMaxListeners } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { anthropic } from "./anthropic.js";
import { google } from "./google.js";
import { openaiChat } from "./openai-chat.js";
import { openaiResponses } from "./openai-responses.js";
import {
  defaultTurn,
  parseTurn,
  resolveTurn,
  splitInto,
  type MockTurn,
  type ParsedTurn,
  type ResolvedTurn,
} from "./script.js";
import { defaultErrorMessages, type MockFormat, type RenderContext, type RequestInfo, type WireFormat } from "./wire.js";

export interface RecordedRequest {
  format: MockFormat;
  method: string;
  /** Path and query as received, with any `key=` query value redacted. */
  path: string;
  /** Lower-case names; credential headers read "[present]". */
  headers: Record<string, string>;
  /** The parsed JSON body (`null` if it was not JSON). */
  body: unknown;
  stream: boolean;
  model: string;
  /** A queued turn answered, the default echo turn did, or the mock rejected the request (not JSON). */
  answeredBy: "script" | "default" | "error";
}

/**
 * A turn, or a function choosing the turn once the request it answers is known. The function may
 * return a promise, so a test can hold a response until the state it wants to observe is reached.
 */
export type MockTurnSource = MockTurn | ((request: RecordedRequest) => MockTurn | Promise<MockTurn>);

export interface MockLlmOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: string;
  /** Turns queued before the first request. */
  turns?: MockTurnSource[];
  /** Delay before each chunk for turns that set no `chunkDelayMs` (default 0). */
  defaultChunkDelayMs?: number;
  /** Called for every request, after it is recorded (the CLI logs with it). */
  onRequest?: (request: RecordedRequest) => void;
  /**
   * Chooses the turn when the queue is empty, instead of the echo. For load and chaos tests,
   * where the number of requests is not known in advance (retries, runs repeated after a crash)
   * and each turn has to be derived from the conversation the request carries.
   */
  fallback?: (request: RecordedRequest) => MockTurn | Promise<MockTurn>;
  /**
   * Queued turns answer streamed requests only; non-streamed ones (chatd's titles and summaries)
   * get the default echo. For scripts run by hand (`npm run mock-llm --script`), where a title
   * request racing the first step must not take the step's scripted tool call.
   */
  streamedTurnsOnly?: boolean;
}

export interface MockLlm {
  /** `http://host:port`, no trailing slash. */
  readonly url: string;
  /** The `baseURL` to give each AI SDK provider factory. */
  readonly baseUrls: { openai: string; openaiCompat: string; anthropic: string; google: string };
  readonly requests: readonly RecordedRequest[];
  /** Turns still queued. */
  readonly pendingTurns: number;
  enqueue(...turns: MockTurnSource[]): void;
  /** Forgets queued turns and recorded requests. */
  reset(): void;
  /** Resolves once at least `count` requests were recorded since the last reset. */
  waitForRequests(count: number, timeoutMs?: number): Promise<readonly RecordedRequest[]>;
  close(): Promise<void>;
}

const formats: readonly WireFormat[] = [openaiChat, openaiResponses, anthropic, google];
const secretHeaders = new Set(["authorization", "proxy-authorization", "x-api-key", "x-goog-api-key", "api-key", "cookie"]);
const maxBodyBytes = 64 * 1024 * 1024;
const REDACTED = "[present]";
const RESET_GRACE_MS = 25;
const STREAM_ERROR_STATUS = 500;

type QueuedTurn = ParsedTurn | ((request: RecordedRequest) => MockTurn | Promise<MockTurn>);
type Waiter = { count: number; resolve: (requests: readonly RecordedRequest[]) => void; reject: (error: Error) => void };

export async function startMockLlm(options: MockLlmOptions = {}): Promise<MockLlm> {
  const host = options.host ?? "127.0.0.1";
  const queue: QueuedTurn[] = [];
  const requests: RecordedRequest[] = [];
  let waiters: Waiter[] = [];
  let idCounter = 0;
  const shutdown = new AbortController();
  // Every stream in flight listens for shutdown: hundreds at once is a load test, not a leak.
  setMaxListeners(0, shutdown.signal);
  const nextId = (prefix: string) => `${prefix}mock_${++idCounter}`;

  const enqueue = (...turns: MockTurnSource[]) => {
    for (const turn of turns) queue.push(typeof turn === "function" ? turn : parseTurn(turn));
  };
  enqueue(...(options.turns ?? []));

  const record = (request: RecordedRequest) => {
    requests.push(request);
    waiters = waiters.filter((waiter) => {
      if (requests.length < waiter.count) return true;
      waiter.resolve(requests);
      return false;
    });
    options.onRequest?.(request);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      if (!res.headersSent) sendJson(res, 500, { error: { message: `mock-llm: ${message}` } });
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawPath = req.url ?? "/";
    const pathname = new URL(rawPath, "http://mock.invalid").pathname;
    if (req.method === "GET" && (pathname === "/" || pathname === "/healthz")) {
      sendJson(res, 200, { name: "mock-llm", baseUrls: mock.baseUrls, pendingTurns: queue.length });
      return;
    }
    const routed = route(pathname);
    if (!routed || req.method !== "POST") {
      req.resume();
      sendJson(res, 404, { error: { message: `mock-llm: no model endpoint at ${req.method} ${pathname}` } });
      return;
    }
    const { wire, match } = routed;
    const body = parseJson(await readBody(req));
    const info = wire.describe(body, match);
    const invalid = body === null ? undefined : wire.invalidRequest?.(body);
    // A request the mock cannot read, or the provider would refuse, answers with an error and
    // leaves the script alone.
    const skipsQueue = body === null || invalid !== undefined || (options.streamedTurnsOnly === true && !info.stream);
    const source = skipsQueue ? undefined : queue.shift();
    const recorded: RecordedRequest = {
      format: wire.format,
      method: req.method,
      path: rawPath.replace(/([?&]key=)[^&]*/g, `$1${REDACTED}`),
      headers: redactHeaders(req),
      body,
      stream: info.stream,
      model: info.model,
      answeredBy: body === null || invalid !== undefined ? "error" : source === undefined && (options.fallback === undefined || skipsQueue) ? "default" : "script",
    };
    record(recorded);
    const headers = wire.responseHeaders(nextId("req_"));
    if (body === null) {
      sendJson(res, 400, wire.errorBody(400, "mock-llm: the request body is not JSON"), headers);
      return;
    }
    if (invalid !== undefined) {
      sendJson(res, 400, wire.errorBody(400, invalid), headers);
      return;
    }
    let turn: ResolvedTurn;
    try {
      const chosen = source ?? (skipsQueue ? undefined : options.fallback);
      const parsed =
        chosen === undefined ? defaultTurn(info.lastUserText) : typeof chosen === "function" ? parseTurn(await chosen(recorded)) : chosen;
      turn = resolveTurn(parsed, body, options.defaultChunkDelayMs ?? 0);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      sendJson(res, 500, wire.errorBody(500, `mock-llm: the scripted turn failed: ${message}`), headers);
      return;
    }
    await respond(wire, info, turn, res, headers);
  }

  async function respond(
    wire: WireFormat,
    info: RequestInfo,
    turn: ResolvedTurn,
    res: ServerResponse,
    headers: Record<string, string>,
  ): Promise<void> {
    const fault = turn.fault;
    const ctx: RenderContext = {
      model: info.model,
      created: Math.floor(Date.now() / 1000),
      id: nextId,
      includeUsage: info.includeUsage,
    };
    if (fault?.type === "http" || (fault?.type === "stream-error" && !info.stream)) {
      // A non-streaming answer cannot fail halfway with a body, so a stream error becomes a status.
      const status = fault.status ?? STREAM_ERROR_STATUS;
      const retryAfter: Record<string, string> =
        fault.type === "http" && fault.retryAfterSeconds !== undefined ? { "retry-after": String(fault.retryAfterSeconds) } : {};
      if (turn.chunkDelayMs > 0 && !(await pause(turn.chunkDelayMs))) return;
      const message = fault.message ?? defaultErrorMessages[status] ?? "Error (mock).";
      sendJson(res, status, wire.errorBody(status, message), { ...headers, ...retryAfter });
      return;
    }
    if (info.stream) {
      const streamHeaders = { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" };
      let tail: string | undefined;
      if (fault?.type === "stream-error") {
        const status = fault.status ?? STREAM_ERROR_STATUS;
        tail = wire.streamErrorFrame(status, fault.message ?? defaultErrorMessages[status] ?? "Error (mock).");
      }
      await sendChunks(res, { ...headers, ...streamHeaders }, wire.streamFrames(turn, ctx), turn, tail);
      return;
    }
    const json = JSON.stringify(wire.jsonBody(turn, ctx));
    // Under a fault the body goes out in two halves, so "after 1 chunk" means half a JSON document.
    const chunks = fault === undefined ? [json] : splitInto(json, 2);
    const length: Record<string, string> = fault === undefined ? { "content-length": String(Buffer.byteLength(json)) } : {};
    await sendChunks(res, { ...headers, "content-type": "application/json", ...length }, chunks, turn, undefined);
  }

  async function sendChunks(
    res: ServerResponse,
    headers: Record<string, string>,
    chunks: readonly string[],
    turn: ResolvedTurn,
    errorFrame: string | undefined,
  ): Promise<void> {
    const fault = turn.fault?.type === "http" ? undefined : turn.fault;
    const limit = fault === undefined ? chunks.length : Math.min(fault.afterChunks, chunks.length);
    res.writeHead(200, headers);
    res.flushHeaders();
    for (const chunk of chunks.slice(0, limit)) {
      if (turn.chunkDelayMs > 0 && !(await pause(turn.chunkDelayMs))) return;
      if (!(await write(res, chunk))) return;
    }
    switch (fault?.type) {
      case "reset":
        // libuv reports an RST that lands behind unread bytes as a clean EOF ("other side closed"),
        // so the client gets a moment to read what was sent; then an RST, not a FIN: ECONNRESET.
        await pause(RESET_GRACE_MS);
        if (res.socket && !res.socket.destroyed) res.socket.resetAndDestroy();
        else res.destroy();
        return;
      case "hang":
        await untilClosed(res);
        return;
      case "stream-error":
        res.end(errorFrame);
        return;
      case "truncate":
      case undefined:
        res.end();
        return;
    }
  }

  /** Waits `ms`; false if the mock closed meanwhile. */
  async function pause(ms: number): Promise<boolean> {
    try {
      await sleep(ms, undefined, { signal: shutdown.signal });
      return true;
    } catch {
      return false;
    }
  }

  function untilClosed(res: ServerResponse): Promise<void> {
    return new Promise((resolve) => {
      if (res.destroyed || shutdown.signal.aborted) return resolve();
      const done = () => {
        res.off("close", done);
        shutdown.signal.removeEventListener("abort", done);
        resolve();
      };
      res.once("close", done);
      shutdown.signal.addEventListener("abort", done);
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("mock-llm: server has no TCP address");
  const url = `http://${formatHost(address.address)}:${address.port}`;
  let closing: Promise<void> | undefined;

  const mock: MockLlm = {
    url,
    baseUrls: { openai: `${url}/v1`, openaiCompat: `${url}/v1`, anthropic: `${url}/v1`, google: `${url}/v1beta` },
    get requests() {
      return requests;
    },
    get pendingTurns() {
      return queue.length;
    },
    enqueue,
    reset() {
      queue.length = 0;
      requests.length = 0;
    },
    waitForRequests(count, timeoutMs = 5_000) {
      if (requests.length >= count) return Promise.resolve(requests);
      if (shutdown.signal.aborted) return Promise.reject(new Error("mock-llm: closed"));
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters = waiters.filter((waiter) => waiter !== entry);
          reject(new Error(`mock-llm: waited ${timeoutMs} ms for ${count} requests, got ${requests.length}`));
        }, timeoutMs);
        const entry: Waiter = {
          count,
          resolve: (value) => {
            clearTimeout(timer);
            resolve(value);
          },
          reject: (error) => {
            clearTimeout(timer);
            reject(error);
          },
        };
        waiters.push(entry);
      });
    },
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        shutdown.abort();
        for (const waiter of waiters) waiter.reject(new Error("mock-llm: closed"));
        waiters = [];
        server.close((error) => (error ? reject(error) : resolve()));
        // Open streams (slow, hung) would otherwise hold close() until they finish.
        server.closeAllConnections();
      });
      return closing;
    },
  };
  return mock;
}

function route(pathname: string): { wire: WireFormat; match: NonNullable<ReturnType<WireFormat["match"]>> } | undefined {
  for (const wire of formats) {
    const match = wire.match(pathname);
    if (match) return { wire, match };
  }
  return undefined;
}

function redactHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    headers[name] = secretHeaders.has(name) ? REDACTED : Array.isArray(value) ? value.join(", ") : value;
  }
  return headers;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > maxBodyBytes) throw new Error(`request body over ${maxBodyBytes} bytes`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, "content-type": "application/json", "content-length": String(Buffer.byteLength(text)) });
  res.end(text);
}

/** Resolves once the chunk reached the socket; false if the client went away first. */
function write(res: ServerResponse, chunk: string): Promise<boolean> {
  return new Promise((resolve) => {
    if (res.destroyed || res.writableEnded) return resolve(false);
    const onClose = () => resolve(false);
    res.once("close", onClose);
    res.write(chunk, (error) => {
      res.off("close", onClose);
      resolve(!error);
    });
  });
}

function formatHost(address: string): string {
  return address.includes(":") ? `[${address}]` : address;
}
