/**
 * Chat usage limits (behavior.md section 7, issue 13): a spend limit per calendar period, with
 * per-user and per-group overrides, checked when a user creates a chat, sends or edits a message.
 *
 * Rules:
 * - Limits apply only while enabled (the default limit is set). Disabled, nobody is limited and
 *   overrides are kept but ignored.
 * - The most specific limit wins: the user's own override; else the HIGHEST override among the
 *   user's groups (a group grants an allowance, so belonging to one more group never lowers a
 *   budget; Coder takes the lowest, we deliberately do not); else the deployment default.
 * - Spend is the sum of `total_cost_micros` of every message (any role, soft-deleted included:
 *   the money was spent) in the user's chats created in the current UTC period [start, end).
 *   One query, served by chats(owner_id) and the partial chat_messages(chat_id, created_at)
 *   index on priced rows.
 * - Blocked when spend ≥ limit. Only the HTTP create/send/edit paths check: promotion from the
 *   queue, auto-promotion and a running chat's remaining steps are never stopped by a limit.
 *
 * Atomicity: each write is one statement (an upsert or an update of one row); readers see the
 * old or the new limit, never a mix. The check and the write it guards are not one transaction:
 * two requests racing at the limit may both pass, which costs at most one step each.
 */
import { and, count, eq, gte, isNotNull, lt, sql } from "drizzle-orm";
import type { Queryable } from "../db/client.js";
import { chatMessages, chats, chatUsageLimitConfig, groupMembers, groups, users } from "../db/schema/index.js";
import { usageLimitPeriodSchema, type ChatUsageLimitStatus, type UsageLimitPeriod } from "../sdk/schemas/cost.js";
import { periodBounds } from "./periods.js";

export interface UsageLimitSettings {
  enabled: boolean;
  defaultLimitMicros: number;
  period: UsageLimitPeriod;
  updatedAt: Date;
}

/** What a fresh deployment has before an admin sets anything (no row is seeded). */
const DISABLED: UsageLimitSettings = { enabled: false, defaultLimitMicros: 0, period: "month", updatedAt: new Date(0) };

export async function readLimitSettings(q: Queryable): Promise<UsageLimitSettings> {
  const [row] = await q.select().from(chatUsageLimitConfig).limit(1);
  if (!row) return DISABLED;
  const period = usageLimitPeriodSchema.safeParse(row.period);
  return { enabled: row.enabled, defaultLimitMicros: row.defaultLimitMicros, period: period.success ? period.data : "month", updatedAt: row.updatedAt };
}

/** `limitMicros` null disables limits (the period is kept for when they are enabled again). */
export async function writeLimitSettings(q: Queryable, input: { limitMicros: number | null; period: UsageLimitPeriod }): Promise<void> {
  const values = { enabled: input.limitMicros !== null, defaultLimitMicros: input.limitMicros ?? 0, period: input.period, updatedAt: new Date() };
  await q
    .insert(chatUsageLimitConfig)
    .values({ singleton: true, ...values })
    .onConflictDoUpdate({ target: chatUsageLimitConfig.singleton, set: values });
}

/** Sets (positive) or clears (null) a user's override; false when the user does not exist. */
export async function setUserLimit(q: Queryable, userId: string, limitMicros: number | null): Promise<boolean> {
  const updated = await q.update(users).set({ chatSpendLimitMicros: limitMicros }).where(eq(users.id, userId)).returning({ id: users.id });
  return updated.length > 0;
}

export async function setGroupLimit(q: Queryable, groupId: string, limitMicros: number | null): Promise<boolean> {
  const updated = await q.update(groups).set({ chatSpendLimitMicros: limitMicros }).where(eq(groups.id, groupId)).returning({ id: groups.id });
  return updated.length > 0;
}

export async function groupMemberCount(q: Queryable, groupId: string): Promise<number> {
  const [row] = await q.select({ members: count() }).from(groupMembers).where(eq(groupMembers.groupId, groupId));
  return row?.members ?? 0;
}

