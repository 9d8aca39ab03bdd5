/**
 * Scripted faults against every wire format, asserting what the AI SDK (ai 6) actually does with
 * each: HTTP errors, connection resets, truncated streams, in-stream errors, hung streams.
 */
import { createAnthropic } from "@ai-sdk/anthropic";
import { createGoogleGenerativeAI } from "@ai-sdk/google";
import { createOpenAI } from "@ai-sdk/openai";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { APICallError, generateText, streamText, type LanguageModel, type TextStreamPart, type ToolSet } from "ai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startMockLlm } from "../../src/llm/mock/index.js";
import { useMockLlm } from "../helpers/llm.js";

const API_KEY = "secret-key-for-fault-tests-0123456789";
const TEXT = "one two three four five six seven eight";

const mock = useMockLlm();

/**
 * What each provider package does, as observed: OpenAI and Anthropic read the first event inside
 * the model call, so a failure before any output is an `error` part; openai-compatible and Google
 * only fail while the stream is consumed, so iterating `fullStream` throws. A truncated stream
 * ends with finish reason "other" and no error, except on openai-compatible, which reports it.
 */
const providers = [
  {
    name: "openai responses",
    model: () => createOpenAI({ baseURL: mock.baseUrls.openai, apiKey: API_KEY })("gpt-mock"),
    earlyFailure: "error-part",
    truncated: "other",
  },
  {
    name: "openai chat",
    model: () => createOpenAI({ baseURL: mock.baseUrls.openai, apiKey: API_KEY }).chat("gpt-mock"),
    earlyFailure: "error-part",
    truncated: "other",
  },
  {
    name: "openai-compatible",
    model: () =>
      createOpenAICompatible({ baseURL: mock.baseUrls.openaiCompat, name: "c", apiKey: API_KEY, includeUsage: true })("m"),
    earlyFailure: "throws",
    truncated: "error",
  },
  {
    name: "anthropic",
    model: () => createAnthropic({ baseURL: mock.baseUrls.anthropic, apiKey: API_KEY })("claude-haiku-4-5"),
    earlyFailure: "error-part",
    truncated: "other",
  },
  {
    name: "google",
    model: () => createGoogleGenerativeAI({ baseURL: mock.baseUrls.google, apiKey: API_KEY })("gemini-2.5-flash"),
    earlyFailure: "throws",
    truncated: "other",
  },
] as const;

async function outcome(model: LanguageModel) {
  const parts: TextStreamPart<ToolSet>[] = [];
  let thrown: unknown;
  try {
    const result = streamText({ model, prompt: "hi", maxRetries: 0, onError: () => {} });
    for await (const part of result.fullStream) parts.push(part);
  } catch (error) {
    thrown = error;
  }
  return {
    parts,
    thrown,
    errors: parts.flatMap((part) => (part.type === "error" ? [part.error] : [])),
    text: parts.flatMap((part) => (part.type === "text-delta" ? [part.text] : [])).join(""),
    finish: parts.find((part) => part.type === "finish"),
  };
}

/** Error codes along an error's `cause` chain (the socket error sits a few levels down). */
function causeCodes(error: unknown): string[] {
  const codes: string[] = [];
  for (let current = error, depth = 0; current instanceof Error && depth < 10; depth++) {
    if ("code" in current && typeof current.code === "string") codes.push(current.code);
    current = current.cause;
  }
  return codes;
}

