/**
 * The chat engine end to end on the real server: a chat created through the state module is
 * acquired by the worker, run against the mock provider (real Anthropic wire format), its tools
 * run, and every step stored with usage and cost.
 */
import { describe, expect, it, beforeAll, afterAll } from "vitest";
import { z } from "zod";
import { createChat, interruptChat } from "../../src/chats/state.js";
import { messageParts } from "../../src/chats/store.js";
import { defineTool } from "../../src/chatd/tools/registry.js";
import type { ChatStreamEvent } from "../../src/chatd/events.js";
import { configureAnthropicModel, field, startTestServer, type TestServer, type TestUser } from "../helpers/server.js";
import { liveMessages, reloadChat } from "../helpers/chats.js";
import { useMockLlm } from "../helpers/llm.js";
import { waitFor } from "../helpers/wait.js";

const mock = useMockLlm();
let t: TestServer;
let owner: TestUser;
let modelConfigId = "";
const toolStarted: string[] = [];

const tools = [
  defineTool({
    name: "echo",
    description: "Echoes its text",
    inputSchema: z.object({ text: z.string() }),
    execute: async ({ text }) => ({ result: { echoed: text } }),
  }),
  defineTool({
    name: "wait_for_abort",
    description: "Runs until stopped",
    inputSchema: z.object({}),
    execute: (_input, { signal, chatId }) =>
      new Promise((resolve) => {
        toolStarted.push(chatId);
        signal.addEventListener("abort", () => resolve({ result: { stopped: true } }), { once: true });
      }),
  }),
];

beforeAll(async () => {
  t = await startTestServer({ chatTools: tools });
  owner = await t.createOwner();
  modelConfigId = await configureAnthropicModel(t, owner, mock.baseUrls.anthropic, {
    model_config: { cost: { input_price_per_million_tokens: "3", output_price_per_million_tokens: "15" } },
  });
});
afterAll(async () => {
  await t.close();
});

/** What an Anthropic Messages request carries, as far as the title assertions read it. */
const titleRequestBody = z.object({
  system: z.unknown(),
  messages: z.array(z.object({ role: z.string(), content: z.unknown() })),
  max_tokens: z.number(),
  tools: z.unknown().optional(),
});

/** A title that is not the fallback title: no title request competes for scripted turns. */
async function startChat(text: string, configId = modelConfigId, title = `test: ${text}`) {
  const { chat } = await createChat(t.server.database.db, t.server.daemon.hints, {
    ownerId: owner.id,
    title,
    modelConfigId: configId,
    messages: [{ role: "user", parts: [{ type: "text", text }], createdBy: owner.id }],
  });
  return chat;
}

async function settled(chatId: string, statuses: readonly string[] = ["waiting", "error"]) {
  await waitFor(async () => statuses.includes((await reloadChat(t.server.database.db, chatId)).status), {
    timeoutMs: 15_000,
    intervalMs: 10,
    message: `chat ${chatId} to reach ${statuses.join("/")}`,
  });
  return reloadChat(t.server.database.db, chatId);
}

