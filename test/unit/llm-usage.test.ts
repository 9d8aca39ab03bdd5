import { generateText, type LanguageModelUsage } from "ai";
import { MockLanguageModelV3 } from "ai/test";
import { describe, expect, it } from "vitest";
import { normalizeUsage } from "../../src/llm/usage.js";

/** The provider-level usage a model returns (LanguageModelV3Usage), typed without importing @ai-sdk/provider. */
type ModelUsage = Awaited<ReturnType<MockLanguageModelV3["doGenerate"]>>["usage"];

/**
 * Runs the usage through the real AI SDK (generateText over a mock model), so the
 * LanguageModelUsage is built exactly as the SDK builds it for a step.
 */
async function sdkUsage(usage: ModelUsage): Promise<LanguageModelUsage> {
  const model = new MockLanguageModelV3({
    doGenerate: {
      content: [{ type: "text", text: "ok" }],
      finishReason: { unified: "stop", raw: "stop" },
      usage,
      warnings: [],
    },
  });
  const result = await generateText({ model, prompt: "hi", maxRetries: 0 });
  return result.usage;
}

function usage(partial: {
  inputTokens?: number;
  noCacheTokens?: number;
  cacheReadTokens?: number;
  cacheWriteTokens?: number;
  outputTokens?: number;
  textTokens?: number;
  reasoningTokens?: number;
  totalTokens?: number;
}): LanguageModelUsage {
  return {
    inputTokens: partial.inputTokens,
    inputTokenDetails: {
      noCacheTokens: partial.noCacheTokens,
      cacheReadTokens: partial.cacheReadTokens,
      cacheWriteTokens: partial.cacheWriteTokens,
    },
    outputTokens: partial.outputTokens,
    outputTokenDetails: { textTokens: partial.textTokens, reasoningTokens: partial.reasoningTokens },
    totalTokens: partial.totalTokens,
  };
}

describe("normalizeUsage with usage built by the AI SDK (libs.md c numbers)", () => {
  it("OpenAI: prompt 1200 with 1024 cached, 40 output with 16 reasoning", async () => {
    // What @ai-sdk/openai's converter makes of input_tokens 1200, cached 1024, output 40, reasoning 16.
    const sdk = await sdkUsage({
      inputTokens: { total: 1200, noCache: 176, cacheRead: 1024, cacheWrite: undefined },
      outputTokens: { total: 40, text: 24, reasoning: 16 },
    });
    expect(sdk.inputTokens).toBe(1200);
    expect(normalizeUsage("openai", sdk)).toEqual({
      inputTokens: 176,
      outputTokens: 40,
      reasoningTokens: 16,
      cacheReadTokens: 1024,
      cacheCreationTokens: null,
      totalTokens: 1240,
    });
  });

  it("Anthropic: input 150, cache_creation 300, cache_read 2000 (SDK inputTokens 2450)", async () => {
    // @ai-sdk/anthropic sums input + cache creation + cache read into the total.
    const sdk = await sdkUsage({
      inputTokens: { total: 2450, noCache: 150, cacheRead: 2000, cacheWrite: 300 },
      outputTokens: { total: 60, text: undefined, reasoning: undefined },
    });
    expect(sdk.inputTokens).toBe(2450);
    expect(normalizeUsage("anthropic", sdk)).toEqual({
      inputTokens: 150,
      outputTokens: 60,
      reasoningTokens: null,
      cacheReadTokens: 2000,
      cacheCreationTokens: 300,
      totalTokens: 2510,
    });
  });

  it("Google: prompt 1000 with 800 cached, candidates 30 + thoughts 10", async () => {
    const sdk = await sdkUsage({
      inputTokens: { total: 1000, noCache: 200, cacheRead: 800, cacheWrite: undefined },
      outputTokens: { total: 40, text: 30, reasoning: 10 },
    });
    expect(normalizeUsage("google", sdk)).toEqual({
      inputTokens: 200,
      outputTokens: 40,
      reasoningTokens: 10,
      cacheReadTokens: 800,
      cacheCreationTokens: null,
      totalTokens: 1040,
    });
  });

  it("openai-compat: prompt 500 with 100 cached, 20 completion", async () => {
    const sdk = await sdkUsage({
      inputTokens: { total: 500, noCache: 400, cacheRead: 100, cacheWrite: undefined },
      outputTokens: { total: 20, text: 20, reasoning: 0 },
    });
    expect(normalizeUsage("openai-compat", sdk)).toEqual({
      inputTokens: 400,
      outputTokens: 20,
      reasoningTokens: 0,
      cacheReadTokens: 100,
      cacheCreationTokens: null,
      totalTokens: 520,
    });
  });

  it("a provider that reports no usage gives all nulls, not zeros", async () => {
    const sdk = await sdkUsage({
      inputTokens: { total: undefined, noCache: undefined, cacheRead: undefined, cacheWrite: undefined },
      outputTokens: { total: undefined, text: undefined, reasoning: undefined },
    });
    expect(normalizeUsage("openai-compat", sdk)).toEqual({
      inputTokens: null,
      outputTokens: null,
      reasoningTokens: null,
      cacheReadTokens: null,
      cacheCreationTokens: null,
      totalTokens: null,
    });
  });
});

