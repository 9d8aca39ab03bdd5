/**
 * The message-side transitions (send, queue, promote, delete, edit) and the remaining lifecycle
 * ones (create, stale recovery, archive), from every status where it matters.
 */
import { randomUUID } from "node:crypto";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { chats } from "../../src/db/schema/index.js";
import { deleteQueued, editMessage, MessageEditError, promoteQueued, QueueFullError, sendMessage } from "../../src/chats/queue.js";
import { ArchiveStateError, createChat, finishRun, persistStep, recoverStaleChats, setArchived } from "../../src/chats/state.js";
import type { Lease } from "../../src/chats/state.js";
import { decodeParts } from "../../src/chats/parts.js";
import { MAX_QUEUED_MESSAGES, messageParts, queuedMessages, type ChatRow } from "../../src/chats/store.js";
import { useFreshDatabase } from "../helpers/database.js";
import { chatFixture, chatIn, liveMessages, recordingHints, reloadChat, type ChatFixture, type ForcedStatus } from "../helpers/chats.js";

const database = useFreshDatabase();
const SELF = randomUUID();
/** The lease a chat forced into `running` under SELF holds. */
const leaseOf = (chat: ChatRow): Lease => ({ workerId: SELF, startedAt: chat.startedAt ?? new Date(0) });
let fixture: ChatFixture | undefined;

async function start(status: ForcedStatus): Promise<ChatRow> {
  fixture ??= await chatFixture(database.handle.db);
  return chatIn(database.handle.db, fixture, status, { workerId: SELF });
}
const text = (t: string) => [{ type: "text" as const, text: t }];
const send = (chat: ChatRow, t: string, behavior: "queue" | "interrupt" = "queue") =>
  sendMessage(database.handle.db, recordingHints(), { chatId: chat.id, parts: text(t), createdBy: chat.ownerId, behavior });

describe("create", () => {
  it("inserts the chat and its initial messages, pending, and announces it to the owner", async () => {
    fixture ??= await chatFixture(database.handle.db);
    const hints = recordingHints();
    const { chat, messages } = await createChat(database.handle.db, hints, {
      ownerId: fixture.ownerId,
      title: "Fix the build",
      modelConfigId: fixture.modelConfigId,
      messages: [
        { role: "system", parts: text("system prompt"), visibility: "model" },
        { role: "user", parts: text("fix it"), createdBy: fixture.ownerId },
      ],
    });
    expect(chat.status).toBe("pending");
    expect(messages.map((m) => [m.role, m.visibility, messageParts(m)])).toEqual([
      ["system", "model", text("system prompt")],
      ["user", "both", text("fix it")],
    ]);
    expect(hints.owners.map((o) => o.hint.kind)).toEqual(["status_change", "created"]);
  });
});

describe("send", () => {
  it.each<[ForcedStatus, "queue" | "interrupt", "inserted" | "queued", ChatRow["status"]]>([
    ["waiting", "queue", "inserted", "pending"],
    ["error", "queue", "inserted", "pending"],
    ["pending", "queue", "queued", "pending"],
    ["running", "queue", "queued", "running"],
    ["waiting", "interrupt", "inserted", "pending"],
    ["pending", "interrupt", "queued", "pending"],
    ["running", "interrupt", "queued", "waiting"],
  ])("to a %s chat with %s: %s, then %s", async (status, behavior, outcome, after) => {
    const chat = await start(status);
    const result = await send(chat, "next", behavior);
    expect(result.queued).toBe(outcome === "queued");
    const row = await reloadChat(database.handle.db, chat.id);
    expect(row.status).toBe(after);
    expect((await liveMessages(database.handle.db, chat.id)).length).toBe(outcome === "inserted" ? 2 : 1);
    expect((await queuedMessages(database.handle.db, chat.id)).length).toBe(outcome === "queued" ? 1 : 0);
  });

  it("never jumps a non-empty queue, keeps FIFO order, and refuses the 21st message", async () => {
    const chat = await start("running");
    for (let i = 1; i <= MAX_QUEUED_MESSAGES; i++) await send(chat, `q${i}`);
    await expect(send(chat, "one too many")).rejects.toThrow(QueueFullError);
    // Even once the chat is idle, a new message queues behind the others.
    await finishRun(database.handle.db, recordingHints(), { chatId: chat.id, lease: leaseOf(chat), outcome: { status: "waiting" } });
    const afterFinish = await liveMessages(database.handle.db, chat.id);
    expect(afterFinish.map((m) => messageParts(m)).at(-1)).toEqual(text("q1"));
    const queue = await queuedMessages(database.handle.db, chat.id);
    expect(queue.map((q) => decodeParts(q.content))).toEqual(
      Array.from({ length: MAX_QUEUED_MESSAGES - 1 }, (_, i) => text(`q${i + 2}`)),
    );
  });

  it("interrupt with a message: the partial answer is stored before the promoted message", async () => {
    const chat = await start("running");
    await send(chat, "actually, do this instead", "interrupt");
    expect((await reloadChat(database.handle.db, chat.id)).status).toBe("waiting");
    // The worker notices, stores what it had, then ends its run.
    const partial = await persistStep(database.handle.db, recordingHints(), {
      chatId: chat.id,
      lease: leaseOf(chat),
      messages: [{ role: "assistant", parts: text("half an answ") }],
    });
    expect(partial.persisted).toBe(true);
    const finished = await finishRun(database.handle.db, recordingHints(), { chatId: chat.id, lease: leaseOf(chat), outcome: { status: "waiting" } });
    expect(finished).toMatchObject({ finished: true, status: "pending" });
    const history = await liveMessages(database.handle.db, chat.id);
    expect(history.map((m) => [m.role, messageParts(m)])).toEqual([
      ["user", text("hello")],
      ["assistant", text("half an answ")],
      ["user", text("actually, do this instead")],
    ]);
    expect(await queuedMessages(database.handle.db, chat.id)).toEqual([]);
  });
});

