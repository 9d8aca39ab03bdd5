/**
 * wait_agent across a graceful replica stop (PostgreSQL, two in-process replicas on one
 * database): replica A runs a parent blocked in wait_agent on a slow child; A stops; the parent is
 * handed back `pending` with nothing stored from the interrupted step, replica B picks it up,
 * waits again and gets the child's report. The interrupted wait must leave no tool result behind
 * (a stored "interrupted" result would make the model think the child failed).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { eq } from "drizzle-orm";
import { createChat } from "../../src/chats/state.js";
import { messageParts } from "../../src/chats/store.js";
import { chats } from "../../src/db/schema/index.js";
import { startMockLlm, type MockLlm, type MockTurn, type RecordedRequest } from "../../src/llm/mock/index.js";
import { freshDatabase, type FreshDatabase } from "../helpers/database.js";
import { testDatabaseKind } from "../helpers/env.js";
import { configureAnthropicModel, startTestServer, type TestServer } from "../helpers/server.js";
import { liveMessages, reloadChat } from "../helpers/chats.js";
import { waitFor } from "../helpers/wait.js";

const postgres = testDatabaseKind() === "postgres";
const requestBody = z.object({ system: z.unknown().optional(), messages: z.array(z.object({ role: z.string(), content: z.unknown() })) });
const say = (text: string): MockTurn => ({ parts: [{ type: "text", text }], usage: { input: 1, output: 1 } });
const call = (id: string, name: string, input: Record<string, unknown>): MockTurn => ({ parts: [{ type: "tool-call", id, name, input }], usage: { input: 1, output: 1 } });
/** Streams for 20 s: only the replica's shutdown ends it. */
const SLOW_ANSWER: MockTurn = { parts: [{ type: "text", text: "partial ".repeat(2000) }], chunkDelayMs: 10, usage: { input: 1, output: 1 } };

let fresh: FreshDatabase;
let mock: MockLlm;
const servers: TestServer[] = [];
let childRuns = 0;

function route(request: RecordedRequest): MockTurn {
  if (!request.stream) return say("A title");
  const body = requestBody.parse(request.body);
  if (JSON.stringify(body.system ?? "").includes("delegated sub-agent")) {
    childRuns += 1;
    // The first run is cut by the shutdown; the run on the other replica finishes.
    return childRuns === 1 ? SLOW_ANSWER : say("child report from replica B");
  }
  const step = body.messages.filter((m) => m.role === "assistant").length;
  const text = JSON.stringify(body.messages);
  if (step === 0) return call("toolu_spawn", "spawn_agent", { prompt: "slow work" });
  const childId = /chat_id\\*"\s*:\s*\\*"([0-9a-f-]{36})/.exec(text)?.[1] ?? "";
  if (step === 1) return call("toolu_wait", "wait_agent", { chat_id: childId });
  return say("parent done");
}

beforeAll(async () => {
  if (!postgres) return;
  fresh = await freshDatabase();
  mock = await startMockLlm({ fallback: route });
}, 60_000);
afterAll(async () => {
  for (const server of servers) await server.close();
  await mock?.close();
  if (postgres) await fresh.destroy();
});

describe.runIf(postgres)("wait_agent and a replica stop", () => {
  it("a parent blocked in wait_agent is handed back pending and resumes waiting on another replica", async () => {
    const a = await startTestServer({ database: fresh });
    servers.push(a);
    const owner = await a.createOwner();
    const modelConfigId = await configureAnthropicModel(a, owner, mock.baseUrls.anthropic);
    const db = a.server.database.db;
    const { chat: parent } = await createChat(db, a.server.daemon.hints, {
      ownerId: owner.id,
      title: "test: replicas",
      modelConfigId,
      messages: [{ role: "user", parts: [{ type: "text", text: "delegate" }], createdBy: owner.id }],
    });

    // A is running the parent inside wait_agent: its wait_agent call has been streamed whole and
    // the child's model call is streaming (so the child cannot settle before A stops).
    await waitFor(
      () =>
        childRuns === 1 &&
        a.server.daemon.hub.bufferedParts(parent.id).some((e) => e.type === "message_part" && e.message_part.part.tool_name === "wait_agent" && e.message_part.part.args !== undefined),
      { timeoutMs: 15_000, message: "parent waiting on the child" },
    );
    const [child] = await db.select().from(chats).where(eq(chats.parentChatId, parent.id));
    if (!child) throw new Error("no child");
    expect((await reloadChat(db, parent.id)).workerId).toBe(a.server.replicaId);

    const b = await startTestServer({ database: fresh });
    servers.push(b);
    await a.close();
    servers.splice(servers.indexOf(a), 1);
    // Handed back, not failed: nothing from the interrupted step was stored.
    const afterStop = await reloadChat(b.server.database.db, parent.id);
    expect(afterStop.status === "pending" || afterStop.workerId === b.server.replicaId).toBe(true);

    await waitFor(async () => (await reloadChat(b.server.database.db, parent.id)).status === "waiting", {
      timeoutMs: 20_000,
      intervalMs: 20,
      message: "parent finished on replica B",
    });
    const history = await liveMessages(b.server.database.db, parent.id);
    const waits = history.flatMap((m) => messageParts(m).filter((p) => p.type === "tool-result" && p.tool_name === "wait_agent"));
    expect(waits).toHaveLength(1);
    expect(waits[0]).toMatchObject({ result: { chat_id: child.id, report: "child report from replica B", status: "waiting" } });
    expect(waits[0]?.is_error).not.toBe(true);
    expect((await reloadChat(b.server.database.db, child.id)).status).toBe("waiting");
    expect(childRuns).toBe(2);
  });
});
