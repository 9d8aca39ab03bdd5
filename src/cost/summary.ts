/**
 * Cost reports (behavior.md section 7): what a user's agents cost over a window, by model and by
 * chat tree; the same per user for admins; and one chat tree's total.
 *
 * Invariants:
 * - Reports read assistant messages only (the steps the model was paid for) with created_at in
 *   [start, end). Soft-deleted messages count: an edit removes them from the chat, not from the
 *   bill.
 * - A message is priced when its cost is not NULL, unpriced when its cost is NULL but it reports
 *   tokens (a model without prices, or a zero cost, which storage keeps as NULL).
 * - `by_model` joins model configs including soft-deleted ones, so deleting a config never changes
 *   history; `by_chat` groups by the tree's root (COALESCE(root_chat_id, id)), so sub-agents count
 *   toward the chat that spawned them.
 * - Each report is a fixed number of aggregate queries, whatever the number of messages.
 */
import { and, asc, desc, eq, gte, ilike, inArray, lt, or, sql, type SQL } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import type { Queryable } from "../db/client.js";
import { chatMessages, chatModelConfigs, chats, users } from "../db/schema/index.js";
import type { ChatCostSummary } from "../sdk/schemas/cost.js";

export interface CostWindow {
  start: Date;
  end: Date;
}

/** A SQL sum or count, which PostgreSQL returns as numeric/int8 text, read as a number. */
const total = (expression: SQL) => sql<string | number | null>`coalesce(${expression}, 0)`.mapWith(Number);

const hasTokens = sql`(${chatMessages.inputTokens} IS NOT NULL OR ${chatMessages.outputTokens} IS NOT NULL OR ${chatMessages.cacheReadTokens} IS NOT NULL OR ${chatMessages.cacheCreationTokens} IS NOT NULL)`;

const tokenColumns = {
  total_input_tokens: total(sql`sum(${chatMessages.inputTokens})`),
  total_output_tokens: total(sql`sum(${chatMessages.outputTokens})`),
  total_cache_read_tokens: total(sql`sum(${chatMessages.cacheReadTokens})`),
  total_cache_creation_tokens: total(sql`sum(${chatMessages.cacheCreationTokens})`),
};
const costColumn = total(sql`sum(${chatMessages.totalCostMicros})`);

function inWindow(window: CostWindow): SQL | undefined {
  return and(eq(chatMessages.role, "assistant"), gte(chatMessages.createdAt, window.start), lt(chatMessages.createdAt, window.end));
}

export async function costSummary(q: Queryable, ownerId: string, window: CostWindow): Promise<Omit<ChatCostSummary, "usage_limit">> {
  const where = and(eq(chats.ownerId, ownerId), inWindow(window));
  const [totals] = await q
    .select({
      total_cost_micros: costColumn,
      priced_message_count: total(sql`count(*) FILTER (WHERE ${chatMessages.totalCostMicros} IS NOT NULL)`),
      unpriced_message_count: total(sql`count(*) FILTER (WHERE ${chatMessages.totalCostMicros} IS NULL AND ${hasTokens})`),
      ...tokenColumns,
    })
    .from(chatMessages)
    .innerJoin(chats, eq(chats.id, chatMessages.chatId))
    .where(where);

  const byModel = await q
    .select({
      model_config_id: chatMessages.modelConfigId,
      display_name: chatModelConfigs.displayName,
      provider: chatModelConfigs.provider,
      model: chatModelConfigs.model,
      total_cost_micros: costColumn,
      message_count: total(sql`count(*) FILTER (WHERE ${hasTokens})`),
      ...tokenColumns,
    })
    .from(chatMessages)
    .innerJoin(chats, eq(chats.id, chatMessages.chatId))
    .leftJoin(chatModelConfigs, eq(chatModelConfigs.id, chatMessages.modelConfigId))
    .where(and(where, hasTokens))
    .groupBy(chatMessages.modelConfigId, chatModelConfigs.displayName, chatModelConfigs.provider, chatModelConfigs.model)
    .orderBy(desc(costColumn), asc(chatModelConfigs.model));

  const root = alias(chats, "root_chat");
  const rootId = sql<string>`coalesce(${chats.rootChatId}, ${chats.id})`;
  const byChat = await q
    .select({
      root_chat_id: rootId,
      chat_title: sql<string | null>`max(${root.title})`,
      total_cost_micros: costColumn,
      message_count: total(sql`count(*) FILTER (WHERE ${hasTokens})`),
      ...tokenColumns,
    })
    .from(chatMessages)
    .innerJoin(chats, eq(chats.id, chatMessages.chatId))
    .leftJoin(root, eq(root.id, rootId))
    .where(where)
    .groupBy(rootId)
    .orderBy(desc(costColumn), asc(rootId));

  return {
    start_date: window.start.toISOString(),
    end_date: window.end.toISOString(),
    total_cost_micros: totals?.total_cost_micros ?? 0,
    priced_message_count: totals?.priced_message_count ?? 0,
    unpriced_message_count: totals?.unpriced_message_count ?? 0,
    total_input_tokens: totals?.total_input_tokens ?? 0,
    total_output_tokens: totals?.total_output_tokens ?? 0,
    total_cache_read_tokens: totals?.total_cache_read_tokens ?? 0,
    total_cache_creation_tokens: totals?.total_cache_creation_tokens ?? 0,
    by_model: byModel.map((row) => ({
      ...row,
      // A message whose config row is gone entirely (never: configs are soft-deleted) still shows.
      display_name: row.display_name || row.model || "unknown model",
      provider: row.provider ?? "",
      model: row.model ?? "",
    })),
    by_chat: byChat.map((row) => ({ ...row, chat_title: row.chat_title ?? "" })),
  };
}