describe("promote and delete", () => {
  it.each<ForcedStatus>(["waiting", "pending", "running", "error"])("promote from %s inserts the message now and goes pending", async (status) => {
    const chat = await start("running");
    await send(chat, "first");
    await send(chat, "second");
    await database.handle.db.update(chats).set({ status, workerId: status === "running" ? SELF : null }).where(eq(chats.id, chat.id));
    const [, second] = await queuedMessages(database.handle.db, chat.id);
    const promoted = await promoteQueued(database.handle.db, recordingHints(), { chatId: chat.id, queuedId: second?.id ?? 0 });
    expect(promoted && messageParts(promoted.message)).toEqual(text("second"));
    expect(promoted?.chat.status).toBe("pending");
    expect((await queuedMessages(database.handle.db, chat.id)).length).toBe(1);
    expect(await promoteQueued(database.handle.db, recordingHints(), { chatId: chat.id, queuedId: 999_999 })).toBeUndefined();
  });

  it("deletes a queued message; an unknown id is not an error", async () => {
    const chat = await start("running");
    await send(chat, "to delete");
    const [queued] = await queuedMessages(database.handle.db, chat.id);
    const hints = recordingHints();
    await deleteQueued(database.handle.db, hints, { chatId: chat.id, queuedId: queued?.id ?? 0 });
    expect(hints.streams.map((s) => s.hint)).toEqual([{ queue_update: true }]);
    await deleteQueued(database.handle.db, recordingHints(), { chatId: chat.id, queuedId: 424_242 });
    expect(await queuedMessages(database.handle.db, chat.id)).toEqual([]);
  });
});

describe("edit", () => {
  it.each<ForcedStatus>(["waiting", "pending", "running", "error"])(
    "from %s: truncates later history, clears the queue, goes pending; the old worker's late step is dropped",
    async (status) => {
      const chat = await start("running");
      await persistStep(database.handle.db, recordingHints(), { chatId: chat.id, lease: leaseOf(chat), messages: [{ role: "assistant", parts: text("old answer") }] });
      await send(chat, "queued follow-up");
      await database.handle.db.update(chats).set({ status, workerId: status === "running" ? SELF : null }).where(eq(chats.id, chat.id));
      const [first] = await liveMessages(database.handle.db, chat.id);
      const hints = recordingHints();
      const edited = await editMessage(database.handle.db, hints, { chatId: chat.id, messageId: first?.id ?? 0, parts: text("hello, edited"), editorId: chat.ownerId });
      expect(edited.chat.status).toBe("pending");
      expect(hints.streams.map((s) => s.hint)).toEqual(expect.arrayContaining([{ full_refresh: true }, { queue_update: true }]));
      expect((await liveMessages(database.handle.db, chat.id)).map((m) => messageParts(m))).toEqual([text("hello, edited")]);
      expect(await queuedMessages(database.handle.db, chat.id)).toEqual([]);
      const late = await persistStep(database.handle.db, recordingHints(), { chatId: chat.id, lease: leaseOf(chat), messages: [{ role: "assistant", parts: text("stale") }] });
      expect(late.persisted).toBe(false);
    },
  );

  it("refuses a message of another chat and a non-user message", async () => {
    const chat = await start("waiting");
    const other = await start("waiting");
    const [otherFirst] = await liveMessages(database.handle.db, other.id);
    await expect(
      editMessage(database.handle.db, recordingHints(), { chatId: chat.id, messageId: otherFirst?.id ?? 0, parts: text("x"), editorId: chat.ownerId }),
    ).rejects.toMatchObject({ reason: "not_found" });
    const running = await start("running");
    const step = await persistStep(database.handle.db, recordingHints(), { chatId: running.id, lease: leaseOf(running), messages: [{ role: "assistant", parts: text("a") }] });
    const assistantId = step.persisted ? (step.messages[0]?.id ?? 0) : 0;
    await expect(
      editMessage(database.handle.db, recordingHints(), { chatId: running.id, messageId: assistantId, parts: text("x"), editorId: chat.ownerId }),
    ).rejects.toThrow(MessageEditError);
  });
});

