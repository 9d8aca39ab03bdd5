/**
 * A run that persisted its final answer and died before it could mark the chat finished (SIGKILL
 * between the step's commit and finishRun, found by the chaos run) leaves a `running` chat whose
 * history already ends with the answer. The replica that recovers it must finish it without
 * calling the model again: the answer is stored once, and a queued message still runs after it.
 */
import { randomUUID } from "node:crypto";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chats } from "../../src/db/schema/index.js";
import { liveMessages, reloadChat } from "../helpers/chats.js";
import { useMockLlm } from "../helpers/llm.js";
import { configureAnthropicModel, startTestServer, type TestServer, type TestUser } from "../helpers/server.js";
import { createChatViaApi } from "../helpers/workspace-chat.js";
import { waitFor } from "../helpers/wait.js";

const mock = useMockLlm();
let t: TestServer;
let owner: TestUser;

beforeAll(async () => {
  t = await startTestServer();
  owner = await t.createOwner();
  await configureAnthropicModel(t, owner, mock.baseUrls.anthropic);
});
afterAll(async () => {
  await t.close();
});

const streamedCalls = () => mock.requests.filter((request) => request.stream).length;

/** The state a replica killed right after persisting the final step leaves behind. */
async function orphanAfterFinalStep(chatId: string): Promise<void> {
  await t.server.database.db
    .update(chats)
    .set({ status: "running", workerId: randomUUID(), startedAt: sql`now() - interval '1 hour'`, heartbeatAt: sql`now() - interval '1 hour'` })
    .where(eq(chats.id, chatId));
}

async function finishedAgain(chatId: string): Promise<void> {
  await waitFor(
    async () => {
      const chat = await reloadChat(t.server.database.db, chatId);
      return chat.status === "waiting" && chat.workerId === null;
    },
    { timeoutMs: 10_000, intervalMs: 20, message: "recovered chat finished" },
  );
}

describe("recovering a chat whose final answer is already stored", () => {
  it("finishes it without a second model call or a second answer", async () => {
    const chatId = await createChatViaApi(t, owner, "answer once");
    await waitFor(async () => (await reloadChat(t.server.database.db, chatId)).status === "waiting", { timeoutMs: 10_000, message: "first run" });
    const callsBefore = streamedCalls();
    await orphanAfterFinalStep(chatId);

    await t.server.daemon.worker.recoverStale();
    await finishedAgain(chatId);

    const assistants = (await liveMessages(t.server.database.db, chatId)).filter((message) => message.role === "assistant");
    expect(assistants).toHaveLength(1);
    expect(streamedCalls()).toBe(callsBefore);
  });

  it("still runs a message queued behind the stored answer", async () => {
    const chatId = await createChatViaApi(t, owner, "first question");
    await waitFor(async () => (await reloadChat(t.server.database.db, chatId)).status === "waiting", { timeoutMs: 10_000, message: "first run" });
    await orphanAfterFinalStep(chatId);
    // Sent while the chat looks running: it is queued, as it would have been during the real run.
    const queued = await t.request(`/api/experimental/chats/${chatId}/messages`, {
      method: "POST",
      token: owner.token,
      body: { content: [{ type: "text", text: "second question" }] },
    });
    expect(queued.status).toBeLessThan(300);

    await t.server.daemon.worker.recoverStale();
    await waitFor(async () => (await liveMessages(t.server.database.db, chatId)).filter((m) => m.role === "assistant").length === 2, {
      timeoutMs: 10_000,
      intervalMs: 20,
      message: "the queued message answered",
    });
    await finishedAgain(chatId);
    const roles = (await liveMessages(t.server.database.db, chatId)).filter((m) => m.role !== "system").map((m) => m.role);
    expect(roles).toEqual(["user", "assistant", "user", "assistant"]);
  });
});
