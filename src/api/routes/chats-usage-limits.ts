/**
 * Usage-limit settings (behavior.md section 3): the deployment default and period, per-user and
 * per-group overrides (admins: deployment_config read/update), and every user's own status.
 * Bad input answers 400 and changes nothing; the rule for which limit applies is in cost/limits.ts.
 */
import { and, asc, count, eq, isNotNull, sql } from "drizzle-orm";
import { z } from "zod";
import type { Queryable } from "../../db/client.js";
import { chatModelConfigs, groupMembers, groups, users } from "../../db/schema/index.js";
import { can, type Action } from "../../rbac/policy.js";
import { findUserByRef } from "../../users/users.js";
import { findGroupByRef } from "../../users/groups.js";
import { groupMemberCount, readLimitSettings, setGroupLimit, setUserLimit, usageLimitStatus, writeLimitSettings } from "../../cost/limits.js";
import { readStoredOptions } from "../../llm/model-options.js";
import { badRequest, forbidden } from "../errors.js";
import { requireActor, type Actor } from "../context.js";
import { none, type RouteRegistry } from "../route.js";
import type { ApiServices } from "../services.js";
import { userRefParams } from "./users.js";
import { CHATS_PATH } from "./chats-common.js";
import {
  chatUsageLimitStatusSchema,
  updateUsageLimitConfigSchema,
  usageLimitConfigSchema,
  usageLimitGroupOverrideSchema,
  usageLimitOverrideRequestSchema,
  usageLimitOverrideSchema,
  usageLimitPeriodSchema,
  type UsageLimitConfigResponse,
} from "../../sdk/schemas/cost.js";

const LIMITS_PATH = `${CHATS_PATH}/usage-limits`;
const groupRefParams = z.object({ group: z.string().min(1).max(64) });

export const SPEND_LIMIT_NOT_POSITIVE = "Spend limit must be greater than 0.";
export const OVERRIDE_NOT_FOUND = "Chat usage limit override not found.";
export const GROUP_OVERRIDE_NOT_FOUND = "Chat usage limit group override not found.";

function assertAdmin(actor: Actor, action: Extract<Action, "read" | "update">): void {
  if (!can(actor.subject, action, { type: "deployment_config" })) throw forbidden();
}

function positiveLimit(value: number): number {
  if (value <= 0) throw badRequest(SPEND_LIMIT_NOT_POSITIVE);
  return value;
}

/** Enabled model configs with no price at all: their steps never count against a limit. */
async function unpricedModelCount(q: Queryable): Promise<number> {
  const rows = await q
    .select({ options: chatModelConfigs.options })
    .from(chatModelConfigs)
    .where(and(eq(chatModelConfigs.enabled, true), eq(chatModelConfigs.deleted, false)));
  return rows.filter((row) => {
    const cost = readStoredOptions(row.options).cost;
    return !cost || Object.values(cost).every((price) => price === undefined || price === null);
  }).length;
}

async function configResponse(q: Queryable): Promise<UsageLimitConfigResponse> {
  const settings = await readLimitSettings(q);
  const overrides = await q
    .select({ user_id: users.id, username: users.username, name: users.name, spend_limit_micros: users.chatSpendLimitMicros })
    .from(users)
    .where(isNotNull(users.chatSpendLimitMicros))
    .orderBy(asc(users.username));
  const groupOverrides = await q
    .select({
      group_id: groups.id,
      group_name: groups.name,
      display_name: groups.displayName,
      spend_limit_micros: groups.chatSpendLimitMicros,
      member_count: sql<number>`(SELECT ${count()} FROM ${groupMembers} WHERE ${groupMembers.groupId} = ${groups.id})`.mapWith(Number),
    })
    .from(groups)
    .where(isNotNull(groups.chatSpendLimitMicros))
    .orderBy(asc(groups.name));
  return {
    spend_limit_micros: settings.enabled ? settings.defaultLimitMicros : null,
    period: settings.period,
    updated_at: settings.updatedAt.toISOString(),
    unpriced_model_count: await unpricedModelCount(q),
    overrides: overrides.flatMap((row) => (row.spend_limit_micros === null ? [] : [{ ...row, spend_limit_micros: row.spend_limit_micros }])),
    group_overrides: groupOverrides.flatMap((row) => (row.spend_limit_micros === null ? [] : [{ ...row, spend_limit_micros: row.spend_limit_micros }])),
  };
}

