/**
 * The chat state module: the ONLY place a chat's status changes (behavior.md section 2). Each
 * transition is one transaction that first locks the chat row, so transitions on one chat are
 * serialized across replicas, and its hints are published inside that transaction (delivered
 * after COMMIT). Queue and edit transitions live in queue.ts, with the same rules.
 *
 * Status meanings: `pending` wants a worker; `running` is leased by `worker_id` until
 * `heartbeat_at` goes stale; `waiting` is idle (finished or interrupted); `error` is idle after
 * a failure (`last_error`). `paused` and `completed` are never written (the reference never does).
 *
 * Races the module closes (seeds): a late write from a run that lost its lease is dropped unless
 * the chat was interrupted (`waiting` keeps the partial answer); a run that finishes after its
 * chat was re-queued leaves it `pending`; a finishing run under another lease (another worker, or
 * a newer acquisition by the same one) changes nothing.
 */
import { and, asc, eq, inArray, lt, sql } from "drizzle-orm";
import type { Database } from "../db/client.js";
import { chats, workspaces } from "../db/schema/index.js";
import { transaction } from "../db/transaction.js";
import type { ChatHints } from "./hints.js";
import { decodeParts } from "./parts.js";
import {
  announceMessages,
  insertMessages,
  lockChat,
  popQueued,
  writeStatus,
  type ChatMessageRow,
  type ChatRow,
  type NewMessage,
} from "./store.js";

/**
 * One acquisition of a chat by a worker. The worker id alone is not enough: the same replica may
 * re-acquire a chat (after a promote or an edit) while its previous run is still finishing, and
 * that old run must not finish, persist into, or heartbeat the new one. `started_at` is written
 * at millisecond precision so it round-trips exactly through a JavaScript Date.
 */
export interface Lease {
  workerId: string;
  startedAt: Date;
}

/** Whether `chat` is running under exactly this lease. */
export function holdsLease(chat: ChatRow, lease: Lease): boolean {
  return chat.status === "running" && chat.workerId === lease.workerId && chat.startedAt?.getTime() === lease.startedAt.getTime();
}

export interface CreateChatInput {
  ownerId: string;
  title: string;
  modelConfigId: string;
  workspaceId?: string | null;
  parentChatId?: string | null;
  rootChatId?: string | null;
  mcpServerIds?: string[];
  /** `computer_use` for a desktop-driving sub-agent; normal chats leave it out. */
  mode?: ChatRow["mode"];
  /** System prompt, workspace awareness, then the user's message. */
  messages: readonly NewMessage[];
}

/** Create: the chat and its initial messages in one transaction, then `pending`. */
export async function createChat(db: Database, hints: ChatHints, input: CreateChatInput): Promise<{ chat: ChatRow; messages: ChatMessageRow[] }> {
  return transaction(db, async (tx) => {
    const [inserted] = await tx
      .insert(chats)
      .values({
        ownerId: input.ownerId,
        title: input.title,
        lastModelConfigId: input.modelConfigId,
        workspaceId: input.workspaceId ?? null,
        parentChatId: input.parentChatId ?? null,
        rootChatId: input.rootChatId ?? null,
        mcpServerIds: input.mcpServerIds ?? [],
        mode: input.mode ?? null,
        status: "waiting",
      })
      .returning();
    if (!inserted) throw new Error("insert returned no chat");
    const messages = await insertMessages(tx, inserted, input.messages);
    const chat = await writeStatus(tx, hints, await lockChat(tx, inserted.id), "pending");
    await hints.owner(tx, chat.ownerId, { kind: "created", chat_id: chat.id });
    return { chat, messages };
  });
}

/**
 * Interrupt: the chat goes `waiting` and its worker (told through the status hint) stops and
 * stores its partial answer. A `pending` chat is left alone: the user's newest message must run.
 */
export async function interruptChat(db: Database, hints: ChatHints, chatId: string): Promise<ChatRow> {
  return transaction(db, async (tx) => {
    const chat = await lockChat(tx, chatId);
    if (chat.status === "pending" || chat.status === "waiting") return chat;
    return writeStatus(tx, hints, chat, "waiting");
  });
}

/**
 * Acquire: one statement leases up to `limit` pending chats, oldest first; SKIP LOCKED lets
 * replicas acquire at once without waiting on each other or taking the same chat.
 */