describe("chat loop", () => {
  it("stores a three-step tool conversation: 3 assistant messages, one tool message per call, usage and cost per step", async () => {
    mock.enqueue(
      { parts: [{ type: "tool-call", id: "toolu_a", name: "echo", input: { text: "a" } }], usage: { input: 100, output: 10 } },
      {
        parts: [
          { type: "text", text: "Two more." },
          { type: "tool-call", id: "toolu_b", name: "echo", input: { text: "b" } },
          { type: "tool-call", id: "toolu_c", name: "nonexistent_tool", input: {} },
        ],
        usage: { input: 200, output: 20 },
      },
      { parts: [{ type: "text", text: "All done." }], usage: { input: 300, output: 30, cacheRead: 1000 } },
    );
    const chat = await startChat("Echo a, then b");
    const final = await settled(chat.id);
    expect(final.status).toBe("waiting");
    expect(final.workerId).toBeNull();

    const history = await liveMessages(t.server.database.db, chat.id);
    expect(history.map((m) => m.role)).toEqual(["user", "assistant", "tool", "assistant", "tool", "tool", "assistant"]);
    const calls = history.flatMap((m) => messageParts(m).filter((p) => p.type === "tool-call").map((p) => p.tool_call_id));
    const results = history.flatMap((m) => messageParts(m).filter((p) => p.type === "tool-result").map((p) => p.tool_call_id));
    expect(results.sort()).toEqual(calls.sort());
    const partsOf = (index: number) => history.map((m) => messageParts(m))[index];
    expect(partsOf(2)).toMatchObject([{ type: "tool-result", result: { echoed: "a" } }]);
    expect(partsOf(5)).toMatchObject([{ type: "tool-result", is_error: true, result: { error: "Tool not found: nonexistent_tool" } }]);

    const assistants = history.filter((m) => m.role === "assistant");
    expect(assistants.map((m) => [m.inputTokens, m.outputTokens, m.cacheReadTokens, m.totalCostMicros, m.modelConfigId])).toEqual([
      [100, 10, null, 450, modelConfigId],
      [200, 20, null, 900, modelConfigId],
      [300, 30, 1000, 1350, modelConfigId],
    ]);
    for (const message of assistants) {
      expect(message.contextLimit).toBe(200_000);
      expect(message.runtimeMs).toBeGreaterThanOrEqual(0);
    }
    // The second call saw the first tool's result.
    expect(JSON.stringify(mock.requests[1]?.body)).toContain("echoed");
  });

  it("retries a rate-limited call, publishing a retry event, and drops nothing", async () => {
    mock.enqueue({ fault: { type: "http", status: 429 } }, { parts: [{ type: "text", text: "after retry" }], usage: { input: 5, output: 2 } });
    const events: ChatStreamEvent[] = [];
    const chat = await startChat("please retry");
    const unsubscribe = t.server.daemon.hub.subscribeChat(chat.id, (event) => events.push(event));
    try {
      expect((await settled(chat.id)).status).toBe("waiting");
    } finally {
      unsubscribe();
    }
    expect(events.filter((e) => e.type === "retry").map((e) => (e.type === "retry" ? e.retry.attempt : 0))).toEqual([1]);
    const history = await liveMessages(t.server.database.db, chat.id);
    expect(history.map((m) => messageParts(m))).toEqual([[{ type: "text", text: "please retry" }], [{ type: "text", text: "after retry" }]]);
    expect(mock.requests).toHaveLength(2);
  });

  it("ends in error with the provider's message when the failure is not retryable", async () => {
    mock.enqueue({ fault: { type: "http", status: 401, message: "invalid x-api-key" } });
    const chat = await startChat("unauthorized");
    const final = await settled(chat.id);
    expect(final.status).toBe("error");
    expect(final.lastError).toMatch(/401|invalid x-api-key/);
    expect(final.lastError).not.toContain("sk-ant-test-engine-key");
  });

  it("interrupt mid-stream stores the partial answer and leaves the chat waiting", async () => {
    mock.enqueue({ parts: [{ type: "text", text: "word ".repeat(400) }], chunkDelayMs: 10, usage: { input: 1, output: 1 } });
    const chat = await startChat("long answer");
    const parts: ChatStreamEvent[] = [];
    const unsubscribe = t.server.daemon.hub.subscribeChat(chat.id, (event) => {
      if (event.type === "message_part") parts.push(event);
    });
    try {
      await waitFor(() => parts.length >= 5, { timeoutMs: 15_000, message: "streamed parts" });
      await interruptChat(t.server.database.db, t.server.daemon.hints, chat.id);
      await waitFor(async () => (await liveMessages(t.server.database.db, chat.id)).length === 2, { timeoutMs: 15_000, message: "partial answer" });
    } finally {
      unsubscribe();
    }
    const stored = (await liveMessages(t.server.database.db, chat.id)).map((m) => messageParts(m));
    const text = stored[1]?.[0]?.text ?? "";
    expect(text.length).toBeGreaterThan(0);
    expect(text.length).toBeLessThan("word ".repeat(400).length);
    expect((await reloadChat(t.server.database.db, chat.id)).status).toBe("waiting");
  });
});