export function registerUsageLimitRoutes(routes: RouteRegistry, services: ApiServices): void {
  const { db } = services.database;
  const common = { tags: ["Usage limits"], auth: "user" as const, query: none };

  routes.add({
    ...common,
    method: "get",
    path: LIMITS_PATH,
    summary: "The usage-limit settings: default limit and period, user and group overrides (admins)",
    params: none,
    body: none,
    status: 200,
    response: usageLimitConfigSchema,
    handler: async ({ c }) => {
      assertAdmin(requireActor(c), "read");
      return configResponse(db);
    },
  });

  routes.add({
    ...common,
    method: "put",
    path: LIMITS_PATH,
    summary: "Set the default spend limit per period (null disables limits) (admins)",
    params: none,
    body: updateUsageLimitConfigSchema,
    status: 200,
    response: usageLimitConfigSchema,
    handler: async ({ c, body }) => {
      assertAdmin(requireActor(c), "update");
      const period = usageLimitPeriodSchema.safeParse(body.period ?? "month");
      if (!period.success) throw badRequest("Invalid period.", "period must be day, week or month.");
      const limit = body.spend_limit_micros ?? null;
      await writeLimitSettings(db, { limitMicros: limit === null ? null : positiveLimit(limit), period: period.data });
      return configResponse(db);
    },
  });

  routes.add({
    ...common,
    method: "get",
    path: `${LIMITS_PATH}/status`,
    summary: "The caller's own limit and spend in the current period",
    params: none,
    body: none,
    status: 200,
    response: chatUsageLimitStatusSchema,
    handler: async ({ c }) => usageLimitStatus(db, requireActor(c).user.id),
  });

  routes.add({
    ...common,
    method: "put",
    path: `${LIMITS_PATH}/overrides/:user`,
    summary: "Give one user their own spend limit, above any group's or the default (admins)",
    params: userRefParams,
    body: usageLimitOverrideRequestSchema,
    status: 200,
    response: usageLimitOverrideSchema,
    handler: async ({ c, params, body }) => {
      const actor = requireActor(c);
      assertAdmin(actor, "update");
      const limit = positiveLimit(body.spend_limit_micros);
      const user = await findUserByRef(db, params.user, actor.user);
      await setUserLimit(db, user.id, limit);
      return { user_id: user.id, username: user.username, name: user.name, spend_limit_micros: limit };
    },
  });

  routes.add({
    ...common,
    method: "delete",
    path: `${LIMITS_PATH}/overrides/:user`,
    summary: "Remove a user's own spend limit (admins)",
    params: userRefParams,
    body: none,
    status: 204,
    handler: async ({ c, params }) => {
      const actor = requireActor(c);
      assertAdmin(actor, "update");
      const user = await findUserByRef(db, params.user, actor.user).catch(() => undefined);
      if (!user || user.chatSpendLimitMicros === null) throw badRequest(OVERRIDE_NOT_FOUND);
      await setUserLimit(db, user.id, null);
    },
  });

  routes.add({
    ...common,
    method: "put",
    path: `${LIMITS_PATH}/group-overrides/:group`,
    summary: "Give a group's members a spend limit; a member of several groups gets the highest (admins)",
    params: groupRefParams,
    body: usageLimitOverrideRequestSchema,
    status: 200,
    response: usageLimitGroupOverrideSchema,
    handler: async ({ c, params, body }) => {
      assertAdmin(requireActor(c), "update");
      const limit = positiveLimit(body.spend_limit_micros);
      const group = await findGroupByRef(db, params.group);
      await setGroupLimit(db, group.id, limit);
      return { group_id: group.id, group_name: group.name, display_name: group.displayName, member_count: await groupMemberCount(db, group.id), spend_limit_micros: limit };
    },
  });

  routes.add({
    ...common,
    method: "delete",
    path: `${LIMITS_PATH}/group-overrides/:group`,
    summary: "Remove a group's spend limit (admins)",
    params: groupRefParams,
    body: none,
    status: 204,
    handler: async ({ c, params }) => {
      assertAdmin(requireActor(c), "update");
      const group = await findGroupByRef(db, params.group).catch(() => undefined);
      if (!group || group.chatSpendLimitMicros === null) throw badRequest(GROUP_OVERRIDE_NOT_FOUND);
      await setGroupLimit(db, group.id, null);
    },
  });
}
