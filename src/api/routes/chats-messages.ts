/**
 * A chat's messages and queue (behavior.md section 3): history pages, send (queued while the chat
 * is busy), edit (rewrites history from that message on), and the queue's delete and promote.
 * Every change is a transition of the chat state module (chats/queue.ts).
 */
import { and, asc, desc, eq, inArray, lt, type SQL } from "drizzle-orm";
import { z } from "zod";
import { chatMessages, chatQueuedMessages } from "../../db/schema/index.js";
import { deleteQueued, editMessage, promoteQueued, sendMessage } from "../../chats/queue.js";
import type { ChatHints } from "../../chats/hints.js";
import { toChatMessageResponse, toQueuedMessageResponse } from "../../chats/api.js";
import { badRequest, notFound } from "../errors.js";
import { requireActor } from "../context.js";
import { none, type RouteRegistry } from "../route.js";
import type { ApiServices } from "../services.js";
import { assertUnderUsageLimit } from "../usage-limit-guard.js";
import {
  CHAT_PATH,
  chatParams,
  checkMcpServerIds,
  updateChatMcpServerIds,
  loadChat,
  parseIntegerId,
  resolveModelConfigId,
  transition,
  validateContent,
} from "./chats-common.js";
import {
  chatMessageSchema,
  chatMessagesResponseSchema,
  createChatMessageRequestSchema,
  createChatMessageResponseSchema,
  editChatMessageRequestSchema,
  idField,
} from "../../sdk/schemas/chats.js";

/** behavior.md: history pages default to 50 messages and hold 1 to 200. */
const DEFAULT_MESSAGE_PAGE_SIZE = 50;
const MAX_MESSAGE_PAGE_SIZE = 200;

const messagesQuery = z.object({
  /** Only messages with a smaller id (older): the next page back. */
  before_id: idField.optional(),
  limit: z.string().max(16).optional(),
});

const messageParams = z.object({ chat: idField, message: idField });
const queuedParams = z.object({ chat: idField, id: idField });

function parseMessageQuery(query: z.output<typeof messagesQuery>): { beforeId: number | undefined; limit: number } {
  let limit = DEFAULT_MESSAGE_PAGE_SIZE;
  if (query.limit !== undefined && query.limit !== "") {
    const parsed = parseIntegerId(query.limit);
    if (parsed === undefined || parsed < 1 || parsed > MAX_MESSAGE_PAGE_SIZE) throw badRequest(`Invalid limit parameter (1-${MAX_MESSAGE_PAGE_SIZE}).`);
    limit = parsed;
  }
  let beforeId: number | undefined;
  if (query.before_id !== undefined && query.before_id !== "") {
    beforeId = parseIntegerId(query.before_id);
    if (beforeId === undefined || beforeId <= 0) throw badRequest("Invalid before_id parameter.", "before_id must be a positive integer.");
  }
  return { beforeId, limit };
}

function parseQueuedId(raw: string): number {
  const id = parseIntegerId(raw);
  if (id === undefined) throw badRequest("Invalid queued message ID.", "Queued message ID must be an integer.");
  return id;
}

