/**
 * A model stream that ends cleanly before the provider's final events (the connection dropped
 * between frames: no stop reason, no final usage). The AI SDK reports such a step as finished
 * with reason "other" and no error, so it used to be stored as if complete: a cut-off answer, or
 * a tool call run and the loop stopped after it. It must be retried like a reset connection.
 */
import { z } from "zod";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defineTool } from "../../src/chatd/tools/registry.js";
import type { MockTurn, RecordedRequest } from "../../src/llm/mock/index.js";
import { messageParts } from "../../src/chats/store.js";
import { liveMessages, reloadChat } from "../helpers/chats.js";
import { useMockLlm } from "../helpers/llm.js";
import { configureAnthropicModel, startTestServer, type TestServer, type TestUser } from "../helpers/server.js";
import { createChatViaApi } from "../helpers/workspace-chat.js";
import { waitFor } from "../helpers/wait.js";

const mock = useMockLlm();
let t: TestServer;
let owner: TestUser;
const lookups: string[] = [];

const lookup = defineTool({
  name: "lookup",
  description: "Looks a key up",
  inputSchema: z.object({ key: z.string() }),
  execute: async ({ key }) => {
    lookups.push(key);
    return { result: { value: `value of ${key}` } };
  },
});

/** Anthropic frames before a 3-chunk tool call is complete: message_start, ping, start, 4 deltas, stop. */
const TOOL_CALL_COMPLETE_AFTER = 8;
const ANSWER = "the whole answer has exactly nine words in it";

beforeAll(async () => {
  t = await startTestServer({ chatTools: [lookup] });
  owner = await t.createOwner();
  await configureAnthropicModel(t, owner, mock.baseUrls.anthropic);
});
afterAll(async () => {
  await t.close();
});

/** Queues `turns` for the chat's streamed calls; the title request gets a title whenever it comes. */
function script(turns: MockTurn[]): void {
  let next = 0;
  const route = (request: RecordedRequest): MockTurn =>
    request.stream ? (turns[next++] ?? { parts: [{ type: "text", text: "unscripted" }] }) : { parts: [{ type: "text", text: "Title" }] };
  mock.enqueue(...Array.from({ length: turns.length + 1 }, () => route));
}

async function finished(chatId: string) {
  await waitFor(async () => (await reloadChat(t.server.database.db, chatId)).status !== "pending" && (await reloadChat(t.server.database.db, chatId)).status !== "running", {
    timeoutMs: 15_000,
    intervalMs: 20,
    message: "chat finished",
  });
  const chat = await reloadChat(t.server.database.db, chatId);
  const messages = (await liveMessages(t.server.database.db, chatId)).filter((m) => m.role !== "system").map((m) => ({ role: m.role, parts: messageParts(m) }));
  return { chat, messages };
}

const text = (parts: ReturnType<typeof messageParts>) => parts.flatMap((p) => (p.type === "text" ? [p.text ?? ""] : [])).join("");

describe("a truncated model stream", () => {
  it("is retried, and the whole answer stored once", async () => {
    script([
      { parts: [{ type: "text", text: ANSWER }], fault: { type: "truncate", afterChunks: 6 } },
      { parts: [{ type: "text", text: ANSWER }] },
    ]);
    const { chat, messages } = await finished(await createChatViaApi(t, owner, "answer fully"));
    expect(chat.status).toBe("waiting");
    expect(messages.map((m) => m.role)).toEqual(["user", "assistant"]);
    expect(text(messages[1]?.parts ?? [])).toBe(ANSWER);
    expect(mock.requests.filter((r) => r.stream)).toHaveLength(2);
  });

  it("cut after a complete tool call does not run the tool; the retried step does, and the loop goes on", async () => {
    lookups.length = 0;
    const call: MockTurn = { parts: [{ type: "tool-call", id: "toolu_trunc_1", name: "lookup", input: { key: "k1" } }] };
    script([{ ...call, fault: { type: "truncate", afterChunks: TOOL_CALL_COMPLETE_AFTER } }, call, { parts: [{ type: "text", text: ANSWER }] }]);
    const { chat, messages } = await finished(await createChatViaApi(t, owner, "look it up"));
    expect(chat.status).toBe("waiting");
    expect(lookups).toEqual(["k1"]);
    expect(messages.map((m) => m.role)).toEqual(["user", "assistant", "tool", "assistant"]);
    expect(text(messages[3]?.parts ?? [])).toBe(ANSWER);
  });
});
