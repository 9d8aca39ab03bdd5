import { APICallError, RetryError } from "ai";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  describeError,
  errorText,
  isRetryableError,
  MAX_RETRY_ATTEMPTS,
  MAX_UNREACHABLE_RETRY_MS,
  nextRetryDelayMs,
  type RetryInfo,
  retryAfterMs,
  retryDelayMs,
  withRetry,
} from "../../src/llm/retry.js";

const SECRET_KEY = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789";

function apiError(
  statusCode: number | undefined,
  options: { message?: string; body?: string; headers?: Record<string, string>; cause?: unknown } = {},
): APICallError {
  return new APICallError({
    message: options.message ?? "request failed",
    url: `https://api.example.com/v1/responses?key=${SECRET_KEY}`,
    requestBodyValues: { model: "gpt-x", api_key: SECRET_KEY },
    statusCode,
    responseHeaders: { "content-type": "application/json", ...options.headers },
    responseBody: options.body,
    cause: options.cause,
  });
}

/** A sleep that records the requested delays and resolves at once. */
function recordingSleep(): { sleep: (ms: number) => Promise<void>; delays: number[] } {
  const delays: number[] = [];
  return { delays, sleep: async (ms) => void delays.push(ms) };
}

afterEach(() => {
  vi.useRealTimers();
});

describe("isRetryableError: behavior.md pattern lists", () => {
  const nonRetryable = [
    "context canceled",
    "context deadline exceeded",
    "authentication",
    "unauthorized",
    "forbidden",
    "invalid api key",
    "invalid_api_key",
    "invalid model",
    "model not found",
    "model_not_found",
    "context length exceeded",
    "context_exceeded",
    "maximum context length",
    "quota",
    "billing",
  ];
  const retryable = [
    "overloaded",
    "rate limit",
    "rate_limit",
    "too many requests",
    "server error",
    "status 500",
    "status 502",
    "status 503",
    "status 529",
    "connection reset",
    "connection refused",
    "eof",
    "broken pipe",
    "timeout",
    "unavailable",
    "service unavailable",
  ];

  it.each(nonRetryable)("not retried: %s", (pattern) => {
    expect(isRetryableError(new Error(`provider said: ${pattern.toUpperCase()} (details)`))).toBe(false);
  });

  it.each(retryable)("retried: %s", (pattern) => {
    expect(isRetryableError(new Error(`provider said: ${pattern.toUpperCase()} (details)`))).toBe(true);
  });

  it.each([
    "rate limit exceeded: you exceeded your current quota",
    "overloaded; check your billing details",
    "status 503 from upstream: unauthorized",
    "timeout while checking model_not_found",
  ])("non-retryable wins when both match: %s", (message) => {
    expect(isRetryableError(new Error(message))).toBe(false);
  });

  it("does not retry unknown errors, or nothing", () => {
    expect(isRetryableError(new Error("something odd happened"))).toBe(false);
    expect(isRetryableError(undefined)).toBe(false);
    expect(isRetryableError(null)).toBe(false);
  });

  it("classifies string errors and plain stream error objects", () => {
    expect(isRetryableError("Rate limit hit")).toBe(true);
    // Anthropic's mid-stream error event, as the SDK surfaces it in an `error` part.
    expect(isRetryableError({ type: "overloaded_error", message: "Overloaded" })).toBe(true);
    expect(isRetryableError({ type: "invalid_request_error", message: "bad input" })).toBe(false);
  });
});

