/**
 * Cost reports (behavior.md sections 3 and 7): a user's summary, the admin's per-user rollup.
 * The window is [start_date, end_date) in RFC 3339, by default the last 30 days; an unknown query
 * parameter is a 400 rather than silently ignored (a typo would otherwise report the wrong window).
 */
import { can } from "../../rbac/policy.js";
import { findUserByRef } from "../../users/users.js";
import { costByUser, costSummary, type CostWindow } from "../../cost/summary.js";
import { usageLimitStatus } from "../../cost/limits.js";
import { badRequest, forbidden, notFound } from "../errors.js";
import { requireActor } from "../context.js";
import { none, type RouteRegistry } from "../route.js";
import type { ApiServices } from "../services.js";
import { userRefParams } from "./users.js";
import { CHATS_PATH } from "./chats-common.js";
import {
  chatCostSummarySchema,
  chatCostUsersResponseSchema,
  costUsersQuerySchema,
  costWindowQuerySchema,
} from "../../sdk/schemas/cost.js";

/** behavior.md: the default window is the last 30 days. */
const DEFAULT_WINDOW_MS = 30 * 86_400_000;
/** behavior.md: the rollup's default page size. */
const DEFAULT_USERS_PAGE = 10;
/** One page of the admin table; a bigger ask is refused, not cut. */
const MAX_USERS_PAGE = 100;

function parseDate(raw: string | undefined, name: string): Date | undefined {
  if (raw === undefined || raw === "") return undefined;
  // RFC 3339 needs a time and an offset; Date.parse alone would take "2026" or "May 1".
  const date = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i.test(raw) ? new Date(raw) : new Date(Number.NaN);
  if (Number.isNaN(date.getTime())) throw badRequest(`Invalid ${name}.`, `${name} must be an RFC 3339 timestamp such as 2026-03-01T00:00:00Z.`);
  return date;
}

export function costWindow(query: { start_date?: string | undefined; end_date?: string | undefined }, now = new Date()): CostWindow {
  const end = parseDate(query.end_date, "end_date") ?? now;
  const start = parseDate(query.start_date, "start_date") ?? new Date(end.getTime() - DEFAULT_WINDOW_MS);
  if (start.getTime() >= end.getTime()) throw badRequest("Invalid date range.", "start_date must be before end_date.");
  return { start, end };
}

function parseCount(raw: string | undefined, fallback: number, max: number, name: string): number {
  if (raw === undefined || raw === "") return fallback;
  const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value) || value > max) throw badRequest(`Invalid ${name} parameter.`, `${name} must be an integer from 0 to ${max}.`);
  return value;
}

export function registerChatCostRoutes(routes: RouteRegistry, services: ApiServices): void {
  const { db } = services.database;
  const common = { tags: ["Cost"], auth: "user" as const, body: none, status: 200 as const };

  routes.add({
    ...common,
    method: "get",
    path: `${CHATS_PATH}/cost/users`,
    summary: "Per-user chat cost over a window, most expensive first (admins)",
    params: none,
    query: costUsersQuerySchema,
    response: chatCostUsersResponseSchema,
    handler: async ({ c, query }) => {
      const actor = requireActor(c);
      // Site-wide chat read: only a grant on every chat covers an object with no owner.
      if (!can(actor.subject, "read", { type: "chat" })) throw forbidden();
      const window = costWindow(query);
      const limit = parseCount(query.limit, DEFAULT_USERS_PAGE, MAX_USERS_PAGE, "limit");
      const offset = parseCount(query.offset, 0, Number.MAX_SAFE_INTEGER, "offset");
      const page = await costByUser(db, window, { search: query.username, limit, offset });
      return { start_date: window.start.toISOString(), end_date: window.end.toISOString(), ...page };
    },
  });

  routes.add({
    ...common,
    method: "get",
    path: `${CHATS_PATH}/cost/:user/summary`,
    summary: "What a user's chats cost over a window: totals, by model, by chat tree",
    params: userRefParams,
    query: costWindowQuerySchema,
    response: chatCostSummarySchema,
    handler: async ({ c, params, query }) => {
      const actor = requireActor(c);
      const window = costWindow(query);
      const target = await findUserByRef(db, params.user, actor.user);
      if (target.id !== actor.user.id) {
        // A member cannot see that another user exists (404, as the user routes); a role that can
        // read users but not their chats gets a 403.
        if (!can(actor.subject, "read", { type: "user", ownerId: target.id })) throw notFound("User not found.");
        if (!can(actor.subject, "read", { type: "chat", ownerId: target.id })) throw forbidden();
      }
      const [summary, limit] = await Promise.all([costSummary(db, target.id, window), usageLimitStatus(db, target.id)]);
      // usage_limit only while limits are on (behavior.md section 7).
      return limit.is_limited ? { ...summary, usage_limit: limit } : summary;
    },
  });
}
