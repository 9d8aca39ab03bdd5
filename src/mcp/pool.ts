/**
 * One replica's MCP connections: one pooled client per server (or per server and user, for
 * OAuth 2), connected lazily, shared by every run, closed when idle, and reconnected with capped,
 * jittered back-off. While a server is backing off, runs skip it at once without trying; each
 * back-off step makes one attempt and writes one log line, so a dead server cannot flood the log
 * (peers report reconnect storms of hundreds of thousands of lines).
 *
 * Secrets (headers) live only in the transport; every error text is redacted before it is
 * logged or shown.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport, StreamableHTTPError } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import { ErrorCode, McpError, type Tool } from "@modelcontextprotocol/sdk/types.js";
import type { Logger } from "../observability/logger.js";
import { VERSION } from "../version.js";
import type { McpServerSpec } from "./config.js";

/** behavior.md section 6: a server gets 10 s to connect and list its tools, else it is skipped. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** behavior.md section 6: one tool call gets 60 s. */
export const DEFAULT_CALL_TIMEOUT_MS = 60_000;
/** Idle connections close after this; a stdio server is a process kept alive on this host. */
export const DEFAULT_IDLE_TIMEOUT_MS = 5 * 60_000;
/** First back-off step after a failed connect; doubled per further failure. */
export const BACKOFF_BASE_MS = 1_000;
/** The longest wait between attempts: a server fixed by its admin is used again within minutes. */
export const BACKOFF_CAP_MS = 5 * 60_000;
/** Longest error text kept from a failure (server bodies can be large). */
const MAX_ERROR_TEXT = 300;

export interface McpPoolOptions {
  log: Logger;
  connectTimeoutMs?: number;
  callTimeoutMs?: number;
  idleTimeoutMs?: number;
  /** Tests make back-off deterministic; `Math.random` otherwise. */
  random?: () => number;
}

interface Entry {
  spec: McpServerSpec;
  client: Client | undefined;
  connecting: Promise<Client> | undefined;
  tools: Tool[];
  failures: number;
  /** No attempt before this time (epoch ms). */
  retryAt: number;
  lastError: string;
  lastUsed: number;
  /** Calls in flight: an entry in use is never closed as idle. */
  active: number;
}

export type ToolListing = { ok: true; tools: Tool[] } | { ok: false; reason: string };

export type CallOutcome = { ok: true; result: unknown } | { ok: false; reason: string; timedOut: boolean };

/** Full-jitter exponential back-off, capped: half the step fixed, half random. */
export function backoffDelay(failures: number, random: () => number = Math.random): number {
  const step = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, failures - 1));
  return Math.round(step / 2 + (step / 2) * random());
}

/** The error's text with every secret of the spec blanked out, shortened. */
export function redactedError(error: unknown, spec: McpServerSpec): string {
  let text = error instanceof Error ? error.message : String(error);
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : "";
  if (cause && !text.includes(cause)) text = `${text}: ${cause}`;
  for (const value of Object.values(spec.headers)) {
    if (value.length >= 4) text = text.split(value).join("[redacted]");
  }
  text = text.replace(/(https?:\/\/)[^/\s@]+@/g, "$1[redacted]@").replace(/([?&][^=\s&]+=)[^&\s]+/g, "$1[redacted]");
  return text.length > MAX_ERROR_TEXT ? `${text.slice(0, MAX_ERROR_TEXT)}…` : text;
}

/** A failure where the request cannot have reached a live session: safe to send again once. */
function neverProcessed(error: unknown): boolean {
  if (error instanceof StreamableHTTPError) return error.code === 404;
  const cause = error instanceof Error ? error.cause : undefined;
  const code = cause instanceof Error ? Reflect.get(cause, "code") : undefined;
  return code === "ECONNREFUSED";
}