describe("normalizeUsage fallbacks", () => {
  it("derives non-cached input from the total when noCacheTokens is missing", () => {
    const anthropic = normalizeUsage("anthropic", usage({ inputTokens: 2450, cacheReadTokens: 2000, cacheWriteTokens: 300 }));
    expect(anthropic.inputTokens).toBe(150);
    const openai = normalizeUsage("openai", usage({ inputTokens: 1200, cacheReadTokens: 1024 }));
    expect(openai.inputTokens).toBe(176);
    expect(openai.cacheCreationTokens).toBeNull();
    const plain = normalizeUsage("openai-compat", usage({ inputTokens: 300 }));
    expect(plain.inputTokens).toBe(300);
    expect(plain.cacheReadTokens).toBeNull();
  });

  it("never goes negative when the details exceed the total", () => {
    expect(normalizeUsage("openai", usage({ inputTokens: 10, cacheReadTokens: 50 })).inputTokens).toBe(0);
  });

  it("sums the known parts when the total is missing", () => {
    const result = normalizeUsage("anthropic", usage({ noCacheTokens: 150, cacheReadTokens: 2000, cacheWriteTokens: 300, outputTokens: 60 }));
    expect(result.totalTokens).toBe(2510);
    expect(normalizeUsage("google", usage({ outputTokens: 7 })).totalTokens).toBe(7);
  });

  it("uses the provider total when given", () => {
    expect(normalizeUsage("openai", usage({ inputTokens: 10, outputTokens: 5, totalTokens: 99 })).totalTokens).toBe(99);
  });

  it("derives output from text + reasoning when only the parts are reported", () => {
    const result = normalizeUsage("openai-compat", usage({ textTokens: 30, reasoningTokens: 12 }));
    expect(result.outputTokens).toBe(42);
    expect(result.reasoningTokens).toBe(12);
  });

  it("keeps reported zeros as zeros", () => {
    const result = normalizeUsage("openai", usage({ inputTokens: 0, noCacheTokens: 0, cacheReadTokens: 0, outputTokens: 0 }));
    expect(result).toMatchObject({ inputTokens: 0, cacheReadTokens: 0, outputTokens: 0, totalTokens: 0 });
  });

  it("treats negative and non-finite counts as unknown and rounds fractions", () => {
    const result = normalizeUsage("openai-compat", usage({ inputTokens: -5, outputTokens: Number.NaN, reasoningTokens: 2.6 }));
    expect(result.inputTokens).toBeNull();
    expect(result.outputTokens).toBe(3);
    expect(result.reasoningTokens).toBe(3);
  });

  it("ignores the deprecated v6-only fields", () => {
    const deprecated: LanguageModelUsage = { ...usage({ inputTokens: 100 }), cachedInputTokens: 80, reasoningTokens: 9 };
    const result = normalizeUsage("openai", deprecated);
    expect(result.cacheReadTokens).toBeNull();
    expect(result.reasoningTokens).toBeNull();
    expect(result.inputTokens).toBe(100);
  });

  it("tolerates a usage object without detail objects", () => {
    const bare: unknown = { inputTokens: 12, outputTokens: 3, totalTokens: 15 };
    const isUsage = (value: unknown): value is LanguageModelUsage => typeof value === "object" && value !== null;
    if (!isUsage(bare)) throw new Error("unreachable");
    expect(normalizeUsage("openai", bare)).toMatchObject({ inputTokens: 12, outputTokens: 3, totalTokens: 15, cacheReadTokens: null });
  });
});
