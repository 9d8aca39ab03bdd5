/**
 * Sending, queueing, promoting and editing: the message-side transitions of the chat state module
 * (see state.ts for the rules every transition follows).
 *
 * Queue rules (behavior.md section 5, "Queued messages"):
 * - A message sent to a busy chat (`running` or `pending`) or to a chat whose queue is not empty
 *   is queued, FIFO, at most MAX_QUEUED_MESSAGES; otherwise it is inserted and the chat goes
 *   `pending`. Keeping order means never jumping a non-empty queue.
 * - `interrupt` additionally stops the run (`waiting`); the worker stores its partial answer and
 *   only then does end-of-run promote the queued message, so history stays in order.
 * - Promote moves one queued message into history now and makes the chat `pending`.
 * - Edit soft-deletes the message and everything after it, inserts the replacement, empties the
 *   queue and makes the chat `pending`; a worker still running loses its lease (its late writes
 *   are dropped by persistStep).
 */
import { and, count, eq, gte } from "drizzle-orm";
import type { Database } from "../db/client.js";
import { chatMessages, chatQueuedMessages } from "../db/schema/index.js";
import { transaction } from "../db/transaction.js";
import type { ChatHints } from "./hints.js";
import { decodeParts, encodeParts } from "./parts.js";
import {
  announceMessages,
  insertMessages,
  lockChat,
  MAX_QUEUED_MESSAGES,
  popQueued,
  writeStatus,
  type ChatMessageRow,
  type ChatRow,
  type QueuedMessageRow,
} from "./store.js";
import type { ChatMessagePart } from "../sdk/schemas/parts.js";

export class QueueFullError extends Error {
  constructor() {
    super(`Maximum ${MAX_QUEUED_MESSAGES} messages can be queued.`);
    this.name = "QueueFullError";
  }
}

export class MessageEditError extends Error {
  constructor(
    readonly reason: "not_found" | "not_user",
    message: string,
  ) {
    super(message);
    this.name = "MessageEditError";
  }
}

export interface SendInput {
  chatId: string;
  parts: readonly ChatMessagePart[];
  createdBy: string;
  modelConfigId?: string | undefined;
  behavior: "queue" | "interrupt";
}

export type SendResult = { queued: false; message: ChatMessageRow; chat: ChatRow } | { queued: true; queuedMessage: QueuedMessageRow; chat: ChatRow };

export async function sendMessage(db: Database, hints: ChatHints, input: SendInput): Promise<SendResult> {
  return transaction(db, async (tx) => {
    const chat = await lockChat(tx, input.chatId);
    const [queue] = await tx.select({ n: count() }).from(chatQueuedMessages).where(eq(chatQueuedMessages.chatId, chat.id));
    const queueLength = queue?.n ?? 0;
    const busy = chat.status === "running" || chat.status === "pending";
    if (busy || queueLength > 0) {
      if (queueLength >= MAX_QUEUED_MESSAGES) throw new QueueFullError();
      const [queuedMessage] = await tx
        .insert(chatQueuedMessages)
        .values({ chatId: chat.id, content: encodeParts(input.parts) })
        .returning();
      if (!queuedMessage) throw new Error("queue insert returned no row");
      await hints.stream(tx, chat.id, { queue_update: true });
      const stopped = input.behavior === "interrupt" && chat.status === "running" ? await writeStatus(tx, hints, chat, "waiting") : chat;
      return { queued: true, queuedMessage, chat: stopped };
    }
    const [message] = await insertMessages(tx, chat, [
      { role: "user", parts: input.parts, createdBy: input.createdBy, modelConfigId: input.modelConfigId ?? chat.lastModelConfigId },
    ]);
    if (!message) throw new Error("message insert returned no row");
    await announceMessages(tx, hints, chat.id, [message]);
    return { queued: false, message, chat: await writeStatus(tx, hints, await lockChat(tx, chat.id), "pending") };
  });
}

/** Moves one queued message into history now; undefined when there is no such queued message. */
export async function promoteQueued(
  db: Database,
  hints: ChatHints,
  input: { chatId: string; queuedId: number },
): Promise<{ message: ChatMessageRow; chat: ChatRow } | undefined> {
  return transaction(db, async (tx) => {
    const chat = await lockChat(tx, input.chatId);
    const queued = await popQueued(tx, chat.id, input.queuedId);
    if (!queued) return undefined;
    const [message] = await insertMessages(tx, chat, [
      { role: "user", parts: decodeParts(queued.content), createdBy: chat.ownerId, modelConfigId: chat.lastModelConfigId },
    ]);
    if (!message) throw new Error("message insert returned no row");
    await announceMessages(tx, hints, chat.id, [message]);
    await hints.stream(tx, chat.id, { queue_update: true });
    return { message, chat: await writeStatus(tx, hints, await lockChat(tx, chat.id), "pending") };
  });
}

/** Deletes a queued message; unknown ids are not an error (behavior.md: no 404). */
export async function deleteQueued(db: Database, hints: ChatHints, input: { chatId: string; queuedId: number }): Promise<void> {
  await transaction(db, async (tx) => {
    const chat = await lockChat(tx, input.chatId);
    const removed = await tx
      .delete(chatQueuedMessages)
      .where(and(eq(chatQueuedMessages.chatId, chat.id), eq(chatQueuedMessages.id, input.queuedId)))
      .returning({ id: chatQueuedMessages.id });
    if (removed.length > 0) await hints.stream(tx, chat.id, { queue_update: true });
  });
}

export async function editMessage(
  db: Database,
  hints: ChatHints,
  input: { chatId: string; messageId: number; parts: readonly ChatMessagePart[]; editorId: string },
): Promise<{ message: ChatMessageRow; chat: ChatRow }> {
  return transaction(db, async (tx) => {
    const chat = await lockChat(tx, input.chatId);
    const [original] = await tx
      .select()
      .from(chatMessages)
      .where(and(eq(chatMessages.id, input.messageId), eq(chatMessages.chatId, chat.id), eq(chatMessages.deleted, false)));
    if (!original) throw new MessageEditError("not_found", "Chat message not found.");
    if (original.role !== "user") throw new MessageEditError("not_user", "Only user messages can be edited.");
    await tx
      .update(chatMessages)
      .set({ deleted: true })
      .where(and(eq(chatMessages.chatId, chat.id), gte(chatMessages.id, original.id)));
    const [message] = await insertMessages(tx, chat, [
      {
        role: "user",
        parts: input.parts,
        visibility: original.visibility,
        createdBy: input.editorId,
        modelConfigId: original.modelConfigId,
      },
    ]);
    if (!message) throw new Error("message insert returned no row");
    await tx.delete(chatQueuedMessages).where(eq(chatQueuedMessages.chatId, chat.id));
    await hints.stream(tx, chat.id, { full_refresh: true });
    await hints.stream(tx, chat.id, { queue_update: true });
    return { message, chat: await writeStatus(tx, hints, await lockChat(tx, chat.id), "pending") };
  });
}