function transportFor(spec: McpServerSpec): Transport {
  if (spec.transport === "stdio") {
    // The child gets the SDK's minimal default environment, never this server's (its keys).
    return new StdioClientTransport({ command: spec.command ?? "", args: spec.args, stderr: "ignore" });
  }
  const url = new URL(spec.url ?? "");
  const requestInit: RequestInit = { headers: spec.headers };
  if (spec.transport === "sse") {
    // The event stream is a GET of its own: it needs the same headers as the POSTs.
    const withHeaders = (input: string | URL | Request, init?: RequestInit) => {
      const headers = new Headers(init?.headers);
      for (const [name, value] of Object.entries(spec.headers)) headers.set(name, value);
      return fetch(input, { ...init, headers });
    };
    return new SSEClientTransport(url, { requestInit, eventSourceInit: { fetch: withHeaders } });
  }
  return new StreamableHTTPClientTransport(url, { requestInit });
}

export class McpPool {
  readonly #entries = new Map<string, Entry>();
  readonly #log: Logger;
  readonly #connectTimeoutMs: number;
  readonly #callTimeoutMs: number;
  readonly #idleTimeoutMs: number;
  readonly #random: () => number;
  readonly #sweeper: NodeJS.Timeout;
  #closed = false;

  constructor(options: McpPoolOptions) {
    this.#log = options.log;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.#callTimeoutMs = options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    this.#idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    this.#random = options.random ?? Math.random;
    // A quarter of the idle time: a connection closes at most 25 % late.
    this.#sweeper = setInterval(() => void this.#sweep(), Math.max(100, Math.floor(this.#idleTimeoutMs / 4)));
    this.#sweeper.unref();
  }

  get callTimeoutMs(): number {
    return this.#callTimeoutMs;
  }