describe("isRetryableError: API call errors", () => {
  it.each([429, 500, 502, 503, 504, 529])("retries status %i when the text says nothing", (status) => {
    expect(isRetryableError(apiError(status))).toBe(true);
  });

  it.each([400, 401, 403, 404, 409, 418, 422])("does not retry status %i", (status) => {
    expect(isRetryableError(apiError(status))).toBe(false);
  });

  it("lets the provider's error body decide over the status", () => {
    const quota = apiError(429, {
      message: "You exceeded your current quota, please check your plan and billing details.",
      body: JSON.stringify({ error: { message: "You exceeded your current quota", type: "insufficient_quota", code: "insufficient_quota" } }),
    });
    expect(isRetryableError(quota)).toBe(false);
    const codeOnly = apiError(401, { body: JSON.stringify({ error: { message: "Incorrect key", code: "invalid_api_key" } }) });
    expect(errorText(codeOnly)).toContain("invalid_api_key");
    const overloaded = apiError(400, { body: JSON.stringify({ type: "error", error: { type: "overloaded_error", message: "Overloaded" } }) });
    expect(isRetryableError(overloaded)).toBe(true);
  });

  it("spells out network error codes so connection failures are retried", () => {
    const cause = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:8080"), { code: "ECONNREFUSED" });
    const error = new APICallError({
      message: "Cannot connect to API: connect ECONNREFUSED 127.0.0.1:8080",
      url: "http://127.0.0.1:8080/v1/chat/completions",
      requestBodyValues: {},
      cause,
      isRetryable: true,
    });
    expect(errorText(error)).toContain("connection refused");
    expect(isRetryableError(error)).toBe(true);
    const reset = new TypeError("fetch failed", { cause: Object.assign(new Error("other side closed"), { code: "UND_ERR_SOCKET" }) });
    expect(isRetryableError(reset)).toBe(true);
  });

  it("does not retry a DNS failure even though the SDK marks it retryable", () => {
    const cause = Object.assign(new Error("getaddrinfo ENOTFOUND api.typo.example"), { code: "ENOTFOUND" });
    const error = new APICallError({ message: "Cannot connect to API: getaddrinfo ENOTFOUND", url: "x", requestBodyValues: {}, cause, isRetryable: true });
    expect(isRetryableError(error)).toBe(false);
  });

  it("looks through the SDK's RetryError to its last error", () => {
    const last = apiError(529);
    const wrapped = new RetryError({ message: "Failed after 3 attempts. Last error: request failed", reason: "maxRetriesExceeded", errors: [last] });
    expect(errorText(wrapped)).toContain("status 529");
    expect(isRetryableError(wrapped)).toBe(true);
  });

  it("never retries an abort, even one that mentions a timeout", () => {
    expect(isRetryableError(new DOMException("This operation was aborted", "AbortError"))).toBe(false);
    expect(isRetryableError(new DOMException("The operation was aborted due to timeout", "TimeoutError"))).toBe(false);
    const named = new Error("rate limit while aborting");
    named.name = "AbortError";
    expect(isRetryableError(named)).toBe(false);
    expect(isRetryableError(apiError(503, { cause: new DOMException("aborted", "AbortError") }))).toBe(false);
  });
});

describe("errorText / describeError", () => {
  it("has the message, status, body message and causes, lower-cased", () => {
    const error = apiError(503, {
      message: "Service Temporarily Down",
      body: JSON.stringify({ error: { message: "Upstream Busy", type: "server_error" } }),
      cause: new Error("Inner Cause"),
    });
    const text = errorText(error);
    expect(text).toBe(text.toLowerCase());
    for (const part of ["service temporarily down", "status 503", "upstream busy", "server_error", "inner cause"]) {
      expect(text).toContain(part);
    }
    expect(describeError(error)).toContain("Upstream Busy");
  });

  it("never includes headers, the URL, the request body, or key-shaped secrets", () => {
    const error = apiError(401, {
      message: `Incorrect API key provided: ${SECRET_KEY}`,
      headers: { authorization: `Bearer ${SECRET_KEY}`, "x-api-key": SECRET_KEY },
      cause: new Error(`request to https://x.example/v1?key=${SECRET_KEY} failed, Authorization: Bearer abcdefghijklmnop`),
    });
    const text = describeError(error);
    expect(text).not.toContain(SECRET_KEY);
    expect(text).not.toContain("abcdefghijklmnop");
    expect(text).not.toContain("api.example.com");
    expect(text).toContain("status 401");
  });

  it("skips HTML error pages and bounds long bodies", () => {
    expect(describeError(apiError(502, { body: "<html><body>Bad Gateway</body></html>" }))).toBe("request failed: status 502");
    expect(describeError(apiError(500, { body: "x".repeat(10_000) })).length).toBeLessThan(400);
  });

  it("handles cycles and unknown values", () => {
    const a = new Error("a");
    const b = new Error("b", { cause: a });
    Object.assign(a, { cause: b });
    expect(describeError(a)).toBe("a: b");
    expect(describeError(42)).toBe("unknown error");
  });
});

