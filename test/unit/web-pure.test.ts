import { describe, expect, it } from "vitest";
import { splitMarkdownBlocks } from "../../web/src/chat/markdown-blocks.js";
import { attachmentProblem, MAX_UPLOAD_BYTES } from "../../web/src/composer/attachment-rules.js";
import { safeNext } from "../../web/src/auth/next.js";
import { modelOptions } from "../../web/src/composer/model-options.js";
import type { ModelConfigResponse } from "../../src/sdk/schemas/index.js";

describe("markdown blocks", () => {
  it("splits at blank lines but never inside a fenced code block", () => {
    const text = "# Title\n\nA paragraph\nstill it.\n\n```ts\nconst a = 1;\n\nconst b = 2;\n```\n\n- item";
    expect(splitMarkdownBlocks(text)).toEqual(["# Title", "A paragraph\nstill it.", "```ts\nconst a = 1;\n\nconst b = 2;\n```", "- item"]);
  });

  it("keeps earlier blocks identical while the last one grows (so they stay memoized)", () => {
    const first = splitMarkdownBlocks("one\n\ntw");
    const second = splitMarkdownBlocks("one\n\ntwo and more");
    expect(second[0]).toBe(first[0]);
    expect(splitMarkdownBlocks("```\nopen fence\n\nstill code")).toHaveLength(1);
  });
});

describe("attachments", () => {
  it("accepts the four image types up to 10 MiB and explains every refusal", () => {
    expect(attachmentProblem({ name: "a.png", type: "image/png", size: 100 })).toBeUndefined();
    expect(attachmentProblem({ name: "a.svg", type: "image/svg+xml", size: 100 })).toMatch(/only PNG, JPEG, GIF and WebP/);
    expect(attachmentProblem({ name: "big.jpg", type: "image/jpeg", size: MAX_UPLOAD_BYTES + 1 })).toMatch(/limit is 10 MiB/);
  });
});

describe("login redirect", () => {
  it("follows same-site paths only", () => {
    expect(safeNext("/agents/123")).toBe("/agents/123");
    expect(safeNext("//evil.example")).toBe("/agents");
    expect(safeNext("https://evil.example")).toBe("/agents");
    expect(safeNext(null)).toBe("/agents");
  });
});

describe("model picker options", () => {
  const config = (id: string, provider: ModelConfigResponse["provider"], extra: Partial<ModelConfigResponse> = {}): ModelConfigResponse => ({
    id,
    provider,
    model: `${provider}-model`,
    display_name: "",
    enabled: true,
    is_default: false,
    context_limit: 1000,
    compression_threshold: 70,
    model_config: {},
    created_at: new Date(0).toISOString(),
    updated_at: new Date(0).toISOString(),
    ...extra,
  });
  it("puts the default first and disables models whose provider has no key, with the reason", () => {
    const options = modelOptions(
      [config("a", "openai"), config("b", "anthropic", { is_default: true, display_name: "Claude" }), config("c", "google", { enabled: false })],
      [
        { provider: "openai", available: false, unavailable_reason: "missing_api_key", models: [] },
        { provider: "anthropic", available: true, models: [] },
      ],
    );
    expect(options.map((option) => option.id)).toEqual(["b", "a"]);
    expect(options[0]).toMatchObject({ label: "Claude", isDefault: true });
    expect(options[1]?.disabledReason).toBe("provider has no API key");
  });
});
