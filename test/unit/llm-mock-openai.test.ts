/**
 * The mock's OpenAI wire formats, exercised through the AI SDK's real providers: Chat Completions
 * via `openai.chat()` and `@ai-sdk/openai-compatible`, and the Responses API via `openai()`.
 */
import { createOpenAI } from "@ai-sdk/openai";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { generateText, streamText, type LanguageModel, type TextStreamPart, type ToolSet } from "ai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { MockTurn } from "../../src/llm/mock/index.js";
import { collect, textOf, reasoningOf, finishStep, useMockLlm, weatherTools } from "../helpers/llm.js";

const API_KEY = "sk-test-very-secret-key-0123456789";

const tools = weatherTools;

const toolTurn: MockTurn = {
  parts: [
    { type: "reasoning", text: "Need the weather; call the tool.", signature: "enc-reasoning-1" },
    { type: "text", text: "Let me check the weather." },
    { type: "tool-call", id: "call_1", name: "get_weather", input: { city: "Paris", days: 3 }, chunks: 4 },
  ],
  usage: { input: 176, output: 40, cacheRead: 1024, reasoning: 16 },
};

const mock = useMockLlm();

function run(model: LanguageModel, withTools = true) {
  const result = streamText({
    model,
    prompt: "What is the weather in Paris?",
    maxRetries: 0,
    onError: () => {},
    ...(withTools ? { tools } : {}),
  });
  return collect(result.fullStream);
}

const finish = <T extends ToolSet>(parts: TextStreamPart<T>[]) => parts.find((part) => part.type === "finish");

const openai = () => createOpenAI({ baseURL: mock.baseUrls.openai, apiKey: API_KEY });
const compat = () =>
  createOpenAICompatible({ baseURL: mock.baseUrls.openaiCompat, name: "local", apiKey: API_KEY, includeUsage: true });

const chatModels = [
  { name: "openai.chat()", model: () => openai().chat("gpt-mock"), reasoning: false, sources: true },
  { name: "openai-compatible", model: () => compat()("compat-mock"), reasoning: true, sources: false },
];

describe.each(chatModels)("Chat Completions via $name", ({ model, reasoning, sources }) => {
  it("streams text, the tool call assembled from split arguments, and usage", async () => {
    mock.enqueue(toolTurn);
    const parts = await run(model());

    expect(textOf(parts)).toBe("Let me check the weather.");
    // openai.chat() ignores reasoning_content (OpenAI never sends it); compatible servers do.
    expect(reasoningOf(parts)).toBe(reasoning ? "Need the weather; call the tool." : "");
    const deltas = parts.flatMap((part) => (part.type === "tool-input-delta" ? [part.delta] : []));
    expect(deltas).toHaveLength(4);
    expect(JSON.parse(deltas.join(""))).toEqual({ city: "Paris", days: 3 });
    const call = parts.find((part) => part.type === "tool-call");
    expect(call).toMatchObject({ toolCallId: "call_1", toolName: "get_weather", input: { city: "Paris", days: 3 } });

    const step = finishStep(parts);
    expect(step?.finishReason).toBe("tool-calls");
    expect(step?.usage).toMatchObject({
      inputTokens: 1200,
      inputTokenDetails: { noCacheTokens: 176, cacheReadTokens: 1024 },
      outputTokens: 40,
      outputTokenDetails: { textTokens: 24, reasoningTokens: 16 },
    });
    expect(finish(parts)?.totalUsage.inputTokens).toBe(1200);
  });

  // openai-compatible 2.x does not read `annotations`, so only openai.chat() yields sources.
  it(`${sources ? "turns" : "ignores"} url_citation annotations ${sources ? "into" : "as"} source parts`, async () => {
    mock.enqueue({
      parts: [
        { type: "web-search", query: "paris weather", results: [{ url: "https://example.com/paris", title: "Paris" }] },
        { type: "text", text: "Sunny." },
      ],
    });
    const parts = await run(model(), false);
    const expected = sources ? [{ sourceType: "url", url: "https://example.com/paris", title: "Paris" }] : [];
    expect(parts.filter((part) => part.type === "source")).toMatchObject(expected);
    expect(textOf(parts)).toBe("Sunny.");
  });

  it("answers generateText with the non-streaming JSON form", async () => {
    mock.enqueue(toolTurn);
    const result = await generateText({ model: model(), prompt: "Weather?", tools, maxRetries: 0 });
    expect(result.text).toBe("Let me check the weather.");
    expect(result.reasoningText).toBe(reasoning ? "Need the weather; call the tool." : undefined);
    expect(result.toolCalls).toMatchObject([{ toolCallId: "call_1", input: { city: "Paris", days: 3 } }]);
    expect(result.usage).toMatchObject({ inputTokens: 1200, outputTokens: 40, inputTokenDetails: { cacheReadTokens: 1024 } });
    expect(mock.requests[0]).toMatchObject({ format: "openai-chat", stream: false });
  });
});

