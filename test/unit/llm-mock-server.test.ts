/**
 * The mock server itself: the turn queue, the default echo turn, request recording (with keys
 * redacted), waiting on requests, and what it answers to requests it cannot serve.
 */
import { createOpenAI } from "@ai-sdk/openai";
import { streamText, type ModelMessage } from "ai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startMockLlm } from "../../src/llm/mock/index.js";
import { useMockLlm } from "../helpers/llm.js";

const API_KEY = "sk-server-test-secret-0123456789";

const mock = useMockLlm();

const chat = () => createOpenAI({ baseURL: mock.baseUrls.openai, apiKey: API_KEY }).chat("gpt-mock");

async function deltas(messages: ModelMessage[]) {
  const result = streamText({ model: chat(), messages, maxRetries: 0, onError: () => {} });
  const out: string[] = [];
  for await (const part of result.fullStream) if (part.type === "text-delta") out.push(part.text);
  return out;
}

function post(path: string, body: string, headers: Record<string, string> = {}) {
  return fetch(`${mock.url}${path}`, { method: "POST", body, headers: { "content-type": "application/json", ...headers } });
}

describe("turn queue", () => {
  it("answers requests with queued turns in order, then with the default echo turn", async () => {
    mock.enqueue({ parts: [{ type: "text", text: "first" }] }, { parts: [{ type: "text", text: "second" }] });
    expect(mock.pendingTurns).toBe(2);
    expect((await deltas([{ role: "user", content: "a" }])).join("")).toBe("first");
    expect((await deltas([{ role: "user", content: "b" }])).join("")).toBe("second");
    expect(mock.pendingTurns).toBe(0);
    const echoed = await deltas([
      { role: "user", content: "older message" },
      { role: "assistant", content: "reply" },
      { role: "user", content: "Echo these words please" },
    ]);
    // Word by word, leading spaces kept, so the deltas concatenate to the exact message.
    expect(echoed).toEqual(["Echo", " these", " words", " please"]);
    expect(mock.requests.map((request) => request.answeredBy)).toEqual(["script", "script", "default"]);
  });

  it("lets a function choose the turn from the request it answers", async () => {
    mock.enqueue((request) => ({ parts: [{ type: "text", text: `model=${request.model} format=${request.format}` }] }));
    expect((await deltas([{ role: "user", content: "x" }])).join("")).toBe("model=gpt-mock format=openai-chat");
  });

  it("answers a function turn that returns nonsense with a 500 naming the problem", async () => {
    mock.enqueue(() => ({ parts: [{ type: "tool-call", id: "", name: "t", input: {} }] }));
    const response = await post("/v1/chat/completions", JSON.stringify({ model: "m", messages: [] }));
    expect(response.status).toBe(500);
    expect(await response.text()).toContain("scripted turn failed");
  });

  it("rejects invalid turns at enqueue time", () => {
    expect(() => mock.enqueue({ usage: { input: 1, output: 2, reasoning: 3 } })).toThrow(/reasoning/);
    expect(() => mock.enqueue({ parts: [{ type: "tool-call", id: "a", name: "b", input: {}, chunks: 0 }] })).toThrow();
    expect(mock.pendingTurns).toBe(0);
  });

  it("answers from the fallback, not the echo, once the queue is empty", async () => {
    const own = await startMockLlm({
      turns: [{ parts: [{ type: "text", text: "queued" }] }],
      fallback: (request) => ({ parts: [{ type: "text", text: `fallback for ${request.model}` }] }),
    });
    try {
      const model = createOpenAI({ baseURL: own.baseUrls.openai, apiKey: API_KEY }).chat("gpt-fallback");
      const text = async () => {
        const result = streamText({ model, messages: [{ role: "user", content: "x" }], maxRetries: 0, onError: () => {} });
        return result.text;
      };
      expect(await text()).toBe("queued");
      expect(await text()).toBe("fallback for gpt-fallback");
      expect(await text()).toBe("fallback for gpt-fallback");
      expect(own.requests.map((request) => request.answeredBy)).toEqual(["script", "script", "script"]);
    } finally {
      await own.close();
    }
  });

  it("reset() forgets queued turns and recorded requests", async () => {
    mock.enqueue({ parts: [{ type: "text", text: "never" }] });
    await deltas([{ role: "user", content: "x" }]);
    mock.enqueue({ parts: [{ type: "text", text: "never" }] });
    mock.reset();
    expect(mock.requests).toEqual([]);
    expect(mock.pendingTurns).toBe(0);
  });
});

describe("recording", () => {
  it("records format, model, stream flag and parsed body, with credentials redacted", async () => {
    await deltas([{ role: "user", content: "hello" }]);
    const response = await post(
      "/v1beta/models/gemini-x:generateContent?key=AIza-query-secret&alt=json",
      JSON.stringify({ contents: [{ role: "user", parts: [{ text: "hi there" }] }] }),
      { "x-goog-api-key": "AIza-header-secret", "x-api-key": "sk-ant-secret", "api-key": "azure-secret" },
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ candidates: [{ content: { parts: [{ text: "hi there" }] } }] });

    const [chatRequest, googleRequest] = mock.requests;
    expect(chatRequest).toMatchObject({ format: "openai-chat", method: "POST", model: "gpt-mock", stream: true });
    expect(chatRequest?.body).toMatchObject({ messages: [{ role: "user", content: "hello" }] });
    expect(chatRequest?.headers.authorization).toBe("[present]");
    expect(googleRequest).toMatchObject({
      format: "google",
      model: "gemini-x",
      stream: false,
      path: "/v1beta/models/gemini-x:generateContent?key=[present]&alt=json",
      headers: { "x-goog-api-key": "[present]", "x-api-key": "[present]", "api-key": "[present]" },
    });
    const recorded = JSON.stringify(mock.requests);
    for (const secret of [API_KEY, "AIza-query-secret", "AIza-header-secret", "sk-ant-secret", "azure-secret"]) {
      expect(recorded).not.toContain(secret);
    }
  });

  it("waitForRequests resolves on the request that completes the count, and times out", async () => {
    const waiting = mock.waitForRequests(2);
    await deltas([{ role: "user", content: "one" }]);
    await deltas([{ role: "user", content: "two" }]);
    expect((await waiting).map((request) => request.answeredBy)).toEqual(["default", "default"]);
    await expect(mock.waitForRequests(3, 50)).rejects.toThrow(/waited 50 ms for 3 requests, got 2/);
  });
});

describe("requests it cannot serve", () => {
  it("answers an unknown path with 404 and records nothing", async () => {
    const response = await post("/v1/embeddings", "{}");
    expect(response.status).toBe(404);
    expect(await response.text()).toContain("/v1/embeddings");
    expect(mock.requests).toEqual([]);
  });

  it("answers a non-JSON body with a provider-shaped 400 without consuming a turn", async () => {
    mock.enqueue({ parts: [{ type: "text", text: "kept" }] });
    const response = await post("/v1/messages", "not json", { "x-api-key": "k" });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ type: "error", error: { type: "invalid_request_error" } });
    expect(mock.pendingTurns).toBe(1);
    expect(mock.requests).toMatchObject([{ format: "anthropic", answeredBy: "error", body: null }]);
  });

  it("serves its base URLs on GET /", async () => {
    const response = await fetch(`${mock.url}/`);
    expect(await response.json()).toMatchObject({ name: "mock-llm", baseUrls: mock.baseUrls });
  });
});