export async function acquireChats(
  db: Database,
  hints: ChatHints,
  workerId: string,
  limit: number,
  /**
   * Runs for each leased chat before COMMIT, i.e. before anyone can see it running; `pendingSince`
   * is when the chat became pending (its updated_at before the lease), for time-to-running.
   */
  beforeAnnounce?: (chat: ChatRow, pendingSince: Date) => void,
): Promise<ChatRow[]> {
  if (limit <= 0) return [];
  return transaction(db, async (tx) => {
    // Lock the oldest pending rows first (skipping rows another replica holds), then lease
    // exactly those: the order is the select's, since RETURNING promises none.
    const candidates = await tx
      .select({ id: chats.id, pendingSince: chats.updatedAt })
      .from(chats)
      .where(eq(chats.status, "pending"))
      .orderBy(asc(chats.updatedAt), asc(chats.id))
      .limit(limit)
      .for("update", { skipLocked: true });
    if (candidates.length === 0) return [];
    const leased = await tx
      .update(chats)
      .set({
        status: "running",
        workerId,
        startedAt: sql`date_trunc('milliseconds', now())`,
        heartbeatAt: sql`now()`,
        updatedAt: sql`now()`,
        lastError: null,
      })
      .where(inArray(chats.id, candidates.map((c) => c.id)))
      .returning();
    const byId = new Map(leased.map((chat) => [chat.id, chat]));
    const acquired = candidates.flatMap((c) => {
      const chat = byId.get(c.id);
      return chat ? [{ chat, pendingSince: c.pendingSince }] : [];
    });
    for (const { chat, pendingSince } of acquired) {
      beforeAnnounce?.(chat, pendingSince);
      await hints.stream(tx, chat.id, { status: "running", worker_id: workerId });
      await hints.owner(tx, chat.ownerId, { kind: "status_change", chat_id: chat.id });
    }
    return acquired.map(({ chat }) => chat);
  });
}

/** Heartbeat: renews the lease; false means this run no longer owns the chat and must stop. */
export async function heartbeatChat(db: Database, chatId: string, lease: Lease): Promise<boolean> {
  const touched = await db
    .update(chats)
    .set({ heartbeatAt: sql`now()` })
    .where(
      and(eq(chats.id, chatId), eq(chats.workerId, lease.workerId), eq(chats.startedAt, lease.startedAt), eq(chats.status, "running")),
    )
    .returning({ id: chats.id, workspaceId: chats.workspaceId });
  const [row] = touched;
  if (!row) return false;
  // A running chat keeps its workspace in use (behavior.md section 2). Read from the row just
  // touched, so a workspace attached mid-run (create_workspace) counts from the next beat.
  if (row.workspaceId) await db.update(workspaces).set({ lastUsedAt: sql`now()` }).where(eq(workspaces.id, row.workspaceId));
  return true;
}

export type PersistResult = { persisted: true; messages: ChatMessageRow[] } | { persisted: false; reason: "lost_ownership" };

/**
 * Persists one step (assistant message, then one tool message per result). A worker that lost its
 * lease may still write when the chat was interrupted (`waiting` keeps the partial answer);
 * after an edit or a promotion (`pending`, another worker, …) its late output is dropped.
 */
export async function persistStep(
  db: Database,
  hints: ChatHints,
  input: { chatId: string; lease: Lease; messages: readonly NewMessage[] },
): Promise<PersistResult> {
  return transaction(db, async (tx) => {
    const chat = await lockChat(tx, input.chatId);
    if (!holdsLease(chat, input.lease) && chat.status !== "waiting") return { persisted: false, reason: "lost_ownership" };
    const messages = await insertMessages(tx, chat, input.messages);
    await announceMessages(tx, hints, chat.id, messages);
    return { persisted: true, messages };
  });
}

export type RunOutcome = { status: "waiting" } | { status: "error"; error: string } | { status: "pending"; reason: "shutdown" };

export type FinishResult =
  | { finished: false; reason: "not_owner" }
  | {
      finished: true;
      status: ChatRow["status"];
      chat: ChatRow;
      promoted?: ChatMessageRow;
      /** The chat was already `waiting` when the run ended: the user stopped it (no "finished" push). */
      interrupted: boolean;
    };

/**
 * End of a run. Under another worker: nothing. Already `pending` (edited or re-queued while
 * running): stays pending for the next run. A run that ends `waiting` promotes the oldest queued
 * message and goes `pending` again; shutdown hands the chat back as `pending`.
 */
