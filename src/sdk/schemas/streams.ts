/**
 * What the chat WebSockets send (behavior.md section 4). Every frame is JSON
 * `{type: "ping" | "data" | "error", data?}`:
 * - `/chats/{chat}/stream`: a `data` frame holds an array of `StreamEvent`s (coalesced per tick);
 * - `/chats/watch`: a `data` frame holds one `ChatWatchEvent`; the first frame is a bare ping,
 *   sent once the server is subscribed;
 * - an `error` frame holds `{message}` and the server closes the socket after it.
 */
import { z } from "zod";
import { CHAT_STATUSES, chatDiffStatusSchema, chatMessageSchema, chatQueuedMessageSchema, chatSchema } from "./chats.js";
import { chatMessagePartSchema } from "./parts.js";

export const FRAME_TYPES = ["ping", "data", "error"] as const;
export const streamFrameSchema = z.object({ type: z.enum(FRAME_TYPES), data: z.unknown().optional() });
export type StreamFrame = z.infer<typeof streamFrameSchema>;
export const streamErrorSchema = z.object({ message: z.string() });

export const statusEventSchema = z.object({ type: z.literal("status"), chat_id: z.string(), status: z.object({ status: z.enum(CHAT_STATUSES) }) });
export const messageEventSchema = z.object({ type: z.literal("message"), chat_id: z.string(), message: chatMessageSchema });
export const messagePartEventSchema = z.object({
  type: z.literal("message_part"),
  chat_id: z.string(),
  /** `episode` changes with every step, retry and edit; `seq` counts 1, 2, … within it. */
  message_part: z.object({ role: z.enum(["assistant", "tool"]), part: chatMessagePartSchema, episode: z.string(), seq: z.number().int() }),
});
/** The parts shown so far are obsolete: the preview restarts with this episode. */
export const previewResetEventSchema = z.object({ type: z.literal("preview_reset"), chat_id: z.string(), preview_reset: z.object({ episode: z.string() }) });
export const queueUpdateEventSchema = z.object({ type: z.literal("queue_update"), chat_id: z.string(), queued_messages: z.array(chatQueuedMessageSchema) });
export const retryEventSchema = z.object({
  type: z.literal("retry"),
  chat_id: z.string(),
  retry: z.object({ attempt: z.number(), delay_ms: z.number(), error: z.string(), retrying_at: z.string() }),
});
export const errorEventSchema = z.object({ type: z.literal("error"), chat_id: z.string(), error: streamErrorSchema });

export const streamEventSchema = z.discriminatedUnion("type", [
  statusEventSchema,
  messageEventSchema,
  messagePartEventSchema,
  previewResetEventSchema,
  queueUpdateEventSchema,
  retryEventSchema,
  errorEventSchema,
]);
export type StreamEvent = z.infer<typeof streamEventSchema>;
export type StreamEventType = StreamEvent["type"];

/** Why a chat list entry changed; the event carries the chat as it is now. */
export const WATCH_KINDS = ["created", "status_change", "title_change", "deleted", "diff_status_change"] as const;
export type WatchKind = (typeof WATCH_KINDS)[number];

/** The part of a chat the chat list needs; `diff_status` only on `diff_status_change` events. */
export const watchChatSchema = chatSchema
  .pick({
    id: true,
    owner_id: true,
    title: true,
    status: true,
    created_at: true,
    updated_at: true,
    parent_chat_id: true,
    root_chat_id: true,
    workspace_id: true,
    archived: true,
  })
  .extend({ diff_status: chatDiffStatusSchema.optional() });
export type WatchChat = z.infer<typeof watchChatSchema>;

export const chatWatchEventSchema = z.object({ kind: z.enum(WATCH_KINDS), chat: watchChatSchema });
export type ChatWatchEvent = z.infer<typeof chatWatchEventSchema>;
