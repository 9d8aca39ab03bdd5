/**
 * What the chat state module announces, and how. Hints are pointers, never content: a receiver
 * re-reads the database. They are published inside the transaction that made the change, so
 * PostgreSQL delivers them only after COMMIT and never for a rollback.
 *
 * Channels (behavior.md section 9): `chat:stream:<chat id>` for one chat's viewers and its
 * worker, `chat:owner:<user id>` for the owner's chat list.
 */
import { z } from "zod";
import type { Transaction } from "../db/client.js";
import type { Pubsub } from "../pubsub/pubsub.js";
import { CHAT_STATUSES } from "../sdk/schemas/chats.js";
import { WATCH_KINDS } from "../sdk/schemas/streams.js";

export const streamHintSchema = z.object({
  /** New durable messages exist with an id greater than this. */
  after_message_id: z.number().int().optional(),
  status: z.enum(CHAT_STATUSES).optional(),
  worker_id: z.string().nullable().optional(),
  queue_update: z.literal(true).optional(),
  /** History was rewritten (an edit): re-read from the start. */
  full_refresh: z.literal(true).optional(),
  error: z.string().max(2000).optional(),
  retry: z
    .object({ attempt: z.number().int(), delay_ms: z.number().int(), error: z.string().max(2000), retrying_at: z.string() })
    .optional(),
});
export type StreamHint = z.infer<typeof streamHintSchema>;

export const ownerHintSchema = z.object({ kind: z.enum(WATCH_KINDS), chat_id: z.uuid() });
export type OwnerHint = z.infer<typeof ownerHintSchema>;

export const streamChannel = (chatId: string) => `chat:stream:${chatId}`;
export const ownerChannel = (ownerId: string) => `chat:owner:${ownerId}`;
/** "Some chat became pending": wakes every replica's worker before its next poll. */
export const PENDING_CHANNEL = "chatd:pending";

/**
 * `tx` is the transaction that made the change (the hint is then delivered after COMMIT), or
 * null for events that change no row (a retry notice).
 */
export interface ChatHints {
  stream(tx: Transaction | null, chatId: string, hint: StreamHint): Promise<void>;
  owner(tx: Transaction | null, ownerId: string, hint: OwnerHint): Promise<void>;
  pending(tx: Transaction | null): Promise<void>;
}

export function pubsubHints(pubsub: Pubsub): ChatHints {
  return {
    stream: (tx, chatId, hint) => pubsub.publish(streamChannel(chatId), JSON.stringify(hint), tx ?? undefined),
    owner: (tx, ownerId, hint) => pubsub.publish(ownerChannel(ownerId), JSON.stringify(hint), tx ?? undefined),
    pending: (tx) => pubsub.publish(PENDING_CHANNEL, "{}", tx ?? undefined),
  };
}