describe("retry delays", () => {
  it("doubles from the base and caps at 60 s", () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((n) => retryDelayMs(n))).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000]);
    expect(retryDelayMs(1_000)).toBe(60_000);
    expect(retryDelayMs(3, 10)).toBe(40);
    expect(retryDelayMs(1, 120_000)).toBe(60_000);
  });

  it("reads Retry-After as seconds, an HTTP date, or retry-after-ms", () => {
    const now = Date.parse("2026-03-01T00:00:00Z");
    expect(retryAfterMs(apiError(429, { headers: { "retry-after": "30" } }), now)).toBe(30_000);
    expect(retryAfterMs(apiError(429, { headers: { "Retry-After": "1.5" } }), now)).toBe(1_500);
    expect(retryAfterMs(apiError(429, { headers: { "retry-after": "Sun, 01 Mar 2026 00:00:20 GMT" } }), now)).toBe(20_000);
    expect(retryAfterMs(apiError(429, { headers: { "retry-after-ms": "250" } }), now)).toBe(250);
    expect(retryAfterMs(apiError(429, { headers: { "retry-after": "soon" } }), now)).toBeNull();
    expect(retryAfterMs(apiError(429), now)).toBeNull();
    expect(retryAfterMs(new Error("rate limit"), now)).toBeNull();
  });

  it("takes the longer of backoff and Retry-After, still capped at 60 s", () => {
    expect(nextRetryDelayMs(1, apiError(429, { headers: { "retry-after": "30" } }))).toBe(30_000);
    expect(nextRetryDelayMs(3, apiError(429, { headers: { "retry-after": "1" } }))).toBe(4_000);
    expect(nextRetryDelayMs(1, apiError(429, { headers: { "retry-after": "3600" } }))).toBe(60_000);
    expect(nextRetryDelayMs(2, new Error("rate limit"))).toBe(2_000);
  });
});

describe("withRetry", () => {
  it("retries 429, 429 then succeeds: two onRetry calls with 1 s and 2 s (fake timers)", async () => {
    vi.useFakeTimers();
    const infos: RetryInfo[] = [];
    const attempts: number[] = [];
    const promise = withRetry(
      async (attempt) => {
        attempts.push(attempt);
        if (attempt <= 2) throw apiError(429);
        return "done";
      },
      { onRetry: (info) => infos.push(info) },
    );
    await vi.advanceTimersByTimeAsync(999);
    expect(attempts).toEqual([1]);
    await vi.advanceTimersByTimeAsync(1);
    expect(attempts).toEqual([1, 2]);
    await vi.advanceTimersByTimeAsync(2_000);
    await expect(promise).resolves.toBe("done");
    expect(attempts).toEqual([1, 2, 3]);
    expect(infos.map(({ attempt, delayMs }) => ({ attempt, delayMs }))).toEqual([
      { attempt: 1, delayMs: 1_000 },
      { attempt: 2, delayMs: 2_000 },
    ]);
    expect(infos[0]?.error).toBe("request failed: status 429");
    expect(infos[1]?.retryingAt.getTime()).toBe(Date.now());
  });

  it("rethrows a non-retryable error (401) unchanged, without retrying", async () => {
    const error = apiError(401, { message: "Unauthorized" });
    const onRetry = vi.fn();
    const run = vi.fn(async () => {
      throw error;
    });
    await expect(withRetry(run, { onRetry })).rejects.toBe(error);
    expect(run).toHaveBeenCalledTimes(1);
    expect(onRetry).not.toHaveBeenCalled();
  });

  it("rejects at once when aborted during the backoff, and runs no further attempt", async () => {
    const controller = new AbortController();
    const run = vi.fn(async () => {
      throw apiError(503);
    });
    const started = Date.now();
    const promise = withRetry(run, {
      signal: controller.signal,
      baseDelayMs: 30_000,
      onRetry: () => setTimeout(() => controller.abort(), 5),
    });
    await expect(promise).rejects.toMatchObject({ name: "AbortError" });
    expect(Date.now() - started).toBeLessThan(1_000);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(run).toHaveBeenCalledTimes(1);
  });

  it("rejects at once on abort even if an injected sleep ignores the signal", async () => {
    const controller = new AbortController();
    const run = vi.fn(async () => {
      throw new Error("overloaded");
    });
    const promise = withRetry(run, {
      signal: controller.signal,
      sleep: () => new Promise<void>(() => undefined),
      onRetry: () => queueMicrotask(() => controller.abort()),
    });
    await expect(promise).rejects.toMatchObject({ name: "AbortError" });
    expect(run).toHaveBeenCalledTimes(1);
  });

  it("does not start when the signal is already aborted", async () => {
    const run = vi.fn(async () => "never");
    await expect(withRetry(run, { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: "AbortError" });
    expect(run).not.toHaveBeenCalled();
  });

  it("stops after 25 attempts with the last error as cause", async () => {
    const { sleep, delays } = recordingSleep();
    const onRetry = vi.fn();
    let last: unknown;
    const run = vi.fn(async (attempt: number) => {
      last = apiError(503, { message: `busy #${attempt}` });
      throw last;
    });
    const failure = await withRetry(run, { sleep, onRetry }).catch((error: unknown) => error);
    expect(MAX_RETRY_ATTEMPTS).toBe(25);
    expect(run).toHaveBeenCalledTimes(25);
    expect(onRetry).toHaveBeenCalledTimes(24);
    expect(delays.slice(0, 8)).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000]);
    expect(Math.max(...delays)).toBe(60_000);
    expect(failure).toBeInstanceOf(Error);
    if (!(failure instanceof Error)) return;
    expect(failure.message).toBe("max retry attempts (25) exceeded: busy #25: status 503");
    expect(failure.cause).toBe(last);
  });

  it("honours maxAttempts, baseDelayMs and Retry-After", async () => {
    const { sleep, delays } = recordingSleep();
    const run = vi.fn(async (attempt: number) => {
      throw attempt === 1 ? apiError(429, { headers: { "retry-after": "5" } }) : new Error("rate limit");
    });
    await expect(withRetry(run, { sleep, maxAttempts: 3, baseDelayMs: 10 })).rejects.toThrow(
      "max retry attempts (3) exceeded: rate limit",
    );
    expect(run).toHaveBeenCalledTimes(3);
    expect(delays).toEqual([5_000, 20]);
  });

  it("passes the attempt number to run and returns its value", async () => {
    await expect(withRetry(async (attempt) => attempt * 10)).resolves.toBe(10);
  });
});