describe("Chat Completions requests", () => {
  it("sends usage only when stream_options.include_usage asks for it", async () => {
    const noUsage = createOpenAICompatible({ baseURL: mock.baseUrls.openaiCompat, name: "plain", apiKey: API_KEY });
    mock.enqueue({ parts: [{ type: "text", text: "hi" }], usage: { input: 5, output: 1 } });
    const parts = await run(noUsage("m"), false);
    expect(finishStep(parts)?.usage.inputTokens).toBeUndefined();

    mock.enqueue({ parts: [{ type: "text", text: "hi" }], usage: { input: 5, output: 1 } });
    expect(finishStep(await run(compat()("m"), false))?.usage.inputTokens).toBe(5);
    expect(mock.requests.map((request) => request.body)).toMatchObject([
      { stream: true, model: "m" },
      { stream: true, model: "m", stream_options: { include_usage: true } },
    ]);
    expect(mock.requests[0]?.body).not.toHaveProperty("stream_options");
  });

  it("records the request with the key redacted", async () => {
    await run(openai().chat("gpt-mock"), false);
    const [request] = mock.requests;
    expect(request).toMatchObject({ format: "openai-chat", path: "/v1/chat/completions", model: "gpt-mock", stream: true });
    expect(request?.headers.authorization).toBe("[present]");
    expect(JSON.stringify(mock.requests)).not.toContain(API_KEY);
  });
});

describe("Responses API via openai()", () => {
  it("streams reasoning summary, text, a split function call and usage", async () => {
    mock.enqueue(toolTurn);
    const parts = await run(openai()("gpt-mock"));

    expect(reasoningOf(parts)).toBe("Need the weather; call the tool.");
    const reasoningEnd = parts.find((part) => part.type === "reasoning-end");
    expect(reasoningEnd?.providerMetadata?.openai?.reasoningEncryptedContent).toBe("enc-reasoning-1");
    expect(textOf(parts)).toBe("Let me check the weather.");
    const deltas = parts.flatMap((part) => (part.type === "tool-input-delta" ? [part.delta] : []));
    expect(deltas).toHaveLength(4);
    expect(parts.find((part) => part.type === "tool-call")).toMatchObject({
      toolCallId: "call_1",
      toolName: "get_weather",
      input: { city: "Paris", days: 3 },
    });
    const step = finishStep(parts);
    expect(step?.finishReason).toBe("tool-calls");
    expect(step?.usage).toMatchObject({
      inputTokens: 1200,
      inputTokenDetails: { noCacheTokens: 176, cacheReadTokens: 1024 },
      outputTokens: 40,
      outputTokenDetails: { textTokens: 24, reasoningTokens: 16 },
    });
    expect(step?.providerMetadata?.openai?.responseId).toMatch(/^resp_mock_/);
    expect(mock.requests[0]).toMatchObject({ format: "openai-responses", path: "/v1/responses", stream: true });
  });

  it("reports the provider-executed web search as tool parts and a source", async () => {
    const provider = openai();
    mock.enqueue({
      parts: [
        { type: "web-search", query: "paris weather", results: [{ url: "https://example.com/paris", title: "Paris forecast" }] },
        { type: "text", text: "It is sunny in Paris." },
      ],
    });
    const result = streamText({
      model: provider("gpt-mock"),
      prompt: "Weather in Paris?",
      tools: { web_search: provider.tools.webSearch({}) },
      maxRetries: 0,
      onError: () => {},
    });
    const parts = await collect(result.fullStream);
    expect(parts.find((part) => part.type === "tool-call")).toMatchObject({ toolName: "web_search", providerExecuted: true });
    expect(parts.find((part) => part.type === "tool-result")).toMatchObject({
      toolName: "web_search",
      output: { action: { type: "search", query: "paris weather" } },
    });
    expect(parts.filter((part) => part.type === "source")).toMatchObject([
      { sourceType: "url", url: "https://example.com/paris", title: "Paris forecast" },
    ]);
    expect(textOf(parts)).toBe("It is sunny in Paris.");
    expect(finishStep(parts)?.finishReason).toBe("stop");
  });

  it("maps finishReason length to an incomplete response", async () => {
    mock.enqueue({ parts: [{ type: "text", text: "cut" }], finishReason: "length" });
    expect(finishStep(await run(openai()("gpt-mock"), false))?.finishReason).toBe("length");
  });

  it("answers generateText with the non-streaming JSON form", async () => {
    mock.enqueue(toolTurn);
    const result = await generateText({ model: openai()("gpt-mock"), prompt: "Weather?", tools, maxRetries: 0 });
    expect(result.reasoningText).toBe("Need the weather; call the tool.");
    expect(result.text).toBe("Let me check the weather.");
    expect(result.toolCalls).toMatchObject([{ toolCallId: "call_1", input: { city: "Paris", days: 3 } }]);
    expect(result.finishReason).toBe("tool-calls");
    expect(result.usage).toMatchObject({ inputTokens: 1200, outputTokens: 40, outputTokenDetails: { reasoningTokens: 16 } });
    expect(mock.requests[0]).toMatchObject({ format: "openai-responses", stream: false });
  });
});
