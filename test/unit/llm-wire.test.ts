/**
 * The LLM layer end to end against the mock provider servers, one wire format at a time: the
 * model factory builds the real AI SDK provider, which streams the scripted turn over HTTP; the
 * usage is normalized and priced exactly; the retry policy drives real HTTP faults.
 */
import { streamText, tool, type ToolSet } from "ai";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { computeCostMicros } from "../../src/llm/cost.js";
import { callSettings, createLanguageModel } from "../../src/llm/factory.js";
import { withRetry, type RetryInfo } from "../../src/llm/retry.js";
import { collect, useMockLlm } from "../helpers/llm.js";
import { normalizeUsage, type NormalizedUsage } from "../../src/llm/usage.js";
import type { ProviderName } from "../../src/sdk/schemas/llm.js";

const API_KEY = "sk-test-wirekey-0123456789abcdefghij";
const mock = useMockLlm();

function baseUrlFor(provider: ProviderName): string {
  switch (provider) {
    case "openai":
      return mock.baseUrls.openai;
    case "openai-compat":
      return mock.baseUrls.openaiCompat;
    case "anthropic":
      return mock.baseUrls.anthropic;
    case "google":
      return mock.baseUrls.google;
  }
}

const tools = {
  get_weather: tool({ description: "Weather for a city", inputSchema: z.object({ city: z.string(), unit: z.enum(["c", "f"]) }) }),
} satisfies ToolSet;

const PRICES = {
  input_price_per_million_tokens: "3",
  output_price_per_million_tokens: "15",
  cache_read_price_per_million_tokens: "0.3",
  cache_write_price_per_million_tokens: "3.75",
};
const USAGE = { input: 1000, output: 200, cacheRead: 3000, cacheWrite: 500, reasoning: 40 };

/** What each wire format can carry: Chat Completions and Gemini report no cache writes. */
const CASES: Array<{ provider: ProviderName; reasoning: boolean; cacheWrite: boolean }> = [
  { provider: "openai", reasoning: true, cacheWrite: true },
  { provider: "openai-compat", reasoning: false, cacheWrite: false },
  { provider: "anthropic", reasoning: true, cacheWrite: true },
  { provider: "google", reasoning: true, cacheWrite: false },
];

async function runTurn(provider: ProviderName) {
  const model = createLanguageModel({ provider, apiKey: API_KEY, baseUrl: baseUrlFor(provider) }, "test-model");
  const result = streamText({ model, prompt: "What is the weather in Paris?", tools, ...callSettings({}) });
  return collect(result.fullStream);
}

describe.each(CASES)("$provider wire format through the model factory", ({ provider, reasoning, cacheWrite }) => {
  it("returns the scripted text, reasoning and tool call, and normalized usage priced exactly", async () => {
    mock.enqueue({
      parts: [
        ...(reasoning ? [{ type: "reasoning" as const, text: "The user wants weather; call the tool.", signature: "sig-abc" }] : []),
        { type: "text", text: "Let me check the weather in Paris for you." },
        { type: "tool-call", id: "call_1", name: "get_weather", input: { city: "Paris", unit: "c" }, chunks: 4 },
      ],
      usage: cacheWrite ? USAGE : { ...USAGE, cacheWrite: 0 },
    });
    const parts = await runTurn(provider);

    const text = parts.flatMap((p) => (p.type === "text-delta" ? [p.text] : [])).join("");
    expect(text).toBe("Let me check the weather in Paris for you.");
    const reasoningText = parts.flatMap((p) => (p.type === "reasoning-delta" ? [p.text] : [])).join("");
    expect(reasoningText).toBe(reasoning ? "The user wants weather; call the tool." : "");
    const calls = parts.flatMap((p) => (p.type === "tool-call" ? [{ name: p.toolName, input: p.input }] : []));
    expect(calls).toEqual([{ name: "get_weather", input: { city: "Paris", unit: "c" } }]);
    const deltas = parts.filter((p) => p.type === "tool-input-delta").length;
    expect(deltas).toBeGreaterThanOrEqual(provider === "google" ? 1 : 2);

    const finish = parts.find((p) => p.type === "finish-step");
    expect(finish?.type).toBe("finish-step");
    if (finish?.type !== "finish-step") return;
    expect(finish.finishReason).toBe("tool-calls");
    const usage = normalizeUsage(provider, finish.usage);
    const expected: NormalizedUsage = {
      inputTokens: USAGE.input,
      outputTokens: USAGE.output,
      reasoningTokens: reasoning && provider !== "openai-compat" ? USAGE.reasoning : usage.reasoningTokens,
      cacheReadTokens: USAGE.cacheRead,
      cacheCreationTokens: cacheWrite ? USAGE.cacheWrite : null,
      totalTokens: usage.totalTokens,
    };
    expect(usage).toEqual(expected);
    // 1000×3 + 200×15 + 3000×0.3 (+ 500×3.75) micro-dollars.
    expect(computeCostMicros(usage, PRICES)).toBe(cacheWrite ? 8_775 : 6_900);

    const [request] = mock.requests;
    expect(JSON.stringify(request)).not.toContain(API_KEY);
  });
});

describe("retries against real HTTP faults", () => {
  it("429, 429, success: exactly two retry callbacks and one result", async () => {
    mock.enqueue(
      { fault: { type: "http", status: 429 } },
      { fault: { type: "http", status: 429 } },
      { parts: [{ type: "text", text: "finally" }], usage: { input: 5, output: 1 } },
    );
    const retries: RetryInfo[] = [];
    const model = createLanguageModel({ provider: "anthropic", apiKey: API_KEY, baseUrl: mock.baseUrls.anthropic }, "m");
    const text = await withRetry(
      async () => {
        const result = streamText({ model, prompt: "hi", ...callSettings({}), onError: () => undefined });
        let out = "";
        for await (const part of result.fullStream) {
          if (part.type === "error") throw part.error;
          if (part.type === "text-delta") out += part.text;
        }
        return out;
      },
      { baseDelayMs: 5, onRetry: (info) => retries.push(info) },
    );
    expect(text).toBe("finally");
    expect(retries.map((r) => r.attempt)).toEqual([1, 2]);
    expect(mock.requests).toHaveLength(3);
    for (const info of retries) expect(info.error).not.toContain(API_KEY);
  });

  it("401 is not retried", async () => {
    mock.enqueue({ fault: { type: "http", status: 401 } }, { parts: [{ type: "text", text: "never" }] });
    const retries: RetryInfo[] = [];
    const model = createLanguageModel({ provider: "openai", apiKey: API_KEY, baseUrl: mock.baseUrls.openai }, "m");
    await expect(
      withRetry(
        async () => {
          const result = streamText({ model, prompt: "hi", ...callSettings({}), onError: () => undefined });
          for await (const part of result.fullStream) if (part.type === "error") throw part.error;
        },
        { baseDelayMs: 5, onRetry: (info) => retries.push(info) },
      ),
    ).rejects.toMatchObject({ statusCode: 401 });
    expect(retries).toEqual([]);
    expect(mock.requests).toHaveLength(1);
  });
});