describe("withRetry: a provider that cannot be reached", () => {
  const refused = () =>
    new APICallError({
      message: "Cannot connect to API: connect ECONNREFUSED 127.0.0.1:9",
      url: "http://127.0.0.1:9/v1/responses",
      requestBodyValues: {},
      cause: Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:9"), { code: "ECONNREFUSED" }),
    });

  /** A clock that moves only when the retry loop sleeps. */
  function fakeTime() {
    let clock = 0;
    return { now: () => clock, sleep: async (ms: number) => void (clock += ms), elapsed: () => clock };
  }

  it("gives up after MAX_UNREACHABLE_RETRY_MS instead of all 25 attempts, saying what to check", async () => {
    const time = fakeTime();
    let attempts = 0;
    const failure = await withRetry(
      async () => {
        attempts++;
        throw refused();
      },
      { now: time.now, sleep: time.sleep },
    ).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(Error);
    expect(String(failure)).toMatch(/could not be reached for \d+ s \(\d+ attempts\), giving up: .*connection refused.*check the provider's base URL/);
    expect(attempts).toBeLessThan(MAX_RETRY_ATTEMPTS);
    expect(time.elapsed()).toBeLessThanOrEqual(MAX_UNREACHABLE_RETRY_MS);
    // 1+2+4+8+16+32 s of backoff fit in two minutes; the next 60 s wait would not.
    expect(attempts).toBe(7);
  });

  it("a provider that comes back within the cap succeeds, and other transient errors reset the clock", async () => {
    const time = fakeTime();
    // With a 10 s cap: waits 1 s and 2 s (refused), 4 s (529), then 8 s (refused again). Without the
    // reset the last wait would end 15 s after the first refusal and the loop would give up.
    const outcomes = [refused(), refused(), apiError(529), refused()];
    const result = await withRetry(
      async () => {
        const next = outcomes.shift();
        if (next) throw next;
        return "answered";
      },
      { now: time.now, sleep: time.sleep, maxUnreachableMs: 10_000 },
    );
    expect(result).toBe("answered");
    expect(time.elapsed()).toBe(15_000);
  });

  it("rate limits still get the full attempt budget", async () => {
    const time = fakeTime();
    let attempts = 0;
    await withRetry(
      async () => {
        attempts++;
        throw apiError(429);
      },
      { now: time.now, sleep: time.sleep },
    ).catch(() => undefined);
    expect(attempts).toBe(MAX_RETRY_ATTEMPTS);
  });
});
