/**
 * Row-level building blocks shared by the chat state module's transitions: the row lock, message
 * inserts, and the status write. Only chats/state.ts and chats/queue.ts call these, always inside
 * one transaction that holds the chat's row lock.
 */
import { and, asc, eq, sql } from "drizzle-orm";
import type { Queryable, Transaction } from "../db/client.js";
import { chatMessages, chatQueuedMessages, chats } from "../db/schema/index.js";
import type { ChatHints } from "./hints.js";
import { CONTENT_VERSION, decodeParts, encodeParts } from "./parts.js";
import type { ChatMessagePart } from "../sdk/schemas/parts.js";
import type { ChatStatus } from "../sdk/schemas/chats.js";

export type ChatRow = typeof chats.$inferSelect;
export type ChatMessageRow = typeof chatMessages.$inferSelect;
export type QueuedMessageRow = typeof chatQueuedMessages.$inferSelect;

/** behavior.md: at most 20 queued messages per chat. */
export const MAX_QUEUED_MESSAGES = 20;

export class ChatNotFoundError extends Error {
  constructor(readonly chatId: string) {
    super(`chat ${chatId} not found`);
    this.name = "ChatNotFoundError";
  }
}

/** Locks the chat row for the rest of the transaction. */
export async function lockChat(tx: Transaction, chatId: string): Promise<ChatRow> {
  const [row] = await tx.select().from(chats).where(eq(chats.id, chatId)).for("update");
  if (!row) throw new ChatNotFoundError(chatId);
  return row;
}

export interface NewMessage {
  role: "system" | "user" | "assistant" | "tool";
  parts: readonly ChatMessagePart[];
  visibility?: "user" | "model" | "both";
  createdBy?: string | null;
  modelConfigId?: string | null;
  compressed?: boolean;
  usage?: {
    inputTokens?: number | null;
    outputTokens?: number | null;
    totalTokens?: number | null;
    reasoningTokens?: number | null;
    cacheCreationTokens?: number | null;
    cacheReadTokens?: number | null;
    contextLimit?: number | null;
  };
  totalCostMicros?: number | null;
  runtimeMs?: number | null;
}

/** 0 means "not reported" in every numeric column (behavior.md section 1): store NULL. */
const nonZero = (value: number | null | undefined): number | null => (value === undefined || value === null || value === 0 ? null : value);

/**
 * Inserts messages in order and moves the chat's last model to the batch's last model when it
 * differs (without touching `updated_at`: messages are not list activity).
 */
export async function insertMessages(tx: Transaction, chat: ChatRow, messages: readonly NewMessage[]): Promise<ChatMessageRow[]> {
  if (messages.length === 0) return [];
  const rows = await tx
    .insert(chatMessages)
    .values(
      messages.map((message) => ({
        chatId: chat.id,
        role: message.role,
        content: encodeParts(message.parts),
        contentVersion: CONTENT_VERSION,
        visibility: message.visibility ?? "both",
        createdBy: message.createdBy ?? null,
        modelConfigId: message.modelConfigId ?? null,
        compressed: message.compressed ?? false,
        inputTokens: nonZero(message.usage?.inputTokens),
        outputTokens: nonZero(message.usage?.outputTokens),
        totalTokens: nonZero(message.usage?.totalTokens),
        reasoningTokens: nonZero(message.usage?.reasoningTokens),
        cacheCreationTokens: nonZero(message.usage?.cacheCreationTokens),
        cacheReadTokens: nonZero(message.usage?.cacheReadTokens),
        contextLimit: nonZero(message.usage?.contextLimit),
        totalCostMicros: nonZero(message.totalCostMicros),
        runtimeMs: nonZero(message.runtimeMs),
      })),
    )
    .returning();
  rows.sort((a, b) => a.id - b.id);
  const lastModel = [...messages].reverse().find((message) => message.modelConfigId)?.modelConfigId;
  if (lastModel && lastModel !== chat.lastModelConfigId) {
    await tx.update(chats).set({ lastModelConfigId: lastModel }).where(eq(chats.id, chat.id));
  }
  return rows;
}

export function messageParts(row: ChatMessageRow): ChatMessagePart[] {
  return decodeParts(row.content);
}

/**
 * Writes a status. Leaving `running` clears the lease; `error` keeps its text, anything else
 * clears it. Announces the change to the chat's viewers and to its owner's list.
 */
export async function writeStatus(
  tx: Transaction,
  hints: ChatHints,
  chat: ChatRow,
  status: ChatStatus,
  options: { lastError?: string; workerId?: string } = {},
): Promise<ChatRow> {
  const running = status === "running";
  const [row] = await tx
    .update(chats)
    .set({
      status,
      workerId: running ? (options.workerId ?? chat.workerId) : null,
      startedAt: running ? chat.startedAt : null,
      heartbeatAt: running ? chat.heartbeatAt : null,
      lastError: status === "error" ? (options.lastError ?? "unknown error") : null,
      updatedAt: sql`now()`,
    })
    .where(eq(chats.id, chat.id))
    .returning();
  if (!row) throw new ChatNotFoundError(chat.id);
  await hints.stream(tx, chat.id, { status, worker_id: row.workerId });
  await hints.owner(tx, chat.ownerId, { kind: "status_change", chat_id: chat.id });
  if (status === "pending") await hints.pending(tx);
  return row;
}

export async function queuedMessages(q: Queryable, chatId: string): Promise<QueuedMessageRow[]> {
  return q.select().from(chatQueuedMessages).where(eq(chatQueuedMessages.chatId, chatId)).orderBy(asc(chatQueuedMessages.id));
}

/** Removes and returns the oldest queued message (FIFO), if any. */
export async function popQueued(tx: Transaction, chatId: string, id?: number): Promise<QueuedMessageRow | undefined> {
  const [next] = await tx
    .select()
    .from(chatQueuedMessages)
    .where(id === undefined ? eq(chatQueuedMessages.chatId, chatId) : and(eq(chatQueuedMessages.chatId, chatId), eq(chatQueuedMessages.id, id)))
    .orderBy(asc(chatQueuedMessages.id))
    .limit(1);
  if (!next) return undefined;
  await tx.delete(chatQueuedMessages).where(eq(chatQueuedMessages.id, next.id));
  return next;
}

/** Announces new durable messages: viewers read every id above the first one's predecessor. */
export async function announceMessages(tx: Transaction, hints: ChatHints, chatId: string, rows: readonly ChatMessageRow[]): Promise<void> {
  const first = rows[0];
  if (first) await hints.stream(tx, chatId, { after_message_id: first.id - 1 });
}