describe("compaction", () => {
  it("summarizes when a step crosses the threshold and re-enters from a user summary message", async () => {
    const small = await t.request("/api/experimental/chats/model-configs", {
      method: "POST",
      token: owner.token,
      body: { provider: "anthropic", model: "claude-haiku-4-5", context_limit: 1000, compression_threshold: 50 },
    });
    mock.enqueue(
      { parts: [{ type: "text", text: "Step one is done." }], usage: { input: 800, output: 10 } },
      { parts: [{ type: "text", text: "SUMMARY: the user asked for step one; it is done." }], usage: { input: 900, output: 20 } },
      { parts: [{ type: "text", text: "Continuing from the summary." }], usage: { input: 100, output: 5 } },
    );
    const chat = await startChat("do step one", String(field(small.body, "id")));
    // Subscribed before the first model call can have answered (that needs a network round trip).
    const events: ChatStreamEvent[] = [];
    const unsubscribe = t.server.daemon.hub.subscribeChat(chat.id, (event) => events.push(event));
    try {
      expect((await settled(chat.id)).status).toBe("waiting");
    } finally {
      unsubscribe();
    }
    // The summary reaches viewers like a step: the card's call, its result, then the stored messages.
    const summaryParts = events.flatMap((e) => (e.type === "message_part" && e.message_part.part.tool_name === "chat_summarized" ? [e.message_part] : []));
    expect(summaryParts.map((p) => [p.role, p.part.type])).toEqual([
      ["assistant", "tool-call"],
      ["tool", "tool-result"],
    ]);
    expect(summaryParts[0]?.part.tool_call_id).toMatch(/^chat_summarized_[0-9a-f-]{36}$/);
    expect(summaryParts[1]?.part.tool_call_id).toBe(summaryParts[0]?.part.tool_call_id);
    expect(JSON.stringify(summaryParts[1]?.part.result)).toContain("SUMMARY: the user asked for step one");

    expect(mock.requests.map((r) => r.stream)).toEqual([true, false, true]);
    const reentry = JSON.stringify(mock.requests[2]?.body);
    expect(reentry).toContain("The following is a summary of the earlier conversation");
    expect(reentry).toContain("SUMMARY: the user asked for step one");
    expect(reentry).not.toContain("do step one");

    const history = await liveMessages(t.server.database.db, chat.id);
    const compressed = history.filter((m) => m.compressed);
    expect(compressed.map((m) => [m.role, m.visibility])).toEqual([
      ["user", "model"],
      ["assistant", "user"],
      ["tool", "both"],
    ]);
    expect(history.map((m) => messageParts(m)).at(-1)?.map((p) => p.text)).toEqual(["Continuing from the summary."]);
  });
});

describe("titles", () => {
  it("generates a title without disturbing the run, whichever request reaches the provider first", async () => {
    const answer = { parts: [{ type: "text" as const, text: "Here is the fix." }], usage: { input: 10, output: 5 } };
    const title = { parts: [{ type: "text" as const, text: '"Fix the flaky login test."' }], usage: { input: 3, output: 4 } };
    const route = (request: { stream: boolean }) => (request.stream ? answer : title);
    mock.enqueue(route, route);
    const chat = await startChat("please fix the flaky login test in auth", modelConfigId, "please fix the flaky login test…");
    expect((await settled(chat.id)).status).toBe("waiting");
    await waitFor(async () => (await reloadChat(t.server.database.db, chat.id)).title === "Fix the flaky login test", {
      timeoutMs: 15_000,
      message: "generated title",
    });
    const history = await liveMessages(t.server.database.db, chat.id);
    expect(history.map((m) => messageParts(m)[0]?.text)).toEqual(["please fix the flaky login test in auth", "Here is the fix."]);
    const titleRequest = mock.requests.find((r) => !r.stream);
    expect(titleRequest?.model).toBe("claude-haiku-4-5");
    // Anthropic's wire shape: the instructions in the top-level `system` field (the Messages API
    // refuses a system role inside `messages`), the user's text fenced as data, no tools offered.
    expect(titleRequest).toMatchObject({ format: "anthropic", path: "/v1/messages" });
    const body = titleRequestBody.parse(titleRequest?.body);
    expect(JSON.stringify(body.system)).toContain("You write the title of a conversation");
    expect(body.messages.map((m) => m.role)).toEqual(["user"]);
    expect(JSON.stringify(body.messages[0]?.content)).toContain("<message>\\nplease fix the flaky login test in auth\\n</message>");
    expect(body.max_tokens).toBe(256);
    expect(body.tools).toBeUndefined();
  });
});

describe("shutdown", () => {
  it("shutdown while a tool runs hands the chat back as pending, with nothing stored from the step", async () => {
    const server = await startTestServer({ chatTools: tools });
    try {
      const admin = await server.createOwner();
      const configId = await configureAnthropicModel(server, admin, mock.baseUrls.anthropic);
      mock.enqueue({ parts: [{ type: "tool-call", id: "toolu_w", name: "wait_for_abort", input: {} }], usage: { input: 1, output: 1 } });
      const { chat } = await createChat(server.server.database.db, server.server.daemon.hints, {
        ownerId: admin.id,
        title: "shutdown test",
        modelConfigId: configId,
        messages: [{ role: "user", parts: [{ type: "text", text: "wait" }], createdBy: admin.id }],
      });
      await waitFor(() => toolStarted.includes(chat.id), { timeoutMs: 15_000, message: "tool running" });
      await server.server.daemon.stop();
      const row = await reloadChat(server.server.database.db, chat.id);
      expect([row.status, row.workerId, row.lastError]).toEqual(["pending", null, null]);
      expect((await liveMessages(server.server.database.db, chat.id)).map((m) => m.role)).toEqual(["user"]);
    } finally {
      await server.close();
    }
  });
});