export type LimitSource = "user" | "group" | "default";

export interface EffectiveLimit {
  limitMicros: number;
  source: LimitSource;
  period: UsageLimitPeriod;
}

/** The rule in the header, in one place: user override, else highest group, else default. */
export function chooseLimit(
  settings: UsageLimitSettings,
  userLimit: number | null,
  groupLimits: readonly number[],
): EffectiveLimit | undefined {
  if (!settings.enabled) return undefined;
  if (userLimit !== null) return { limitMicros: userLimit, source: "user", period: settings.period };
  if (groupLimits.length > 0) return { limitMicros: Math.max(...groupLimits), source: "group", period: settings.period };
  return { limitMicros: settings.defaultLimitMicros, source: "default", period: settings.period };
}

/** The limit that applies to `userId` now; undefined while limits are disabled. */
export async function effectiveLimit(q: Queryable, userId: string): Promise<EffectiveLimit | undefined> {
  const settings = await readLimitSettings(q);
  if (!settings.enabled) return undefined;
  const [user] = await q.select({ limit: users.chatSpendLimitMicros }).from(users).where(eq(users.id, userId)).limit(1);
  const groupRows = await q
    .select({ limit: groups.chatSpendLimitMicros })
    .from(groupMembers)
    .innerJoin(groups, eq(groups.id, groupMembers.groupId))
    .where(and(eq(groupMembers.userId, userId), isNotNull(groups.chatSpendLimitMicros)));
  const groupLimits = groupRows.flatMap((row) => (row.limit === null ? [] : [row.limit]));
  return chooseLimit(settings, user?.limit ?? null, groupLimits);
}

/** The user's spend in [start, end): the one query of the check (see the header). */
export async function spendBetween(q: Queryable, userId: string, start: Date, end: Date): Promise<number> {
  const [row] = await q
    .select({ spent: sql<string | number | null>`sum(${chatMessages.totalCostMicros})` })
    .from(chatMessages)
    .innerJoin(chats, eq(chats.id, chatMessages.chatId))
    .where(and(eq(chats.ownerId, userId), isNotNull(chatMessages.totalCostMicros), gte(chatMessages.createdAt, start), lt(chatMessages.createdAt, end)));
  return Number(row?.spent ?? 0);
}

/** The limit that applies now, its period's bounds and what was spent in it; undefined while off. */
async function currentPeriod(q: Queryable, userId: string, now: Date): Promise<{ limit: EffectiveLimit; start: Date; end: Date; spent: number } | undefined> {
  const limit = await effectiveLimit(q, userId);
  if (!limit) return undefined;
  const bounds = periodBounds(limit.period, now);
  return { limit, ...bounds, spent: await spendBetween(q, userId, bounds.start, bounds.end) };
}

export async function usageLimitStatus(q: Queryable, userId: string, now = new Date()): Promise<ChatUsageLimitStatus> {
  const current = await currentPeriod(q, userId, now);
  if (!current) return { is_limited: false, current_spend: 0 };
  return {
    is_limited: true,
    period: current.limit.period,
    spend_limit_micros: current.limit.limitMicros,
    current_spend: current.spent,
    period_start: current.start.toISOString(),
    period_end: current.end.toISOString(),
  };
}

export interface LimitExceeded {
  spentMicros: number;
  limitMicros: number;
  resetsAt: Date;
}

/** Whether `userId` is over their limit now; undefined when under it or when limits are off. */
export async function exceededLimit(q: Queryable, userId: string, now = new Date()): Promise<LimitExceeded | undefined> {
  const current = await currentPeriod(q, userId, now);
  if (!current || current.spent < current.limit.limitMicros) return undefined;
  return { spentMicros: current.spent, limitMicros: current.limit.limitMicros, resetsAt: current.end };
}