describe.each(providers)("$name", ({ model, earlyFailure, truncated }) => {
  it("turns a 429 with Retry-After into an APICallError carrying the header", async () => {
    mock.enqueue({ fault: { type: "http", status: 429, retryAfterSeconds: 7, message: "Slow down" } });
    const { errors, thrown, finish } = await outcome(model());
    expect(thrown).toBeUndefined();
    expect(finish).toBeUndefined();
    const [error] = errors;
    expect(APICallError.isInstance(error)).toBe(true);
    if (!APICallError.isInstance(error)) return;
    expect(error).toMatchObject({ statusCode: 429, isRetryable: true, message: "Slow down" });
    expect(error.responseHeaders?.["retry-after"]).toBe("7");
    expect(error.responseBody).not.toContain(API_KEY);
  });

  it("turns a 401 into a non-retryable APICallError, also from generateText", async () => {
    mock.enqueue({ fault: { type: "http", status: 401 } }, { fault: { type: "http", status: 401 } });
    const [error] = (await outcome(model())).errors;
    expect(error).toBeInstanceOf(APICallError);
    expect(error).toMatchObject({ statusCode: 401, isRetryable: false });
    await expect(generateText({ model: model(), prompt: "hi", maxRetries: 0 })).rejects.toMatchObject({ statusCode: 401 });
  });

  it("fails with ECONNRESET when the connection is reset mid-stream", async () => {
    mock.enqueue({ parts: [{ type: "text", text: TEXT }], fault: { type: "reset", afterChunks: 5 } });
    const { thrown, errors, text, finish } = await outcome(model());
    // Once output has flowed, ai 6 does not emit an error part: iterating fullStream throws.
    expect(errors).toEqual([]);
    expect(APICallError.isInstance(thrown)).toBe(true);
    expect(causeCodes(thrown)).toContain("ECONNRESET");
    expect(TEXT.startsWith(text)).toBe(true);
    expect(text.length).toBeGreaterThan(0);
    expect(finish).toBeUndefined();
  });

  it(`reports a reset before any output as ${earlyFailure === "throws" ? "a thrown error" : "an error part"}`, async () => {
    mock.enqueue({ parts: [{ type: "text", text: TEXT }], fault: { type: "reset", afterChunks: 0 } });
    const { thrown, errors } = await outcome(model());
    const failure = earlyFailure === "throws" ? thrown : errors[0];
    expect(earlyFailure === "throws" ? errors : thrown).toEqual(earlyFailure === "throws" ? [] : undefined);
    expect(causeCodes(failure)).toContain("ECONNRESET");
  });

  it(`ends a truncated stream with finish reason "${truncated}"`, async () => {
    mock.enqueue({ parts: [{ type: "text", text: TEXT }], fault: { type: "truncate", afterChunks: 5 } });
    const { thrown, errors, text, finish, parts } = await outcome(model());
    expect(thrown).toBeUndefined();
    expect(TEXT.startsWith(text) && text.length < TEXT.length).toBe(true);
    expect(finish?.finishReason).toBe(truncated);
    expect(parts.find((part) => part.type === "finish-step")?.finishReason).toBe(truncated);
    if (truncated === "error") {
      expect(errors).toMatchObject([{ message: "Response stream ended without a finish reason." }]);
    } else {
      expect(errors).toEqual([]);
    }
  });

  it("reports an in-stream provider error as an error part and finish reason error", async () => {
    mock.enqueue({ parts: [{ type: "text", text: TEXT }], fault: { type: "stream-error", afterChunks: 5, status: 529 } });
    const { thrown, errors, finish } = await outcome(model());
    expect(thrown).toBeUndefined();
    expect(errors).toHaveLength(1);
    expect(finish?.finishReason).toBe("error");
  });

  it("fails generateText when the JSON body is cut short", async () => {
    mock.enqueue({ parts: [{ type: "text", text: TEXT }], fault: { type: "truncate", afterChunks: 1 } });
    await expect(generateText({ model: model(), prompt: "hi", maxRetries: 0 })).rejects.toBeInstanceOf(Error);
    mock.enqueue({ parts: [{ type: "text", text: TEXT }], fault: { type: "reset", afterChunks: 0 } });
    const reset = await generateText({ model: model(), prompt: "hi", maxRetries: 0 }).catch((error: unknown) => error);
    expect(causeCodes(reset)).toContain("ECONNRESET");
  });
});

describe("provider-shaped errors", () => {
  it("anthropic: 529 is an overloaded_error", async () => {
    mock.enqueue({ fault: { type: "http", status: 529 } });
    const [error] = (await outcome(providers[3].model())).errors;
    expect(error).toMatchObject({
      statusCode: 529,
      isRetryable: true,
      data: { type: "error", error: { type: "overloaded_error", message: "Overloaded (mock)." } },
    });
  });

  it("anthropic: an in-stream overloaded_error reaches the error part as sent", async () => {
    mock.enqueue({ parts: [{ type: "text", text: TEXT }], fault: { type: "stream-error", afterChunks: 4, status: 529 } });
    const { errors, text } = await outcome(providers[3].model());
    expect(text).toBe("one");
    expect(errors).toEqual([{ type: "overloaded_error", message: "Overloaded (mock)." }]);
  });

  it("openai: error bodies carry type and code", async () => {
    mock.enqueue({ fault: { type: "http", status: 429 } });
    const [error] = (await outcome(providers[0].model())).errors;
    expect(error).toMatchObject({ data: { error: { type: "requests", code: "rate_limit_exceeded" } } });
  });

  it("google: error bodies carry the RPC status", async () => {
    mock.enqueue({ fault: { type: "http", status: 429 } });
    const [error] = (await outcome(providers[4].model())).errors;
    expect(error).toMatchObject({ statusCode: 429, data: { error: { code: 429, status: "RESOURCE_EXHAUSTED" } } });
  });
});

describe("hung and slow streams", () => {
  it("close() ends hung and slow streams at once, and the clients see the stream fail", async () => {
    const local = await startMockLlm();
    local.enqueue(
      { parts: [{ type: "text", text: TEXT }], fault: { type: "hang", afterChunks: 4 } },
      { parts: [{ type: "text", text: TEXT }], chunkDelayMs: 60_000 },
    );
    const model = () => createAnthropic({ baseURL: local.baseUrls.anthropic, apiKey: API_KEY })("claude-haiku-4-5");
    const hung = outcome(model());
    const slow = outcome(model());
    await local.waitForRequests(2);
    const started = Date.now();
    await local.close();
    expect(Date.now() - started).toBeLessThan(1_000);
    const [hungResult, slowResult] = await Promise.all([hung, slow]);
    expect(hungResult.finish).toBeUndefined();
    expect(hungResult.thrown ?? hungResult.errors[0]).toBeDefined();
    expect(slowResult.thrown ?? slowResult.errors[0]).toBeDefined();
  });

  it("a hung stream lets the client abort, which yields an abort part", async () => {
    mock.enqueue({ parts: [{ type: "text", text: TEXT }], fault: { type: "hang", afterChunks: 5 } });
    const controller = new AbortController();
    const result = streamText({ model: providers[1].model(), prompt: "hi", maxRetries: 0, abortSignal: controller.signal, onError: () => {} });
    const parts: string[] = [];
    for await (const part of result.fullStream) {
      parts.push(part.type);
      // Abort once text flows; the mock would otherwise hold the stream open forever.
      if (part.type === "text-delta") controller.abort();
    }
    expect(parts).toContain("abort");
    expect(parts).not.toContain("finish");
  });
});
