/**
 * The chat state module, transition by transition, from every status (behavior.md section 2).
 * "running-self" is running under the worker making the call; "running-other" under another.
 */
import { randomUUID } from "node:crypto";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { chats } from "../../src/db/schema/index.js";
import { acquireChats, finishRun, heartbeatChat, interruptChat, persistStep, type RunOutcome } from "../../src/chats/state.js";
import type { Lease } from "../../src/chats/state.js";
import type { ChatRow } from "../../src/chats/store.js";
import { useFreshDatabase } from "../helpers/database.js";
import { chatFixture, chatIn, liveMessages, recordingHints, reloadChat, type ChatFixture, type ForcedStatus } from "../helpers/chats.js";

const database = useFreshDatabase();
const SELF = randomUUID();
/** The lease a chat forced into `running` under SELF holds. */
const leaseOf = (chat: ChatRow): Lease => ({ workerId: SELF, startedAt: chat.startedAt ?? new Date(0) });
const OTHER = randomUUID();

type From = "waiting" | "pending" | "running-self" | "running-other" | "error";
const FROM: readonly From[] = ["waiting", "pending", "running-self", "running-other", "error"];

let fixture: ChatFixture | undefined;
async function start(from: From): Promise<ChatRow> {
  const db = database.handle.db;
  fixture ??= await chatFixture(db);
  const status: ForcedStatus = from === "running-self" || from === "running-other" ? "running" : from;
  return chatIn(db, fixture, status, { workerId: from === "running-self" ? SELF : OTHER });
}

/** [from, status after, worker after (SELF, OTHER or null)] */
type Row = [From, ChatRow["status"], string | null];

describe("interrupt", () => {
  it.each<Row>([
    ["waiting", "waiting", null],
    ["pending", "pending", null],
    ["running-self", "waiting", null],
    ["running-other", "waiting", null],
    ["error", "waiting", null],
  ])("from %s → %s", async (from, status, worker) => {
    const chat = await start(from);
    const after = await interruptChat(database.handle.db, recordingHints(), chat.id);
    expect([after.status, after.workerId]).toEqual([status, worker]);
    expect(after.lastError).toBeNull();
  });
});

describe("acquire", () => {
  it.each<Row>([
    ["waiting", "waiting", null],
    ["pending", "running", SELF],
    ["running-other", "running", OTHER],
    ["error", "error", null],
  ])("from %s → %s", async (from, status, worker) => {
    const chat = await start(from);
    // Other tests' pending chats may be acquired too; only this chat's fate is asserted.
    await acquireChats(database.handle.db, recordingHints(), SELF, 1000);
    const after = await reloadChat(database.handle.db, chat.id);
    expect([after.status, after.workerId]).toEqual([status, worker]);
    if (status === "running" && worker === SELF) expect(after.heartbeatAt).not.toBeNull();
  });

  it("leases at most the batch size, oldest first, and announces running with the worker id", async () => {
    const db = database.handle.db;
    await acquireChats(db, recordingHints(), randomUUID(), 1000);
    const chats = [await start("pending"), await start("pending"), await start("pending")];
    const hints = recordingHints();
    const acquired = await acquireChats(db, hints, SELF, 2);
    expect(acquired.map((c) => c.id)).toEqual([chats[0]?.id, chats[1]?.id]);
    expect(hints.streams.map((s) => s.hint)).toEqual([
      { status: "running", worker_id: SELF },
      { status: "running", worker_id: SELF },
    ]);
    expect((await reloadChat(db, chats[2]?.id ?? "")).status).toBe("pending");
  });
});

describe("heartbeat", () => {
  it.each<[From, boolean]>([
    ["waiting", false],
    ["pending", false],
    ["running-self", true],
    ["running-other", false],
    ["error", false],
  ])("from %s → owns: %s", async (from, owns) => {
    const chat = await start(from);
    expect(await heartbeatChat(database.handle.db, chat.id, leaseOf(chat))).toBe(owns);
  });
});

