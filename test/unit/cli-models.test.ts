/** `chatd chat --model NAME`: names to model config ids (src/cli/models.ts). */
import { describe, expect, it } from "vitest";
import { resolveModel } from "../../src/cli/models.js";
import { UsageError } from "../../src/cli/usage.js";
import type { ModelConfigResponse } from "../../src/sdk/schemas/llm.js";

let n = 0;
function config(provider: ModelConfigResponse["provider"], model: string, enabled = true): ModelConfigResponse {
  n += 1;
  return {
    id: `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`,
    provider,
    model,
    display_name: "",
    enabled,
    is_default: false,
    context_limit: 200_000,
    compression_threshold: 70,
    model_config: {},
    created_at: "2026-03-23T10:00:00Z",
    updated_at: "2026-03-23T10:00:00Z",
  };
}

const sonnet = config("anthropic", "claude-sonnet-4-5");
const haiku = config("anthropic", "claude-haiku-4-5");
const openaiHaiku = config("openai", "claude-haiku-4-5");
const disabled = config("openai", "gpt-old", false);
const configs = [sonnet, haiku, openaiHaiku, disabled];

describe("resolveModel", () => {
  it("takes provider:model, a model name only one provider has, or an id", () => {
    expect(resolveModel("anthropic:claude-haiku-4-5", configs)).toBe(haiku.id);
    expect(resolveModel("claude-sonnet-4-5", configs)).toBe(sonnet.id);
    expect(resolveModel(sonnet.id.toUpperCase(), [])).toBe(sonnet.id);
  });

  it("lists what is available for an unknown or disabled name, on one line", () => {
    const unknown = () => resolveModel("gpt-9", configs);
    expect(unknown).toThrow(UsageError);
    expect(unknown).toThrow('--model "gpt-9": no such model; available: anthropic:claude-haiku-4-5, anthropic:claude-sonnet-4-5, openai:claude-haiku-4-5');
    expect(() => resolveModel("openai:gpt-old", configs)).toThrow(/no such model/);
    expect(() => resolveModel("x", [])).toThrow(/no model is configured/);
  });

  it("names the candidates of an ambiguous name", () => {
    expect(() => resolveModel("claude-haiku-4-5", configs)).toThrow(
      new RegExp(`matches 2 models: anthropic:claude-haiku-4-5 \\(${haiku.id}\\), openai:claude-haiku-4-5 \\(${openaiHaiku.id}\\); say provider:model`),
    );
    const twin = config("anthropic", "claude-haiku-4-5");
    expect(() => resolveModel("anthropic:claude-haiku-4-5", [...configs, twin])).toThrow(/matches 2 models: .*; pass the config id/);
  });
});