export function registerChatMessageRoutes(routes: RouteRegistry, services: ApiServices, hints: ChatHints): void {
  const { db } = services.database;
  const common = { tags: ["Chat messages"], auth: "user" as const };

  routes.add({
    ...common,
    method: "get",
    path: `${CHAT_PATH}/messages`,
    summary: "A page of a chat's visible history, newest first, with its queue on the first page",
    params: chatParams,
    query: messagesQuery,
    body: none,
    status: 200,
    response: chatMessagesResponseSchema,
    handler: async ({ c, params, query }) => {
      const chat = await loadChat(db, requireActor(c), params.chat);
      const { beforeId, limit } = parseMessageQuery(query);
      const where: SQL[] = [eq(chatMessages.chatId, chat.id), eq(chatMessages.deleted, false), inArray(chatMessages.visibility, ["user", "both"])];
      if (beforeId !== undefined) where.push(lt(chatMessages.id, beforeId));
      // One extra row tells whether an older page exists without a COUNT.
      const rows = await db
        .select()
        .from(chatMessages)
        .where(and(...where))
        .orderBy(desc(chatMessages.id))
        .limit(limit + 1);
      const queued =
        beforeId === undefined
          ? await db.select().from(chatQueuedMessages).where(eq(chatQueuedMessages.chatId, chat.id)).orderBy(asc(chatQueuedMessages.id))
          : [];
      return {
        messages: rows.slice(0, limit).map(toChatMessageResponse),
        queued_messages: queued.map(toQueuedMessageResponse),
        has_more: rows.length > limit,
      };
    },
  });

  routes.add({
    ...common,
    method: "post",
    path: `${CHAT_PATH}/messages`,
    summary: "Send a message; a busy chat queues it (at most 20 waiting)",
    params: chatParams,
    query: none,
    body: createChatMessageRequestSchema,
    status: 200,
    response: createChatMessageResponseSchema,
    handler: async ({ c, params, body }) => {
      const actor = requireActor(c);
      const chat = await loadChat(db, actor, params.chat, "update");
      const input = await validateContent(db, actor, body.content);
      const modelConfigId = await resolveModelConfigId(db, body.model_config_id);
      const mcpServerIds = await checkMcpServerIds(db, body.mcp_server_ids);
      await assertUnderUsageLimit(c, db, chat.ownerId);
      // Before the send, so the run the message starts already uses the new choice.
      await updateChatMcpServerIds(db, chat.id, mcpServerIds);
      const result = await transition(() =>
        sendMessage(db, hints, { chatId: chat.id, parts: input.parts, createdBy: actor.user.id, modelConfigId, behavior: "queue" }),
      );
      return result.queued
        ? { queued: true, queued_message: toQueuedMessageResponse(result.queuedMessage) }
        : { queued: false, message: toChatMessageResponse(result.message) };
    },
  });

  routes.add({
    ...common,
    method: "patch",
    path: `${CHAT_PATH}/messages/:message`,
    summary: "Edit a user message: later history is dropped, the queue emptied, and the chat runs again",
    params: messageParams,
    query: none,
    body: editChatMessageRequestSchema,
    status: 200,
    response: chatMessageSchema,
    handler: async ({ c, params, body }) => {
      const actor = requireActor(c);
      const chat = await loadChat(db, actor, params.chat, "update");
      const messageId = parseIntegerId(params.message);
      if (messageId === undefined || messageId <= 0) throw badRequest("Invalid chat message ID.", "Message ID must be a positive integer.");
      const input = await validateContent(db, actor, body.content);
      await assertUnderUsageLimit(c, db, chat.ownerId);
      const { message } = await transition(() => editMessage(db, hints, { chatId: chat.id, messageId, parts: input.parts, editorId: actor.user.id }));
      return toChatMessageResponse(message);
    },
  });

  routes.add({
    ...common,
    method: "delete",
    path: `${CHAT_PATH}/queue/:id`,
    summary: "Remove a queued message (an unknown id is not an error)",
    params: queuedParams,
    query: none,
    body: none,
    status: 204,
    handler: async ({ c, params }) => {
      const chat = await loadChat(db, requireActor(c), params.chat, "update");
      const queuedId = parseQueuedId(params.id);
      await transition(() => deleteQueued(db, hints, { chatId: chat.id, queuedId }));
    },
  });

  routes.add({
    ...common,
    method: "post",
    path: `${CHAT_PATH}/queue/:id/promote`,
    summary: "Move a queued message into history now; the chat goes pending",
    params: queuedParams,
    query: none,
    body: none,
    status: 200,
    response: chatMessageSchema,
    handler: async ({ c, params }) => {
      const chat = await loadChat(db, requireActor(c), params.chat, "update");
      const queuedId = parseQueuedId(params.id);
      const promoted = await transition(() => promoteQueued(db, hints, { chatId: chat.id, queuedId }));
      // behavior.md answers 500 here; a missing queued message is the caller's 404.
      if (!promoted) throw notFound("Queued message not found.");
      return toChatMessageResponse(promoted.message);
    },
  });
}
