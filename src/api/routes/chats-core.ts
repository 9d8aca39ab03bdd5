/**
 * Chats themselves (behavior.md section 3): create, list (the caller's own, filtered in SQL so
 * pages are never short), get, archive/unarchive, interrupt. Status changes go through the chat
 * state module only.
 */
import { and, desc, eq, sql, type SQL } from "drizzle-orm";
import { z } from "zod";
import { chats } from "../../db/schema/index.js";
import { createChat, interruptChat, setArchived } from "../../chats/state.js";
import type { ChatHints } from "../../chats/hints.js";
import { toChatResponse } from "../../chats/api.js";
import { loadDiffStatuses } from "../../gitauth/diff-view.js";
import type { GitSync } from "../../gitsync/sync.js";
import { fallbackTitle, initialMessages } from "../../chats/input.js";
import { authorizedFilter } from "../../rbac/sql.js";
import { can } from "../../rbac/policy.js";
import { badRequest, forbidden } from "../errors.js";
import { requireActor } from "../context.js";
import { none, type RouteRegistry } from "../route.js";
import type { ApiServices } from "../services.js";
import { assertUnderUsageLimit } from "../usage-limit-guard.js";
import { treeCostMicros, treeCosts } from "../../cost/summary.js";
import {
  CHAT_PATH,
  CHATS_PATH,
  chatParams,
  checkMcpServerIds,
  isUuid,
  loadChat,
  resolveModelConfigId,
  resolveWorkspaceId,
  transition,
  validateContent,
} from "./chats-common.js";
import { readSystemPrompt } from "./chats-config.js";
import { chatSchema, createChatRequestSchema, idField, updateChatRequestSchema } from "../../sdk/schemas/chats.js";

/**
 * GET /chats/{chat} waits this long for GitHub (behavior.md section 8) before answering with what
 * is stored: a slow or hung API must not hang the chat page; the worker catches up later.
 */
export const SYNC_DIFF_REFRESH_TIMEOUT_MS = 5_000;

/** behavior.md: `limit` 0 (or absent) means 50. */
const DEFAULT_CHAT_PAGE_SIZE = 50;
/** A page the UI can render at once; larger asks are refused rather than silently cut. */
const MAX_CHAT_PAGE_SIZE = 200;
/** Longest accepted `q`; the only filter is `archived:…`, so anything longer is a mistake. */
const MAX_SEARCH_QUERY_LENGTH = 512;

const listChatsQuery = z.object({
  /** Search: `archived:true` or `archived:false` (the default). */
  q: z.string().max(MAX_SEARCH_QUERY_LENGTH).optional(),
  /** Cursor: return chats after this one in (updated_at, id) descending order. */
  after_id: idField.optional(),
  limit: z.string().max(16).optional(),
  offset: z.string().max(16).optional(),
});

const INVALID_SEARCH = "Invalid chat search query.";

/** Parses `q`; the only key is `archived` (true/false), and free text is not supported. */
export function parseChatSearch(q: string | undefined): { archived: boolean } {
  let archived = false;
  for (const term of (q ?? "").trim().split(/\s+/u).filter((t) => t !== "")) {
    const colon = term.indexOf(":");
    if (colon === -1) {
      throw badRequest(INVALID_SEARCH, undefined, [{ field: "q", detail: `Free-text search is not supported ("${term}"); use archived:true or archived:false.` }]);
    }
    const key = term.slice(0, colon).toLowerCase();
    const value = term.slice(colon + 1).toLowerCase();
    if (key !== "archived") throw badRequest(INVALID_SEARCH, undefined, [{ field: "q", detail: `Unknown search key "${key}"; the only key is archived.` }]);
    if (value !== "true" && value !== "false") {
      throw badRequest(INVALID_SEARCH, undefined, [{ field: "q", detail: `archived must be true or false, not "${value}".` }]);
    }
    archived = value === "true";
  }
  return { archived };
}

function parseWhole(raw: string | undefined, fallback: number, max: number, message: string): number {
  if (raw === undefined || raw === "") return fallback;
  const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value) || value > max) throw badRequest(message);
  return value;
}

