/**
 * chatd's retry policy for LLM calls (behavior.md section 5, "Retry policy"): which errors are
 * transient, how long to wait, and a loop that retries visibly and abortably. Every AI SDK call
 * runs with `maxRetries: 0` and goes through `withRetry` instead.
 *
 * Invariants:
 * - Classification is by error text, non-retryable patterns FIRST ("rate limit … quota" is not
 *   retried); HTTP status codes decide only when the text says nothing; anything unknown is not
 *   retried. An abort (AbortError, TimeoutError, aborted signal) is never retried.
 * - Error text never contains request headers, URLs or request bodies, and known secret shapes
 *   (API keys, bearer tokens) are redacted: it is shown to users and published in `retry` events.
 * - Delay = base × 2^(attempt−1), capped at 60 s. A server's Retry-After can lengthen the wait
 *   (never shorten it), still capped at 60 s, so one bad header cannot stall a chat for hours.
 * - An abort during the backoff rejects at once and no further attempt runs.
 * - A provider that cannot be reached at all (connection refused, name lookup failing for now,
 *   no route to the host) is retried for at most MAX_UNREACHABLE_RETRY_MS from the first such
 *   failure, not the ~17 minutes a rate-limited or overloaded provider gets.
 */
import { APICallError, RetryError } from "ai";

/** Upstream's limit: 25 attempts in total, i.e. up to 24 retries (~17 minutes of backoff). */
export const MAX_RETRY_ATTEMPTS = 25;
/** First retry waits 1 s (upstream `InitialDelay`). */
export const BASE_RETRY_DELAY_MS = 1_000;
/** Upper bound on any single wait (upstream `MaxDelay`), Retry-After included. */
export const MAX_RETRY_DELAY_MS = 60_000;

/**
 * How long retries continue while the provider's address does not answer. A restarting local
 * model server or proxy is back within a minute or two; a wrong base URL or a host that is down
 * never comes back on its own, and the user should see that error instead of a 17-minute spinner.
 */
export const MAX_UNREACHABLE_RETRY_MS = 2 * 60_000;

/** Phrases (after NETWORK_CODE_PHRASES) that mean "nothing answered at that address". */
const UNREACHABLE_PATTERNS = ["connection refused", "no route to host", "network is unreachable", "temporary name resolution failure"] as const;

/** Checked first: permanent failures, including ones a provider reports with a 429 (quota). */
const NON_RETRYABLE_PATTERNS = [
  "context canceled", "context deadline exceeded", "authentication", "unauthorized",
  "forbidden", "invalid api key", "invalid_api_key", "invalid model", "model not found",
  "model_not_found", "context length exceeded", "context_exceeded",
  "maximum context length", "quota", "billing",
] as const;

const RETRYABLE_PATTERNS = [
  "overloaded", "rate limit", "rate_limit", "too many requests", "server error",
  "status 500", "status 502", "status 503", "status 529", "connection reset",
  "connection refused", "no route to host", "network is unreachable",
  "temporary name resolution failure", "eof", "broken pipe", "timeout", "unavailable",
  "service unavailable",
] as const;

/**
 * Consulted only when the text matches neither list. 504 and 529 (Anthropic overload) are
 * transient too; any other status (400, 401, 403, 404 …) is not retried.
 */
const RETRYABLE_STATUS_CODES: ReadonlySet<number> = new Set([429, 500, 502, 503, 504, 529]);

/**
 * Node/undici network error codes, spelled as the Go error strings the patterns were written
 * for ("connection refused" rather than ECONNREFUSED), so both runtimes classify alike.
 */
const NETWORK_CODE_PHRASES: Readonly<Record<string, string>> = {
  ECONNRESET: "connection reset",
  ECONNABORTED: "connection reset",
  UND_ERR_SOCKET: "connection reset",
  ECONNREFUSED: "connection refused",
  EHOSTUNREACH: "no route to host",
  ENETUNREACH: "network is unreachable",
  EAI_AGAIN: "temporary name resolution failure",
  EPIPE: "broken pipe",
  ETIMEDOUT: "timeout",
  UND_ERR_CONNECT_TIMEOUT: "timeout",
  UND_ERR_HEADERS_TIMEOUT: "timeout",
  UND_ERR_BODY_TIMEOUT: "timeout",
};

/** Names of errors that mean "the caller gave up" (the AI SDK's own isAbortError list). */
const ABORT_ERROR_NAMES: ReadonlySet<string> = new Set(["AbortError", "ResponseAborted", "TimeoutError"]);

/** Cause chains deeper than this are cut: real ones are 2–3 long, and cycles exist. */
const MAX_CAUSE_DEPTH = 8;
/** Error text is stored as `last_error` and sent in events; provider bodies can be huge. */
const MAX_ERROR_TEXT_LENGTH = 2_000;
/** A non-JSON response body is quoted only this far (an HTML error page is skipped entirely). */
const MAX_BODY_SNIPPET_LENGTH = 300;

