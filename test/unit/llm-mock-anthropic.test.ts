/**
 * The mock's Anthropic Messages wire format, exercised through `@ai-sdk/anthropic` and the AI SDK's
 * real `streamText`/`generateText`.
 */
import { createAnthropic } from "@ai-sdk/anthropic";
import { generateText, streamText, type TextStreamPart, type ToolSet } from "ai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { MockTurn } from "../../src/llm/mock/index.js";
import { collect, textOf, finishStep, useMockLlm, weatherTools } from "../helpers/llm.js";

const API_KEY = "sk-ant-test-very-secret-key-0123456789";

const tools = weatherTools;

const toolTurn: MockTurn = {
  parts: [
    { type: "reasoning", text: "Need the weather; call the tool.", signature: "sig-abc-123" },
    { type: "text", text: "Let me check the weather." },
    { type: "tool-call", id: "toolu_1", name: "get_weather", input: { city: "Paris", days: 3 }, chunks: 4 },
  ],
  usage: { input: 150, output: 40, cacheRead: 2000, cacheWrite: 300, reasoning: 16 },
};

const mock = useMockLlm();

const provider = () => createAnthropic({ baseURL: mock.baseUrls.anthropic, apiKey: API_KEY });


describe("Anthropic Messages", () => {
  it("streams thinking with its signature, text, a split tool_use and cache usage", async () => {
    mock.enqueue(toolTurn);
    const result = streamText({ model: provider()("claude-haiku-4-5"), prompt: "Weather?", tools, maxRetries: 0, onError: () => {} });
    const parts = await collect(result.fullStream);

    const reasoning = parts.flatMap((part) => (part.type === "reasoning-delta" ? [part] : []));
    expect(reasoning.map((part) => part.text).join("")).toBe("Need the weather; call the tool.");
    // The signature arrives last, as an empty delta carrying provider metadata.
    expect(reasoning.at(-1)).toMatchObject({ text: "", providerMetadata: { anthropic: { signature: "sig-abc-123" } } });
    expect(textOf(parts)).toBe("Let me check the weather.");

    // The leading empty partial_json is dropped by the SDK: 4 scripted fragments arrive.
    const deltas = parts.flatMap((part) => (part.type === "tool-input-delta" ? [part.delta] : []));
    expect(deltas).toHaveLength(4);
    expect(parts.find((part) => part.type === "tool-call")).toMatchObject({
      toolCallId: "toolu_1",
      toolName: "get_weather",
      input: { city: "Paris", days: 3 },
    });

    const step = finishStep(parts);
    expect(step?.finishReason).toBe("tool-calls");
    expect(step?.rawFinishReason).toBe("tool_use");
    // Anthropic's input_tokens excludes the cache; the SDK's inputTokens is the sum of all three.
    expect(step?.usage).toMatchObject({
      inputTokens: 2450,
      inputTokenDetails: { noCacheTokens: 150, cacheReadTokens: 2000, cacheWriteTokens: 300 },
      outputTokens: 40,
      outputTokenDetails: { reasoningTokens: 16, textTokens: 24 },
    });
    expect(step?.providerMetadata?.anthropic?.usage).toMatchObject({
      input_tokens: 150,
      cache_read_input_tokens: 2000,
      cache_creation_input_tokens: 300,
      output_tokens: 40,
    });
    expect((await result.totalUsage).inputTokens).toBe(2450);

    const [request] = mock.requests;
    expect(request).toMatchObject({ format: "anthropic", path: "/v1/messages", model: "claude-haiku-4-5", stream: true });
    expect(request?.headers["x-api-key"]).toBe("[present]");
    expect(request?.headers["anthropic-version"]).toBeTruthy();
    expect(JSON.stringify(mock.requests)).not.toContain(API_KEY);
  });

  it("reports server-side web search as provider-executed tool parts and sources", async () => {
    const anthropic = provider();
    mock.enqueue({
      parts: [
        {
          type: "web-search",
          query: "paris weather",
          results: [
            { url: "https://example.com/paris", title: "Paris forecast" },
            { url: "https://example.org/meteo", title: "Météo" },
          ],
        },
        { type: "text", text: "It is sunny in Paris." },
      ],
    });
    const result = streamText({
      model: anthropic("claude-haiku-4-5"),
      prompt: "Weather in Paris?",
      tools: { web_search: anthropic.tools.webSearch_20250305({ maxUses: 1 }) },
      maxRetries: 0,
      onError: () => {},
    });
    const parts = await collect(result.fullStream);

    expect(parts.find((part) => part.type === "tool-call")).toMatchObject({
      toolName: "web_search",
      providerExecuted: true,
      input: { query: "paris weather" },
    });
    const toolResult = parts.find((part) => part.type === "tool-result");
    expect(toolResult).toMatchObject({ toolName: "web_search", providerExecuted: true });
    expect(toolResult?.type === "tool-result" ? toolResult.output : undefined).toMatchObject([
      { url: "https://example.com/paris", title: "Paris forecast" },
      { url: "https://example.org/meteo", title: "Météo" },
    ]);
    expect(parts.filter((part) => part.type === "source").map((part) => (part.sourceType === "url" ? part.url : ""))).toEqual([
      "https://example.com/paris",
      "https://example.org/meteo",
    ]);
    expect(textOf(parts)).toBe("It is sunny in Paris.");
    const step = finishStep(parts);
    expect(step?.finishReason).toBe("stop");
    expect(step?.providerMetadata?.anthropic?.usage).toMatchObject({ server_tool_use: { web_search_requests: 1 } });
  });

  it("always sends a signature, generating one when the script has none", async () => {
    mock.enqueue({ parts: [{ type: "reasoning", text: "Hmm." }, { type: "text", text: "Done." }] });
    const result = streamText({ model: provider()("claude-haiku-4-5"), prompt: "Think", maxRetries: 0, onError: () => {} });
    const parts = await collect(result.fullStream);
    const signatures = parts.flatMap((part) =>
      part.type === "reasoning-delta" && part.providerMetadata?.anthropic?.signature !== undefined
        ? [part.providerMetadata.anthropic.signature]
        : [],
    );
    expect(signatures).toEqual([expect.stringMatching(/^mock-signature-/)]);
  });

  it("maps finishReason length to max_tokens", async () => {
    mock.enqueue({ parts: [{ type: "text", text: "cut" }], finishReason: "length" });
    const result = streamText({ model: provider()("claude-haiku-4-5"), prompt: "x", maxRetries: 0, onError: () => {} });
    const step = finishStep(await collect(result.fullStream));
    expect(step).toMatchObject({ finishReason: "length", rawFinishReason: "max_tokens" });
  });

  it("answers generateText with the non-streaming JSON form", async () => {
    mock.enqueue(toolTurn);
    const result = await generateText({ model: provider()("claude-haiku-4-5"), prompt: "Weather?", tools, maxRetries: 0 });
    expect(result.reasoningText).toBe("Need the weather; call the tool.");
    expect(result.reasoning[0]?.providerMetadata?.anthropic?.signature).toBe("sig-abc-123");
    expect(result.text).toBe("Let me check the weather.");
    expect(result.toolCalls).toMatchObject([{ toolCallId: "toolu_1", toolName: "get_weather", input: { city: "Paris", days: 3 } }]);
    expect(result.finishReason).toBe("tool-calls");
    expect(result.usage).toMatchObject({
      inputTokens: 2450,
      inputTokenDetails: { noCacheTokens: 150, cacheReadTokens: 2000, cacheWriteTokens: 300 },
      outputTokens: 40,
    });
    expect(mock.requests[0]).toMatchObject({ format: "anthropic", stream: false });
  });

  it("answers generateText web search with sources", async () => {
    const anthropic = provider();
    mock.enqueue({
      parts: [
        { type: "web-search", query: "q", results: [{ url: "https://example.com/a", title: "A" }] },
        { type: "text", text: "Found it." },
      ],
    });
    const result = await generateText({
      model: anthropic("claude-haiku-4-5"),
      prompt: "Search",
      tools: { web_search: anthropic.tools.webSearch_20250305({}) },
      maxRetries: 0,
    });
    expect(result.sources).toMatchObject([{ sourceType: "url", url: "https://example.com/a", title: "A" }]);
    expect(result.text).toBe("Found it.");
  });
});

describe("Anthropic Messages: requests the real API refuses", () => {
  it("answers 400 to a system role inside messages, leaving the script alone; a top-level system is fine", async () => {
    mock.enqueue({ parts: [{ type: "text", text: "scripted" }] });
    const refused = await fetch(`${mock.baseUrls.anthropic}/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": API_KEY },
      body: JSON.stringify({ model: "claude-haiku-4-5", max_tokens: 16, messages: [{ role: "system", content: "be brief" }, { role: "user", content: "hi" }] }),
    });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ type: "error", error: { type: "invalid_request_error", message: expect.stringContaining('messages.0.role: Unexpected role "system"') } });
    expect(mock.pendingTurns).toBe(1);

    const result = await generateText({ model: provider()("claude-haiku-4-5"), system: "be brief", prompt: "hi", maxRetries: 0 });
    expect(result.text).toBe("scripted");
  });
});
