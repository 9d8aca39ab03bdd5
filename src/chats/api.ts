/**
 * The converters from database rows to the chat API's response shapes (the schemas themselves
 * are wire types, in sdk/schemas/chats.ts). The routes parse every response through those
 * schemas, so nothing internal (worker ids, provider metadata, costs) can leak.
 */
import { toDiffStatus, type DiffStatusRow } from "../gitauth/diff-view.js";
import { decodeParts, publicPart } from "./parts.js";
import type { ChatMessageRow, ChatRow, QueuedMessageRow } from "./store.js";
import type { ChatMessageResponse, ChatMessageUsage, ChatQueuedMessageResponse, ChatResponse } from "../sdk/schemas/chats.js";

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
    mode: row.mode,
    mcp_server_ids: row.mcpServerIds,
    diff_status: toDiffStatus(row.id, diff),
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

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

export function toQueuedMessageResponse(row: QueuedMessageRow): ChatQueuedMessageResponse {
  return {
    id: row.id,
    chat_id: row.chatId,
    content: decodeParts(row.content).map(publicPart),
    created_at: row.createdAt.toISOString(),
  };
}