  /** Open connections, for tests and metrics. */
  connectedCount(): number {
    return [...this.#entries.values()].filter((entry) => entry.client !== undefined).length;
  }

  /** The server's tools, connecting if needed; a server in back-off is skipped without trying. */
  async listTools(spec: McpServerSpec): Promise<ToolListing> {
    const entry = this.#entry(spec);
    entry.lastUsed = Date.now();
    if (entry.client) {
      try {
        const listed = await entry.client.listTools(undefined, { timeout: this.#connectTimeoutMs });
        entry.tools = listed.tools;
        return { ok: true, tools: entry.tools };
      } catch {
        // The pooled connection went bad (server restarted): one fresh connect below decides.
        await this.#drop(entry);
      }
    }
    try {
      await this.#connect(entry);
      return { ok: true, tools: entry.tools };
    } catch {
      return { ok: false, reason: this.#unavailable(entry) };
    }
  }

  /** Calls one tool with the call timeout; a connection lost before the call is re-made once. */
  async callTool(spec: McpServerSpec, name: string, args: Record<string, unknown>, signal: AbortSignal): Promise<CallOutcome> {
    const entry = this.#entry(spec);
    entry.active++;
    entry.lastUsed = Date.now();
    try {
      for (let attempt = 0; ; attempt++) {
        let client: Client;
        try {
          client = entry.client ?? (await this.#connect(entry));
        } catch {
          return { ok: false, reason: this.#unavailable(entry), timedOut: false };
        }
        try {
          const result = await callLinked(signal, (callSignal) => client.callTool({ name, arguments: args }, undefined, { timeout: this.#callTimeoutMs, signal: callSignal }));
          return { ok: true, result };
        } catch (error) {
          if (error instanceof McpError && error.code === ErrorCode.RequestTimeout) {
            return { ok: false, reason: `the MCP tool call timed out after ${this.#callTimeoutMs} ms`, timedOut: true };
          }
          if (attempt === 0 && neverProcessed(error) && !signal.aborted) {
            await this.#drop(entry);
            continue;
          }
          return { ok: false, reason: redactedError(error, spec), timedOut: false };
        }
      }
    } finally {
      entry.active--;
      entry.lastUsed = Date.now();
    }
  }

  /** Closes every connection; the pool refuses nothing afterwards but keeps none open. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#sweeper);
    await Promise.all([...this.#entries.values()].map((entry) => this.#drop(entry)));
    this.#entries.clear();
  }

  #entry(spec: McpServerSpec): Entry {
    const existing = this.#entries.get(spec.poolKey);
    if (existing && existing.spec.fingerprint === spec.fingerprint) {
      existing.spec = spec;
      return existing;
    }
    // The admin changed the server (URL, command, credentials): start over, back-off included.
    if (existing) void this.#drop(existing);
    const entry: Entry = { spec, client: undefined, connecting: undefined, tools: [], failures: 0, retryAt: 0, lastError: "", lastUsed: Date.now(), active: 0 };
    this.#entries.set(spec.poolKey, entry);
    return entry;
  }

  #unavailable(entry: Entry): string {
    const waitMs = Math.max(0, entry.retryAt - Date.now());
    return `${entry.lastError || "it could not be reached"} (next attempt in ${Math.ceil(waitMs / 1000)} s)`;
  }

  /** One attempt, shared by every caller that arrives while it runs; refused during back-off. */
  #connect(entry: Entry): Promise<Client> {
    if (entry.connecting) return entry.connecting;
    if (Date.now() < entry.retryAt) return Promise.reject(new Error(entry.lastError));
    const { spec } = entry;
    const attempt = (async () => {
      const client = new Client({ name: "chatd", version: VERSION });
      try {
        const deadline = AbortSignal.timeout(this.#connectTimeoutMs);
        await client.connect(transportFor(spec), { timeout: this.#connectTimeoutMs, signal: deadline });
        const listed = await client.listTools(undefined, { timeout: this.#connectTimeoutMs, signal: deadline });
        if (this.#closed) throw new Error("the MCP pool is closed");
        client.onclose = () => {
          if (entry.client === client) entry.client = undefined;
        };
        if (entry.failures > 0) this.#log.info({ mcp_server: spec.slug, failures: entry.failures }, "MCP server reachable again");
        entry.client = client;
        entry.tools = listed.tools;
        entry.failures = 0;
        entry.retryAt = 0;
        entry.lastError = "";
        return client;
      } catch (error) {
        await client.close().catch(() => undefined);
        entry.failures++;
        const delayMs = backoffDelay(entry.failures, this.#random);
        entry.retryAt = Date.now() + delayMs;
        entry.lastError = timedOut(error) ? `it did not connect within ${this.#connectTimeoutMs} ms` : redactedError(error, spec);
        // The one line of this back-off step: the next attempt (and line) waits for retryAt.
        this.#log.warn(
          { mcp_server: spec.slug, failures: entry.failures, retry_in_ms: delayMs, error: entry.lastError },
          "MCP server connect failed; backing off",
        );
        throw error;
      } finally {
        entry.connecting = undefined;
      }
    })();
    entry.connecting = attempt;
    return attempt;
  }

  async #drop(entry: Entry): Promise<void> {
    const client = entry.client;
    entry.client = undefined;
    if (client) await client.close().catch(() => undefined);
  }

  async #sweep(): Promise<void> {
    const now = Date.now();
    for (const [key, entry] of this.#entries) {
      if (entry.active > 0 || entry.connecting || now - entry.lastUsed < this.#idleTimeoutMs) continue;
      if (entry.client) {
        this.#log.debug({ mcp_server: entry.spec.slug }, "closing idle MCP connection");
        await this.#drop(entry);
      } else if (now >= entry.retryAt) {
        this.#entries.delete(key);
      }
    }
  }
}

/**
 * Runs `call` with a signal of its own that follows the run's: the SDK leaves a listener on the
 * signal it is given, and a run's signal lives for hundreds of calls.
 */
async function callLinked<T>(signal: AbortSignal, call: (callSignal: AbortSignal) => Promise<T>): Promise<T> {
  const local = new AbortController();
  const follow = () => local.abort(signal.reason);
  if (signal.aborted) follow();
  else signal.addEventListener("abort", follow, { once: true });
  try {
    return await call(local.signal);
  } finally {
    signal.removeEventListener("abort", follow);
  }
}

function timedOut(error: unknown): boolean {
  if (error instanceof McpError && error.code === ErrorCode.RequestTimeout) return true;
  return error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
}
