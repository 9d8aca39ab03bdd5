/**
 * The chat API's response shapes (behavior.md section 3; snake_case, every field always present
 * unless marked optional) and the converters from database rows. The zod schemas carry OpenAPI
 * ids, and the routes parse every response through them, so nothing internal (worker ids,
 * provider metadata, costs) can leak.
 */
import { z } from "zod";
import { chatDiffStatusSchema, toDiffStatus, type DiffStatusRow } from "../gitauth/diff-view.js";
import { CHAT_STATUSES } from "./hints.js";
import { chatMessagePartSchema, decodeParts, publicPart } from "./parts.js";
import type { ChatMessageRow, ChatRow, QueuedMessageRow } from "./store.js";

const timestamp = z.iso.datetime({ offset: true });

/** Only the chat id until diff tracking (behavior.md section 8) lands. */

export const chatSchema = z
  .object({
    id: z.uuid(),
    owner_id: z.uuid(),
    workspace_id: z.uuid().nullable(),
    parent_chat_id: z.uuid().nullable(),
    /** The root of the chat's tree; a root chat reports its own id. */
    root_chat_id: z.uuid(),
    last_model_config_id: z.uuid(),
    title: z.string(),
    status: z.enum(CHAT_STATUSES),
    last_error: z.string().nullable(),
    archived: z.boolean(),
    mcp_server_ids: z.array(z.uuid()),
    diff_status: chatDiffStatusSchema,
    created_at: timestamp,
    updated_at: timestamp,
  })
  .meta({ id: "Chat" });
export type ChatResponse = z.infer<typeof chatSchema>;

export function toChatResponse(row: ChatRow, diff?: DiffStatusRow): ChatResponse {
  return {
    id: row.id,
    owner_id: row.ownerId,
    workspace_id: row.workspaceId,
    parent_chat_id: row.parentChatId,
    // Roots store NULL; a child that lost its root pointer still belongs under its parent.
    root_chat_id: row.rootChatId ?? row.parentChatId ?? row.id,
    last_model_config_id: row.lastModelConfigId,
    title: row.title,
    status: row.status,
    last_error: row.lastError,
    archived: row.archived,
    mcp_server_ids: row.mcpServerIds,
    diff_status: toDiffStatus(row.id, diff),
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

export const chatMessageUsageSchema = z
  .object({
    input_tokens: z.number().int().nullable(),
    output_tokens: z.number().int().nullable(),
    total_tokens: z.number().int().nullable(),
    reasoning_tokens: z.number().int().nullable(),
    cache_creation_tokens: z.number().int().nullable(),
    cache_read_tokens: z.number().int().nullable(),
    context_limit: z.number().int().nullable(),
  })
  .meta({ id: "ChatMessageUsage" });
export type ChatMessageUsage = z.infer<typeof chatMessageUsageSchema>;

export const chatMessageSchema = z
  .object({
    id: z.number().int(),
    chat_id: z.uuid(),
    created_by: z.uuid().nullable(),
    model_config_id: z.uuid().nullable(),
    created_at: timestamp,
    role: z.enum(["system", "user", "assistant", "tool"]),
    content: z.array(chatMessagePartSchema),
    /** Present when the provider reported any usage for this message. */
    usage: chatMessageUsageSchema.optional(),
    /** What this step cost, in micro-dollars; present only when the model config is priced. */
    total_cost_micros: z.number().int().optional(),
  })
  .meta({ id: "ChatMessage" });
export type ChatMessageResponse = z.infer<typeof chatMessageSchema>;

function usageOf(row: ChatMessageRow): ChatMessageUsage | undefined {
  const usage: ChatMessageUsage = {
    input_tokens: row.inputTokens,
    output_tokens: row.outputTokens,
    total_tokens: row.totalTokens,
    reasoning_tokens: row.reasoningTokens,
    cache_creation_tokens: row.cacheCreationTokens,
    cache_read_tokens: row.cacheReadTokens,
    context_limit: row.contextLimit,
  };
  return Object.values(usage).some((value) => value !== null) ? usage : undefined;
}

export function toChatMessageResponse(row: ChatMessageRow): ChatMessageResponse {
  const usage = usageOf(row);
  return {
    id: row.id,
    chat_id: row.chatId,
    created_by: row.createdBy,
    model_config_id: row.modelConfigId,
    created_at: row.createdAt.toISOString(),
    role: row.role,
    content: decodeParts(row.content).map(publicPart),
    ...(usage ? { usage } : {}),
    ...(row.totalCostMicros === null ? {} : { total_cost_micros: row.totalCostMicros }),
  };
}

export const chatQueuedMessageSchema = z
  .object({
    id: z.number().int(),
    chat_id: z.uuid(),
    content: z.array(chatMessagePartSchema),
    created_at: timestamp,
  })
  .meta({ id: "ChatQueuedMessage" });
export type ChatQueuedMessageResponse = z.infer<typeof chatQueuedMessageSchema>;

export function toQueuedMessageResponse(row: QueuedMessageRow): ChatQueuedMessageResponse {
  return {
    id: row.id,
    chat_id: row.chatId,
    content: decodeParts(row.content).map(publicPart),
    created_at: row.createdAt.toISOString(),
  };
}

export const chatMessagesResponseSchema = z
  .object({
    /** Newest first. */
    messages: z.array(chatMessageSchema),
    /** Oldest first; only on the first page (no `before_id`), empty on later ones. */
    queued_messages: z.array(chatQueuedMessageSchema),
    /** Older messages exist beyond this page. */
    has_more: z.boolean(),
  })
  .meta({ id: "ChatMessagesResponse" });

export const createChatMessageResponseSchema = z
  .object({
    message: chatMessageSchema.optional(),
    queued_message: chatQueuedMessageSchema.optional(),
    /** True when the chat was busy and the message waits in its queue. */
    queued: z.boolean(),
  })
  .meta({ id: "CreateChatMessageResponse" });

export const uploadChatFileResponseSchema = z.object({ id: z.uuid() }).meta({ id: "UploadChatFileResponse" });

export const chatSystemPromptSchema = z.object({ system_prompt: z.string() }).meta({ id: "ChatSystemPrompt" });
export const userChatCustomPromptSchema = z.object({ custom_prompt: z.string() }).meta({ id: "UserChatCustomPrompt" });
