/**
 * Cost reports and usage limits on the wire (behavior.md sections 3 and 7). Money is always an
 * integer count of micro-dollars (1 USD = 1,000,000); token counts are integers.
 */
import { z } from "zod";

const timestamp = z.iso.datetime({ offset: true });
const micros = z.number().int();
const count = z.number().int().nonnegative();

export const USAGE_LIMIT_PERIODS = ["day", "week", "month"] as const;
export type UsageLimitPeriod = (typeof USAGE_LIMIT_PERIODS)[number];
export const usageLimitPeriodSchema = z.enum(USAGE_LIMIT_PERIODS);

/** Token totals shared by every cost row. */
const tokenTotals = {
  total_input_tokens: count,
  total_output_tokens: count,
  total_cache_read_tokens: count,
  total_cache_creation_tokens: count,
};

export const chatUsageLimitStatusSchema = z
  .object({
    is_limited: z.boolean(),
    period: usageLimitPeriodSchema.optional(),
    spend_limit_micros: micros.optional(),
    current_spend: micros,
    period_start: timestamp.optional(),
    period_end: timestamp.optional(),
  })
  .meta({ id: "ChatUsageLimitStatus" });
export type ChatUsageLimitStatus = z.infer<typeof chatUsageLimitStatusSchema>;

export const chatCostModelBreakdownSchema = z
  .object({
    model_config_id: z.uuid().nullable(),
    display_name: z.string(),
    provider: z.string(),
    model: z.string(),
    total_cost_micros: micros,
    message_count: count,
    ...tokenTotals,
  })
  .meta({ id: "ChatCostModelBreakdown" });

export const chatCostChatBreakdownSchema = z
  .object({
    /** The tree's root: a root chat's sub-agents count toward it. */
    root_chat_id: z.uuid(),
    chat_title: z.string(),
    total_cost_micros: micros,
    message_count: count,
    ...tokenTotals,
  })
  .meta({ id: "ChatCostChatBreakdown" });

export const chatCostSummarySchema = z
  .object({
    start_date: timestamp,
    end_date: timestamp,
    total_cost_micros: micros,
    priced_message_count: count,
    unpriced_message_count: count,
    ...tokenTotals,
    by_model: z.array(chatCostModelBreakdownSchema),
    by_chat: z.array(chatCostChatBreakdownSchema),
    usage_limit: chatUsageLimitStatusSchema.optional(),
  })
  .meta({ id: "ChatCostSummary" });
export type ChatCostSummary = z.infer<typeof chatCostSummarySchema>;

export const chatCostUserRollupSchema = z
  .object({
    user_id: z.uuid(),
    username: z.string(),
    name: z.string(),
    total_cost_micros: micros,
    message_count: count,
    chat_count: count,
    ...tokenTotals,
  })
  .meta({ id: "ChatCostUserRollup" });

export const chatCostUsersResponseSchema = z
  .object({
    start_date: timestamp,
    end_date: timestamp,
    /** Users with usage in the window that match the search, across all pages. */
    count,
    users: z.array(chatCostUserRollupSchema),
  })
  .meta({ id: "ChatCostUsersResponse" });

/** Query of both cost routes: RFC 3339 bounds, the window is [start_date, end_date). */
export const costWindowQuerySchema = z.strictObject({
  start_date: z.string().max(64).optional(),
  end_date: z.string().max(64).optional(),
});
export const costUsersQuerySchema = costWindowQuerySchema.extend({
  username: z.string().max(256).optional(),
  limit: z.string().max(16).optional(),
  offset: z.string().max(16).optional(),
});

export const usageLimitOverrideSchema = z
  .object({
    user_id: z.uuid(),
    username: z.string(),
    name: z.string(),
    spend_limit_micros: micros,
  })
  .meta({ id: "ChatUsageLimitOverride" });

export const usageLimitGroupOverrideSchema = z
  .object({
    group_id: z.uuid(),
    group_name: z.string(),
    display_name: z.string(),
    /** Members of the group. */
    member_count: count,
    spend_limit_micros: micros,
  })
  .meta({ id: "ChatUsageLimitGroupOverride" });

export const usageLimitConfigSchema = z
  .object({
    /** null: limits are disabled. */
    spend_limit_micros: micros.nullable(),
    period: usageLimitPeriodSchema,
    updated_at: timestamp,
    /** Enabled model configs without any price: their use is not counted against limits. */
    unpriced_model_count: count,
    overrides: z.array(usageLimitOverrideSchema),
    group_overrides: z.array(usageLimitGroupOverrideSchema),
  })
  .meta({ id: "ChatUsageLimitConfig" });
export type UsageLimitConfigResponse = z.infer<typeof usageLimitConfigSchema>;

/** Big enough for any real budget, small enough to stay an exact integer in JSON and bigint. */
export const MAX_SPEND_LIMIT_MICROS = Number.MAX_SAFE_INTEGER;

export const updateUsageLimitConfigSchema = z.strictObject({
  /** null or absent disables limits; otherwise > 0. */
  spend_limit_micros: z.number().int().max(MAX_SPEND_LIMIT_MICROS).nullable().optional(),
  period: z.string().max(16).optional(),
});

export const usageLimitOverrideRequestSchema = z.strictObject({
  spend_limit_micros: z.number().int().max(MAX_SPEND_LIMIT_MICROS),
});

/** The 409 body of a create, send or edit refused for the usage limit. */
export const usageLimitExceededSchema = z
  .object({
    message: z.literal("Chat usage limit exceeded."),
    spent_micros: micros,
    limit_micros: micros,
    resets_at: timestamp,
  })
  .meta({ id: "ChatUsageLimitExceeded" });
export type UsageLimitExceeded = z.infer<typeof usageLimitExceededSchema>;