export function registerChatCoreRoutes(routes: RouteRegistry, services: ApiServices, hints: ChatHints, gitsync: GitSync): void {
  const { db } = services.database;
  const common = { tags: ["Chats"], auth: "user" as const };

  routes.add({
    ...common,
    method: "post",
    path: CHATS_PATH,
    summary: "Create a chat from a first message; it starts pending",
    params: none,
    query: none,
    body: createChatRequestSchema,
    status: 201,
    response: chatSchema,
    handler: async ({ c, body }) => {
      const actor = requireActor(c);
      if (!can(actor.subject, "create", { type: "chat", ownerId: actor.user.id })) throw forbidden();
      const input = await validateContent(db, actor, body.content);
      const workspaceId = await resolveWorkspaceId(db, actor, body.workspace_id);
      const modelConfigId = await resolveModelConfigId(db, body.model_config_id, true);
      const mcpServerIds = await checkMcpServerIds(db, body.mcp_server_ids, "default_on");
      await assertUnderUsageLimit(c, db, actor.user.id);
      const sitePrompt = await readSystemPrompt(db);
      const { chat } = await createChat(db, hints, {
        ownerId: actor.user.id,
        title: fallbackTitle(input.titleSource),
        modelConfigId,
        workspaceId,
        mcpServerIds,
        messages: initialMessages({ sitePrompt, hasWorkspace: workspaceId !== null, userParts: input.parts, ownerId: actor.user.id, modelConfigId }),
      });
      return toChatResponse(chat);
    },
  });

  routes.add({
    ...common,
    method: "get",
    path: CHATS_PATH,
    summary: "List the caller's own chats, most recently updated first",
    params: none,
    query: listChatsQuery,
    body: none,
    status: 200,
    response: z.array(chatSchema),
    handler: async ({ c, query }) => {
      const actor = requireActor(c);
      const { archived } = parseChatSearch(query.q);
      const limit = parseWhole(query.limit, 0, MAX_CHAT_PAGE_SIZE, `Invalid limit parameter (0-${MAX_CHAT_PAGE_SIZE}).`) || DEFAULT_CHAT_PAGE_SIZE;
      const offset = parseWhole(query.offset, 0, Number.MAX_SAFE_INTEGER, "Invalid offset parameter.");
      // Own chats for every role (an admin reads others' chats by id, never in this list); the
      // policy filter still applies so a role without chat read would get nothing.
      const visible: SQL[] = [eq(chats.ownerId, actor.user.id), authorizedFilter(actor.subject, "read", "chat", { owner: chats.ownerId }), eq(chats.archived, archived)];
      if (query.after_id !== undefined && query.after_id !== "") {
        const cursorId = query.after_id.toLowerCase();
        if (!isUuid(cursorId)) throw badRequest("Invalid after_id parameter.", "after_id must be a chat ID.");
        const [cursor] = await db
          .select({ id: chats.id })
          .from(chats)
          .where(and(eq(chats.id, cursorId), eq(chats.ownerId, actor.user.id)))
          .limit(1);
        if (!cursor) throw badRequest("Invalid after_id parameter.", `No chat with ID ${cursorId} exists.`);
        // Compared in SQL against the stored row: timestamps keep their microseconds, which a
        // round trip through a JavaScript Date would lose (and skip or repeat rows).
        visible.push(
          sql`(${chats.updatedAt}, ${chats.id}) < (SELECT cursor_chat.updated_at, cursor_chat.id FROM chats AS cursor_chat WHERE cursor_chat.id = ${cursorId})`,
        );
      }
      const rows = await db
        .select()
        .from(chats)
        .where(and(...visible))
        .orderBy(desc(chats.updatedAt), desc(chats.id))
        .limit(limit)
        .offset(offset);
      const [diffs, costs] = await Promise.all([loadDiffStatuses(db, rows.map((row) => row.id)), treeCosts(db, rows.map((row) => row.id))]);
      return rows.map((row) => ({ ...toChatResponse(row, diffs.get(row.id)), tree_cost_micros: costs.get(row.id) ?? 0 }));
    },
  });

  routes.add({
    ...common,
    method: "get",
    path: CHAT_PATH,
    summary: "Get a chat",
    params: chatParams,
    query: none,
    body: none,
    status: 200,
    response: chatSchema,
    handler: async ({ c, params }) => {
      const chat = await loadChat(db, requireActor(c), params.chat);
      const stored = (await loadDiffStatuses(db, [chat.id])).get(chat.id);
      // Errors end in what is stored (the refresh postpones the row itself).
      await gitsync.refreshOnRead(chat, stored, AbortSignal.timeout(SYNC_DIFF_REFRESH_TIMEOUT_MS)).catch(() => undefined);
      const [diff, treeCost] = await Promise.all([
        stored ? loadDiffStatuses(db, [chat.id]).then((rows) => rows.get(chat.id)) : undefined,
        treeCostMicros(db, chat.id),
      ]);
      return { ...toChatResponse(chat, diff), tree_cost_micros: treeCost };
    },
  });

  routes.add({
    ...common,
    method: "patch",
    path: CHAT_PATH,
    summary: "Archive or unarchive a chat (archiving takes its whole tree); title is accepted and ignored",
    params: chatParams,
    query: none,
    body: updateChatRequestSchema,
    status: 204,
    handler: async ({ c, params, body }) => {
      const chat = await loadChat(db, requireActor(c), params.chat, "update");
      const archived = body.archived;
      if (archived !== undefined) await transition(() => setArchived(db, hints, chat.id, archived));
    },
  });

  routes.add({
    ...common,
    method: "post",
    path: `${CHAT_PATH}/interrupt`,
    summary: "Stop the running turn; the chat goes waiting (a pending chat is left to run)",
    params: chatParams,
    query: none,
    body: none,
    status: 200,
    response: chatSchema,
    handler: async ({ c, params }) => {
      const chat = await loadChat(db, requireActor(c), params.chat, "update");
      return toChatResponse(await transition(() => interruptChat(db, hints, chat.id)));
    },
  });
}