export interface CostUsersPage {
  count: number;
  users: Array<{
    user_id: string;
    username: string;
    name: string;
    total_cost_micros: number;
    message_count: number;
    chat_count: number;
    total_input_tokens: number;
    total_output_tokens: number;
    total_cache_read_tokens: number;
    total_cache_creation_tokens: number;
  }>;
}

/** `%`, `_` and `\` are LIKE wildcards; a search for "a_b" means the text, not a pattern. */
function likePattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (char) => `\\${char}`)}%`;
}

/** Per-user totals for admins: users with usage in the window, cost DESC then username. */
export async function costByUser(q: Queryable, window: CostWindow, page: { search?: string | undefined; limit: number; offset: number }): Promise<CostUsersPage> {
  const search = page.search?.trim();
  const matches = search ? or(ilike(users.username, likePattern(search)), ilike(users.name, likePattern(search))) : undefined;
  const where = and(inWindow(window), matches);
  const [counted] = await q
    .select({ users: total(sql`count(DISTINCT ${chats.ownerId})`) })
    .from(chatMessages)
    .innerJoin(chats, eq(chats.id, chatMessages.chatId))
    .innerJoin(users, eq(users.id, chats.ownerId))
    .where(where);
  const rows = await q
    .select({
      user_id: users.id,
      username: users.username,
      name: users.name,
      total_cost_micros: costColumn,
      message_count: total(sql`count(*) FILTER (WHERE ${hasTokens})`),
      chat_count: total(sql`count(DISTINCT ${chats.id})`),
      ...tokenColumns,
    })
    .from(chatMessages)
    .innerJoin(chats, eq(chats.id, chatMessages.chatId))
    .innerJoin(users, eq(users.id, chats.ownerId))
    .where(where)
    .groupBy(users.id, users.username, users.name)
    .orderBy(desc(costColumn), asc(users.username))
    .limit(page.limit)
    .offset(page.offset);
  return { count: counted?.users ?? 0, users: rows };
}

/** What a chat's tree cost so far: the chat and every chat whose root it is, all time. */
export async function treeCostMicros(q: Queryable, chatId: string): Promise<number> {
  return (await treeCosts(q, [chatId])).get(chatId) ?? 0;
}

/**
 * `treeCostMicros` for a page of chats in two grouped queries (own messages by chat, descendants'
 * by root), so a listed child and its listed root each get their own tree's total.
 */
export async function treeCosts(q: Queryable, chatIds: readonly string[]): Promise<Map<string, number>> {
  const totals = new Map<string, number>();
  if (chatIds.length === 0) return totals;
  const ids = [...chatIds];
  const own = await q
    .select({ chatId: chats.id, cost: costColumn })
    .from(chatMessages)
    .innerJoin(chats, eq(chats.id, chatMessages.chatId))
    .where(inArray(chats.id, ids))
    .groupBy(chats.id);
  const descendants = await q
    .select({ chatId: chats.rootChatId, cost: costColumn })
    .from(chatMessages)
    .innerJoin(chats, eq(chats.id, chatMessages.chatId))
    .where(inArray(chats.rootChatId, ids))
    .groupBy(chats.rootChatId);
  for (const row of [...own, ...descendants]) {
    if (row.chatId !== null) totals.set(row.chatId, (totals.get(row.chatId) ?? 0) + row.cost);
  }
  return totals;
}
