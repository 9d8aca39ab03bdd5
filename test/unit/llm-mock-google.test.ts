/**
 * The mock's Gemini wire format, exercised through `@ai-sdk/google` and the AI SDK's real
 * `streamText`/`generateText`.
 */
import { createGoogleGenerativeAI } from "@ai-sdk/google";
import { generateText, streamText, type TextStreamPart, type ToolSet } from "ai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { MockTurn } from "../../src/llm/mock/index.js";
import { collect, textOf, finishStep, useMockLlm, weatherTools } from "../helpers/llm.js";

const API_KEY = "AIza-test-very-secret-key-0123456789";
const MODEL = "gemini-2.5-flash";

const tools = weatherTools;

const toolTurn: MockTurn = {
  parts: [
    { type: "reasoning", text: "Need the weather; call the tool.", signature: "thought-sig-1" },
    { type: "text", text: "Let me check the weather." },
    { type: "tool-call", id: "call_g1", name: "get_weather", input: { city: "Paris", days: 3 } },
  ],
  usage: { input: 200, output: 40, cacheRead: 800, reasoning: 10 },
};

const mock = useMockLlm();

const provider = () => createGoogleGenerativeAI({ baseURL: mock.baseUrls.google, apiKey: API_KEY });


describe("Gemini", () => {
  it("streams thoughts, text, a functionCall and usage with thoughts in the output", async () => {
    mock.enqueue(toolTurn);
    const result = streamText({ model: provider()(MODEL), prompt: "Weather?", tools, maxRetries: 0, onError: () => {} });
    const parts = await collect(result.fullStream);

    const reasoning = parts.flatMap((part) => (part.type === "reasoning-delta" ? [part] : []));
    expect(reasoning.map((part) => part.text).join("")).toBe("Need the weather; call the tool.");
    expect(reasoning.at(-1)?.providerMetadata?.google?.thoughtSignature).toBe("thought-sig-1");
    expect(textOf(parts)).toBe("Let me check the weather.");
    // Gemini sends a call whole: one delta holding the complete JSON.
    const deltas = parts.flatMap((part) => (part.type === "tool-input-delta" ? [part.delta] : []));
    expect(deltas.map((delta) => JSON.parse(delta))).toEqual([{ city: "Paris", days: 3 }]);
    expect(parts.find((part) => part.type === "tool-call")).toMatchObject({
      toolCallId: "call_g1",
      toolName: "get_weather",
      input: { city: "Paris", days: 3 },
    });

    const step = finishStep(parts);
    expect(step).toMatchObject({ finishReason: "tool-calls", rawFinishReason: "STOP" });
    // promptTokenCount includes the cache; outputTokens = candidates + thoughts.
    expect(step?.usage).toMatchObject({
      inputTokens: 1000,
      inputTokenDetails: { noCacheTokens: 200, cacheReadTokens: 800 },
      outputTokens: 40,
      outputTokenDetails: { textTokens: 30, reasoningTokens: 10 },
    });
    expect(step?.providerMetadata?.google?.usageMetadata).toMatchObject({
      promptTokenCount: 1000,
      cachedContentTokenCount: 800,
      candidatesTokenCount: 30,
      thoughtsTokenCount: 10,
    });

    const [request] = mock.requests;
    expect(request).toMatchObject({
      format: "google",
      path: `/v1beta/models/${MODEL}:streamGenerateContent?alt=sse`,
      model: MODEL,
      stream: true,
    });
    expect(request?.headers["x-goog-api-key"]).toBe("[present]");
    expect(JSON.stringify(mock.requests)).not.toContain(API_KEY);
  });

  it("reports search grounding as source parts and no tool parts", async () => {
    const google = provider();
    mock.enqueue({
      parts: [
        { type: "web-search", query: "paris weather", results: [{ url: "https://example.com/paris", title: "example.com" }] },
        { type: "text", text: "It is sunny in Paris." },
      ],
    });
    const result = streamText({
      model: google(MODEL),
      prompt: "Weather in Paris?",
      tools: { google_search: google.tools.googleSearch({}) },
      maxRetries: 0,
      onError: () => {},
    });
    const parts = await collect(result.fullStream);
    expect(parts.filter((part) => part.type === "source")).toMatchObject([
      { sourceType: "url", url: "https://example.com/paris", title: "example.com" },
    ]);
    expect(parts.some((part) => part.type === "tool-call" || part.type === "tool-result")).toBe(false);
    expect(textOf(parts)).toBe("It is sunny in Paris.");
    const step = finishStep(parts);
    expect(step?.finishReason).toBe("stop");
    expect(step?.providerMetadata?.google?.groundingMetadata).toMatchObject({ webSearchQueries: ["paris weather"] });
  });

  it("maps finishReason length to MAX_TOKENS", async () => {
    mock.enqueue({ parts: [{ type: "text", text: "cut" }], finishReason: "length" });
    const result = streamText({ model: provider()(MODEL), prompt: "x", maxRetries: 0, onError: () => {} });
    expect(finishStep(await collect(result.fullStream))).toMatchObject({ finishReason: "length", rawFinishReason: "MAX_TOKENS" });
  });

  it("answers generateText with the non-streaming generateContent form", async () => {
    mock.enqueue(toolTurn);
    const result = await generateText({ model: provider()(MODEL), prompt: "Weather?", tools, maxRetries: 0 });
    expect(result.reasoningText).toBe("Need the weather; call the tool.");
    expect(result.text).toBe("Let me check the weather.");
    expect(result.toolCalls).toMatchObject([{ toolCallId: "call_g1", toolName: "get_weather", input: { city: "Paris", days: 3 } }]);
    expect(result.finishReason).toBe("tool-calls");
    expect(result.usage).toMatchObject({ inputTokens: 1000, outputTokens: 40, outputTokenDetails: { reasoningTokens: 10 } });
    expect(mock.requests[0]).toMatchObject({ format: "google", path: `/v1beta/models/${MODEL}:generateContent`, stream: false });
  });

  it("answers generateText search grounding with sources", async () => {
    const google = provider();
    mock.enqueue({
      parts: [
        { type: "web-search", query: "q", results: [{ url: "https://example.com/a", title: "A" }] },
        { type: "text", text: "Found it." },
      ],
    });
    const result = await generateText({
      model: google(MODEL),
      prompt: "Search",
      tools: { google_search: google.tools.googleSearch({}) },
      maxRetries: 0,
    });
    expect(result.sources).toMatchObject([{ sourceType: "url", url: "https://example.com/a", title: "A" }]);
    expect(result.toolCalls).toEqual([]);
  });
});
