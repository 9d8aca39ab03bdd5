import { describe, expect, it } from "vitest";
import {
  contextLimitFromMetadata,
  findContextLimit,
  isContextLimitKey,
  normalizeMetadataKey,
} from "../../src/llm/context-limit.js";

describe("normalizeMetadataKey", () => {
  it.each([
    ["camelCase", "camelcase"],
    ["kebab-case", "kebabcase"],
    ["snake_case", "snakecase"],
    ["with spaces", "withspaces"],
    ["Max_Context-Tokens", "maxcontexttokens"],
    ["context.limit", "contextlimit"],
    ["123", "123"],
    ["", ""],
  ])("%j → %j", (key, expected) => {
    expect(normalizeMetadataKey(key)).toBe(expected);
  });
});

describe("isContextLimitKey", () => {
  it.each([
    "context_limit",
    "contextWindow",
    "Context-Window",
    "context_length",
    "max_context",
    "MAX_CONTEXT_TOKENS",
    "maxContextLength",
    "max_input_tokens",
    "maxInputToken",
    "inputTokenLimit",
    "model_context_limit",
    "context_window_size",
    "context_length_max",
    "contextTokenLimit",
  ])("matches %s", (key) => {
    expect(isContextLimitKey(key)).toBe(true);
  });

  it.each(["", "context", "context_id", "max_context_version", "rate_limit", "max_tokens", "model_name", "input_tokens", "contextWindowId"])(
    "ignores %j",
    (key) => {
      expect(isContextLimitKey(key)).toBe(false);
    },
  );
});

describe("findContextLimit", () => {
  it("finds a value at the top level, nested in objects, and inside arrays", () => {
    expect(findContextLimit({ context_limit: 200_000, other: 999 })).toBe(200_000);
    expect(findContextLimit({ provider: { info: { context_window: 100_000 } } })).toBe(100_000);
    expect(findContextLimit({ models: [{ context_limit: 50_000 }, { context_limit: 80_000 }] })).toBe(80_000);
  });

  it("takes the largest candidate across providers and keys", () => {
    const metadata = {
      anthropic: { usage: { cache_read_input_tokens: 100 }, contextWindow: 200_000 },
      openai: { max_input_tokens: 272_000, limits: { inputTokenLimit: 128_000 } },
    };
    expect(findContextLimit(metadata)).toBe(272_000);
  });

  it("accepts numeric strings and rejects everything that is not a positive integer", () => {
    expect(findContextLimit({ context_limit: " 128000 " })).toBe(128_000);
    for (const value of [0, -1, 128_000.5, Number.NaN, Number.POSITIVE_INFINITY, "0", "-1", "", "abc", "1e5", true, null, [1], { n: 1 }, 2 ** 60]) {
      expect(findContextLimit({ context_limit: value })).toBeNull();
    }
  });

  it("keeps walking below a matching key whose value is an object", () => {
    expect(findContextLimit({ context_window: { max_context_tokens: 64_000 } })).toBe(64_000);
  });

  it("returns null for no candidates and non-object input", () => {
    expect(findContextLimit({ model: "gpt-4", tokens: 1_000 })).toBeNull();
    expect(findContextLimit(null)).toBeNull();
    expect(findContextLimit(undefined)).toBeNull();
    expect(findContextLimit("context_limit")).toBeNull();
    expect(findContextLimit(42)).toBeNull();
  });

  it("survives cycles and stops at a bounded depth", () => {
    const cyclic: Record<string, unknown> = { context_limit: 1_000 };
    cyclic.self = cyclic;
    cyclic.list = [cyclic];
    expect(findContextLimit(cyclic)).toBe(1_000);

    let deep: Record<string, unknown> = { context_limit: 5 };
    for (let i = 0; i < 10_000; i++) deep = { next: deep };
    expect(findContextLimit(deep)).toBeNull();

    let shallow: Record<string, unknown> = { context_limit: 7 };
    for (let i = 0; i < 10; i++) shallow = { next: shallow };
    expect(findContextLimit(shallow)).toBe(7);
  });
});

describe("contextLimitFromMetadata", () => {
  it("prefers the metadata value over the fallback", () => {
    expect(contextLimitFromMetadata({ google: { usageMetadata: {}, inputTokenLimit: 1_048_576 } }, 200_000)).toBe(1_048_576);
    expect(contextLimitFromMetadata({ anthropic: { context_window: 100_000 } }, 200_000)).toBe(100_000);
  });

  it("falls back to the model config's limit when the metadata has none", () => {
    expect(contextLimitFromMetadata({ openai: { responseId: "resp_1", serviceTier: "default" } }, 128_000)).toBe(128_000);
    expect(contextLimitFromMetadata(undefined, 128_000)).toBe(128_000);
  });

  it("returns null when neither gives a positive limit", () => {
    expect(contextLimitFromMetadata({}, null)).toBeNull();
    expect(contextLimitFromMetadata({}, 0)).toBeNull();
    expect(contextLimitFromMetadata({}, -5)).toBeNull();
  });
});