/** Shapes of credentials that must not reach a user or a log, with their replacements. */
const SECRET_PATTERNS: ReadonlyArray<readonly [RegExp, string]> = [
  [/\bsk-[A-Za-z0-9_-]{8,}/g, "sk-[redacted]"],
  [/\bAIza[0-9A-Za-z_-]{20,}/g, "[redacted]"],
  [/\b(bearer)\s+[A-Za-z0-9._~+/=-]{8,}/gi, "$1 [redacted]"],
  [/([?&](?:key|api[_-]?key|token|access_token)=)[^&\s"']+/gi, "$1[redacted]"],
  [/\b((?:x-)?(?:goog-)?api-key|authorization)(["']?\s*[:=]\s*["']?)[^\s"',}]+/gi, "$1$2[redacted]"],
];

type JsonRecord = Record<string, unknown>;

function isRecord(value: unknown): value is JsonRecord {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The error, its causes, and a RetryError's last error: bounded, each object once. */
function errorChain(error: unknown): unknown[] {
  const chain: unknown[] = [];
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current !== undefined && current !== null && !seen.has(current) && chain.length < MAX_CAUSE_DEPTH) {
    seen.add(current);
    chain.push(current);
    if (RetryError.isInstance(current) && current.lastError !== undefined) current = current.lastError;
    else current = isRecord(current) ? current["cause"] : undefined;
  }
  return chain;
}

/** Human-meaningful strings of a provider error body: message, type, code, status, nested error. */
function bodyDetails(value: unknown, depth = 0): string[] {
  if (depth > 3) return [];
  if (typeof value === "string") return value === "error" ? [] : [value];
  if (Array.isArray(value)) return value.slice(0, 3).flatMap((item) => bodyDetails(item, depth + 1));
  if (!isRecord(value)) return [];
  const details: string[] = [];
  for (const key of ["message", "type", "code", "status", "detail", "error"]) {
    const field = value[key];
    if (typeof field === "number") details.push(String(field));
    else details.push(...bodyDetails(field, depth + 1));
  }
  return details;
}

function responseBodyDetails(error: APICallError): string[] {
  const body = error.responseBody?.trim();
  if (body) {
    try {
      return bodyDetails(JSON.parse(body));
    } catch {
      return body.startsWith("<") ? [] : [body.slice(0, MAX_BODY_SNIPPET_LENGTH)];
    }
  }
  return bodyDetails(error.data);
}

function redactSecrets(text: string): string {
  return SECRET_PATTERNS.reduce((current, [pattern, replacement]) => current.replace(pattern, replacement), text);
}

/**
 * The error for display: messages along the cause chain, `status <code>` and the provider's
 * error details for API call errors, network codes spelled out; secrets redacted, no headers.
 */
export function describeError(error: unknown): string {
  const parts: string[] = [];
  const add = (part: string): void => {
    const trimmed = part.trim();
    const known = parts.join(": ").toLowerCase();
    if (trimmed !== "" && !known.includes(trimmed.toLowerCase())) parts.push(trimmed);
  };
  for (const item of errorChain(error)) {
    if (typeof item === "string") add(item);
    else if (item instanceof Error) add(item.message);
    else bodyDetails(item).forEach(add);
    if (APICallError.isInstance(item)) {
      if (item.statusCode !== undefined) add(`status ${item.statusCode}`);
      responseBodyDetails(item).forEach(add);
    }
    const code = isRecord(item) ? item["code"] : undefined;
    if (typeof code === "string" && NETWORK_CODE_PHRASES[code]) add(NETWORK_CODE_PHRASES[code]);
  }
  const text = parts.length > 0 ? parts.join(": ") : "unknown error";
  return redactSecrets(text).slice(0, MAX_ERROR_TEXT_LENGTH);
}

/** `describeError`, lower-cased for pattern matching. */
export function errorText(error: unknown): string {
  return describeError(error).toLowerCase();
}

function isAbortError(error: unknown): boolean {
  return errorChain(error).some((item) => item instanceof Error && ABORT_ERROR_NAMES.has(item.name));
}

function firstApiCallError(error: unknown): APICallError | undefined {
  return errorChain(error).find((item): item is APICallError => APICallError.isInstance(item));
}

export function isRetryableError(error: unknown): boolean {
  if (error === undefined || error === null || isAbortError(error)) return false;
  const text = errorText(error);
  if (NON_RETRYABLE_PATTERNS.some((pattern) => text.includes(pattern))) return false;
  if (RETRYABLE_PATTERNS.some((pattern) => text.includes(pattern))) return true;
  // The SDK's own `isRetryable` is deliberately ignored: it also retries DNS failures, so a
  // mistyped base URL would spin for the full 25 attempts instead of failing at once.
  const statusCode = firstApiCallError(error)?.statusCode;
  return statusCode !== undefined && RETRYABLE_STATUS_CODES.has(statusCode);
}

/** True when the failure means the provider's address did not answer at all (see the cap above). */
export function isUnreachableError(error: unknown): boolean {
  const text = errorText(error);
  return UNREACHABLE_PATTERNS.some((pattern) => text.includes(pattern));
}

/** Exponential backoff for the retry after failed attempt `attempt` (1-based): 1 s, 2 s, 4 s … 60 s. */
export function retryDelayMs(attempt: number, baseMs = BASE_RETRY_DELAY_MS): number {
  const exponent = Math.max(0, Math.floor(attempt) - 1);
  return Math.min(MAX_RETRY_DELAY_MS, baseMs * 2 ** Math.min(exponent, 30));
}

/**
 * The wait a server asked for, from an API call error's `retry-after-ms` or `retry-after`
 * (seconds or an HTTP date) header, in ms; null when absent or unreadable.
 */
export function retryAfterMs(error: unknown, nowMs = Date.now()): number | null {
  const headers = firstApiCallError(error)?.responseHeaders;
  if (!headers) return null;
  const header = (name: string): string | undefined =>
    Object.entries(headers).find(([key]) => key.toLowerCase() === name)?.[1]?.trim();
  const milliseconds = header("retry-after-ms");
  if (milliseconds && /^\d+(\.\d+)?$/.test(milliseconds)) return Number(milliseconds);
  const retryAfter = header("retry-after");
  if (!retryAfter) return null;
  if (/^\d+(\.\d+)?$/.test(retryAfter)) return Number(retryAfter) * 1_000;
  const date = Date.parse(retryAfter);
  return Number.isNaN(date) ? null : Math.max(0, date - nowMs);
}

/** The backoff, lengthened to the server's Retry-After if that is longer, capped at 60 s. */
export function nextRetryDelayMs(attempt: number, error: unknown, baseMs = BASE_RETRY_DELAY_MS, nowMs = Date.now()): number {
  const backoff = retryDelayMs(attempt, baseMs);
  return Math.min(MAX_RETRY_DELAY_MS, Math.max(backoff, retryAfterMs(error, nowMs) ?? 0));
}

export interface RetryInfo {
  /** The number (1-based) of the attempt that just failed. */
  attempt: number;
  delayMs: number;
  /** `describeError` of the failure: for display, secrets redacted. */
  error: string;
  retryingAt: Date;
}

export interface WithRetryOptions {
  signal?: AbortSignal;
  /** Called before each wait; not called after the last attempt. */
  onRetry?: (info: RetryInfo) => void;
  baseDelayMs?: number;
  maxAttempts?: number;
  /** Replaces the timer (tests). Need not honour the signal: an abort wins the race anyway. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Replaces the clock (tests that also replace `sleep`). */
  now?: () => number;
  /** Overrides MAX_UNREACHABLE_RETRY_MS (tests). */
  maxUnreachableMs?: number;
}

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** Waits `ms`, or rejects with the signal's reason as soon as it aborts. */
async function waitUnlessAborted(
  ms: number,
  signal: AbortSignal | undefined,
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>,
): Promise<void> {
  if (!signal) return sleep(ms);
  signal.throwIfAborted();
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_resolve, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    await Promise.race([sleep(ms, signal), aborted]);
  } finally {
    if (onAbort) signal.removeEventListener("abort", onAbort);
  }
  signal.throwIfAborted();
}

/**
 * Runs `run` until it succeeds, fails with a non-retryable error (rethrown unchanged), or
 * `maxAttempts` attempts failed (then "max retry attempts (N) exceeded: <last error>", with
 * the last error as `cause`). An aborted signal rejects with its reason (an AbortError for a
 * plain `abort()`), before an attempt or during a wait.
 */
export async function withRetry<T>(run: (attempt: number) => Promise<T>, options: WithRetryOptions = {}): Promise<T> {
  const { signal, onRetry } = options;
  const maxAttempts = Math.max(1, options.maxAttempts ?? MAX_RETRY_ATTEMPTS);
  const baseDelayMs = options.baseDelayMs ?? BASE_RETRY_DELAY_MS;
  const sleep = options.sleep ?? defaultSleep;
  const now = options.now ?? Date.now;
  const maxUnreachableMs = options.maxUnreachableMs ?? MAX_UNREACHABLE_RETRY_MS;
  let lastError: unknown;
  /** When the current run of "nothing answers" failures began; any other outcome resets it. */
  let unreachableSince: number | undefined;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    signal?.throwIfAborted();
    try {
      return await run(attempt);
    } catch (error) {
      if (!isRetryableError(error)) throw error;
      signal?.throwIfAborted();
      lastError = error;
      if (attempt === maxAttempts) break;
      const delayMs = nextRetryDelayMs(attempt, error, baseDelayMs);
      if (isUnreachableError(error)) {
        unreachableSince ??= now();
        const waited = now() - unreachableSince;
        if (waited + delayMs > maxUnreachableMs) {
          throw new Error(
            `the provider could not be reached for ${Math.round(waited / 1000)} s (${attempt} attempts), giving up: ${describeError(error)}; check the provider's base URL and that it is running`,
            { cause: error },
          );
        }
      } else {
        unreachableSince = undefined;
      }
      onRetry?.({ attempt, delayMs, error: describeError(error), retryingAt: new Date(now() + delayMs) });
      await waitUnlessAborted(delayMs, signal, sleep);
    }
  }
  throw new Error(`max retry attempts (${maxAttempts}) exceeded: ${describeError(lastError)}`, { cause: lastError });
}