describe("persist step", () => {
  it.each<[From, boolean]>([
    ["waiting", true],
    ["pending", false],
    ["running-self", true],
    ["running-other", false],
    ["error", false],
  ])("from %s → persisted: %s", async (from, persisted) => {
    const chat = await start(from);
    const hints = recordingHints();
    const result = await persistStep(database.handle.db, hints, {
      chatId: chat.id,
      lease: leaseOf(chat),
      messages: [
        { role: "assistant", parts: [{ type: "text", text: "answer" }], usage: { inputTokens: 10, outputTokens: 0 }, totalCostMicros: 0 },
      ],
    });
    expect(result.persisted).toBe(persisted);
    const messages = await liveMessages(database.handle.db, chat.id);
    expect(messages.map((m) => m.role)).toEqual(persisted ? ["user", "assistant"] : ["user"]);
    if (persisted) {
      const assistant = messages[1];
      // Zero means "not reported": stored as NULL.
      expect([assistant?.inputTokens, assistant?.outputTokens, assistant?.totalCostMicros]).toEqual([10, null, null]);
      expect(hints.streams.map((s) => s.hint)).toEqual([{ after_message_id: (assistant?.id ?? 0) - 1 }]);
    }
    expect((await reloadChat(database.handle.db, chat.id)).status).toBe(chat.status);
  });
});

describe("finish run", () => {
  const outcomes: Record<string, RunOutcome> = {
    done: { status: "waiting" },
    failed: { status: "error", error: "provider said no" },
    shutdown: { status: "pending", reason: "shutdown" },
  };
  it.each<[keyof typeof outcomes, From, ChatRow["status"] | "unchanged"]>([
    ["done", "running-self", "waiting"],
    ["done", "running-other", "unchanged"],
    ["done", "pending", "pending"],
    ["done", "waiting", "waiting"],
    ["failed", "running-self", "error"],
    ["failed", "running-other", "unchanged"],
    ["failed", "pending", "pending"],
    ["failed", "waiting", "waiting"],
    ["shutdown", "running-self", "pending"],
    ["shutdown", "running-other", "unchanged"],
    ["shutdown", "pending", "pending"],
    ["shutdown", "waiting", "waiting"],
  ])("%s from %s → %s", async (outcome, from, expected) => {
    const chat = await start(from);
    const result = await finishRun(database.handle.db, recordingHints(), { chatId: chat.id, lease: leaseOf(chat), outcome: outcomes[outcome] ?? { status: "waiting" } });
    const after = await reloadChat(database.handle.db, chat.id);
    if (expected === "unchanged") {
      expect(result).toEqual({ finished: false, reason: "not_owner" });
      expect([after.status, after.workerId]).toEqual([chat.status, chat.workerId]);
      return;
    }
    expect(after.status).toBe(expected);
    if (expected !== "running") expect(after.workerId).toBeNull();
    expect(after.lastError).toBe(expected === "error" ? "provider said no" : from === "error" ? chat.lastError : null);
  });
});

describe("leases", () => {
  it("a run re-acquired by the same worker is not finished, persisted into or heartbeated by the old run", async () => {
    const db = database.handle.db;
    const started = await start("running-self");
    // An older start, so the new acquisition cannot land on the same millisecond.
    const [chat] = await db.update(chats).set({ startedAt: new Date(Date.now() - 60_000) }).where(eq(chats.id, started.id)).returning();
    if (!chat) throw new Error("chat vanished");
    const oldLease = leaseOf(chat);
    // The chat is promoted/edited (pending), then this same worker acquires it again.
    await db.update(chats).set({ status: "pending", workerId: null, startedAt: null }).where(eq(chats.id, chat.id));
    await acquireChats(db, recordingHints(), SELF, 1000);
    const reacquired = await reloadChat(db, chat.id);
    expect([reacquired.status, reacquired.workerId]).toEqual(["running", SELF]);
    expect(reacquired.startedAt?.getTime()).not.toBe(oldLease.startedAt.getTime());

    expect(await heartbeatChat(db, chat.id, oldLease)).toBe(false);
    const late = await persistStep(db, recordingHints(), { chatId: chat.id, lease: oldLease, messages: [{ role: "assistant", parts: [{ type: "text", text: "stale" }] }] });
    expect(late.persisted).toBe(false);
    expect(await finishRun(db, recordingHints(), { chatId: chat.id, lease: oldLease, outcome: { status: "waiting" } })).toEqual({ finished: false, reason: "not_owner" });
    expect(await heartbeatChat(db, chat.id, leaseOf(reacquired))).toBe(true);
    expect((await reloadChat(db, chat.id)).status).toBe("running");
  });
});