describe("stale recovery", () => {
  it("hands back running chats whose lease expired, and only those", async () => {
    const stale = await chatIn(database.handle.db, fixture ?? (fixture = await chatFixture(database.handle.db)), "running", {
      workerId: randomUUID(),
      heartbeatAt: new Date(Date.now() - 10 * 60_000),
    });
    const fresh = await start("running");
    const waiting = await start("waiting");
    const recovered = await recoverStaleChats(database.handle.db, recordingHints(), new Date(Date.now() - 5 * 60_000));
    expect(recovered).toContain(stale.id);
    expect(recovered).not.toContain(fresh.id);
    expect((await reloadChat(database.handle.db, stale.id)).status).toBe("pending");
    expect((await reloadChat(database.handle.db, stale.id)).workerId).toBeNull();
    expect((await reloadChat(database.handle.db, fresh.id)).status).toBe("running");
    expect((await reloadChat(database.handle.db, waiting.id)).status).toBe("waiting");
  });
});

describe("archive", () => {
  it("archives a chat with its tree, unarchives only the chat, and refuses no-op changes", async () => {
    const root = await start("waiting");
    const child = await start("waiting");
    await database.handle.db.update(chats).set({ rootChatId: root.id, parentChatId: root.id }).where(eq(chats.id, child.id));
    const hints = recordingHints();
    await setArchived(database.handle.db, hints, root.id, true);
    expect((await reloadChat(database.handle.db, child.id)).archived).toBe(true);
    expect(hints.owners.map((o) => o.hint.kind)).toEqual(["deleted", "deleted"]);
    await expect(setArchived(database.handle.db, recordingHints(), root.id, true)).rejects.toThrow(ArchiveStateError);
    await setArchived(database.handle.db, recordingHints(), root.id, false);
    expect((await reloadChat(database.handle.db, root.id)).archived).toBe(false);
    expect((await reloadChat(database.handle.db, child.id)).archived).toBe(true);
    await expect(setArchived(database.handle.db, recordingHints(), root.id, false)).rejects.toThrow("Chat is not archived.");
  });
});

describe("status is untouched by queue deletion and archiving; stale recovery only moves expired leases", () => {
  it.each<ForcedStatus>(["waiting", "pending", "running", "error"])("from %s", async (status) => {
    const chat = await start("running");
    await send(chat, "queued");
    await database.handle.db
      .update(chats)
      .set({ status, workerId: status === "running" ? SELF : null, heartbeatAt: status === "running" ? new Date(Date.now() - 600_000) : null })
      .where(eq(chats.id, chat.id));
    const [queued] = await queuedMessages(database.handle.db, chat.id);
    await deleteQueued(database.handle.db, recordingHints(), { chatId: chat.id, queuedId: queued?.id ?? 0 });
    expect((await reloadChat(database.handle.db, chat.id)).status).toBe(status);
    await setArchived(database.handle.db, recordingHints(), chat.id, true);
    expect((await reloadChat(database.handle.db, chat.id)).status).toBe(status);
    await setArchived(database.handle.db, recordingHints(), chat.id, false);
    const recovered = await recoverStaleChats(database.handle.db, recordingHints(), new Date(Date.now() - 300_000));
    expect(recovered.includes(chat.id)).toBe(status === "running");
    expect((await reloadChat(database.handle.db, chat.id)).status).toBe(status === "running" ? "pending" : status);
  });
});