export async function finishRun(
  db: Database,
  hints: ChatHints,
  input: { chatId: string; lease: Lease; outcome: RunOutcome },
): Promise<FinishResult> {
  return transaction(db, async (tx) => {
    const chat = await lockChat(tx, input.chatId);
    if (chat.status === "running" && !holdsLease(chat, input.lease)) return { finished: false, reason: "not_owner" };
    if (chat.status === "pending") return { finished: true, status: chat.status, chat, interrupted: false };
    const outcome = input.outcome;
    const interrupted = chat.status === "waiting";
    // An interrupt already moved the chat to waiting, and the user's stop wins over how the run
    // ended (an error it caused, a shutdown racing it): the chat stays waiting and the queue promotes.
    const status = chat.status === "waiting" ? "waiting" : outcome.status;
    if (status === "waiting") {
      const next = await popQueued(tx, chat.id);
      if (next) {
        const [promoted] = await insertMessages(tx, chat, [
          { role: "user", parts: decodeParts(next.content), createdBy: chat.ownerId, modelConfigId: chat.lastModelConfigId },
        ]);
        if (promoted) await announceMessages(tx, hints, chat.id, [promoted]);
        await hints.stream(tx, chat.id, { queue_update: true });
        const row = await writeStatus(tx, hints, chat, "pending");
        return { finished: true, status: row.status, chat: row, interrupted, ...(promoted ? { promoted } : {}) };
      }
    }
    if (outcome.status === "error" && status === "error") await hints.stream(tx, chat.id, { error: outcome.error.slice(0, 2000) });
    const row = await writeStatus(tx, hints, chat, status, outcome.status === "error" ? { lastError: outcome.error } : {});
    return { finished: true, status: row.status, chat: row, interrupted };
  });
}

/**
 * Chats handed back per recovery transaction. A dead replica can leave hundreds of running chats;
 * one transaction per chat (as before) took seconds under load, so orphans waited well past their
 * lease. A bounded batch keeps each transaction short while recovering the lot in a few.
 */
export const STALE_RECOVERY_BATCH = 200;

/**
 * Stale recovery: running chats whose lease expired (their replica died) go back to `pending`,
 * a batch per transaction. Rows another transaction holds are skipped, not waited for: a
 * heartbeat renewing the lease wins, and another replica's sweep is recovering them already.
 * Locked rows are re-read by the lock, so a heartbeat that committed meanwhile is seen.
 */
export async function recoverStaleChats(db: Database, hints: ChatHints, staleBefore: Date): Promise<string[]> {
  const recovered: string[] = [];
  for (;;) {
    const batch = await transaction(db, async (tx) => {
      const stale = await tx
        .select()
        .from(chats)
        .where(and(eq(chats.status, "running"), lt(chats.heartbeatAt, staleBefore)))
        .orderBy(asc(chats.heartbeatAt), asc(chats.id))
        .limit(STALE_RECOVERY_BATCH)
        .for("update", { skipLocked: true });
      for (const chat of stale) await writeStatus(tx, hints, chat, "pending");
      return stale.map((chat) => chat.id);
    });
    recovered.push(...batch);
    if (batch.length < STALE_RECOVERY_BATCH) return recovered;
  }
}

export class ArchiveStateError extends Error {
  constructor(archived: boolean) {
    super(archived ? "Chat is already archived." : "Chat is not archived.");
    this.name = "ArchiveStateError";
  }
}

/** Archive flags the chat and its whole tree (watch `deleted`); unarchive only that chat (`created`). */
export async function setArchived(db: Database, hints: ChatHints, chatId: string, archived: boolean): Promise<ChatRow> {
  return transaction(db, async (tx) => {
    const chat = await lockChat(tx, chatId);
    if (chat.archived === archived) throw new ArchiveStateError(archived);
    const tree = archived
      ? await tx
          .update(chats)
          .set({ archived: true, updatedAt: sql`now()` })
          .where(sql`${chats.id} = ${chatId} OR ${chats.rootChatId} = ${chatId}`)
          .returning()
      : await tx.update(chats).set({ archived: false, updatedAt: sql`now()` }).where(eq(chats.id, chatId)).returning();
    for (const row of tree) await hints.owner(tx, row.ownerId, { kind: archived ? "deleted" : "created", chat_id: row.id });
    const updated = tree.find((row) => row.id === chatId);
    if (!updated) throw new Error("archived chat vanished");
    return updated;
  });
}

/**
 * Renames a chat (a generated title). Only replaces `expected`, so a title the user set meanwhile
 * is never overwritten; announces `title_change` to the owner's list.
 */
export async function setGeneratedTitle(
  db: Database,
  hints: ChatHints,
  input: { chatId: string; expected: string; title: string },
): Promise<ChatRow | undefined> {
  return transaction(db, async (tx) => {
    const chat = await lockChat(tx, input.chatId);
    if (chat.title !== input.expected || chat.title === input.title) return undefined;
    const [row] = await tx.update(chats).set({ title: input.title, updatedAt: sql`now()` }).where(eq(chats.id, chat.id)).returning();
    if (row) await hints.owner(tx, row.ownerId, { kind: "title_change", chat_id: row.id });
    return row;
  });
}
