/**
 * The chat diff and PR insights on the wire (behavior.md sections 3 and 8). Money is integer
 * micro-dollars; rates are fractions from 0 to 1 (0 when there is nothing to divide by).
 */
import { z } from "zod";
import { PULL_REQUEST_STATES } from "./chats.js";

const timestamp = z.iso.datetime({ offset: true });
const count = z.number().int().nonnegative();
const micros = z.number().int();
const rate = z.number().min(0).max(1);

export const chatDiffContentsSchema = z
  .object({
    chat_id: z.uuid(),
    /** The external-auth type that serves the origin (only `github`). */
    provider: z.string().optional(),
    /** The origin as `https://host/owner/repo`, whatever form git used. */
    remote_origin: z.string().optional(),
    branch: z.string().optional(),
    pull_request_url: z.string().optional(),
    /** A unified diff: the PR's, else the branch compared with the default branch. */
    diff: z.string().optional(),
  })
  .meta({ id: "ChatDiffContents" });
export type ChatDiffContents = z.infer<typeof chatDiffContentsSchema>;

const totals = {
  total_prs_created: count,
  total_prs_merged: count,
  merge_rate: rate,
  total_additions: count,
  total_deletions: count,
  total_cost_micros: micros,
  cost_per_merged_pr_micros: micros,
  approval_rate: rate,
};

export const prInsightsSummarySchema = z.object({
  ...totals,
  prev_total_prs_created: count,
  prev_total_prs_merged: count,
  prev_merge_rate: rate,
  prev_total_additions: count,
  prev_total_deletions: count,
  prev_total_cost_micros: micros,
  prev_cost_per_merged_pr_micros: micros,
  prev_approval_rate: rate,
});
export type PrInsightsSummary = z.infer<typeof prInsightsSummarySchema>;
export type PrTotals = { [K in keyof typeof totals]: number };

export const prInsightsDaySchema = z.object({ date: z.iso.date(), prs_created: count, prs_merged: count, prs_closed: count });

export const prInsightsModelSchema = z.object({
  model_config_id: z.uuid().nullable(),
  display_name: z.string(),
  provider: z.string(),
  model: z.string(),
  total_prs: count,
  merged_prs: count,
  merge_rate: rate,
  total_additions: count,
  total_deletions: count,
  total_cost_micros: micros,
  cost_per_merged_pr_micros: micros,
});

export const prInsightsPullRequestSchema = z.object({
  chat_id: z.uuid(),
  chat_title: z.string(),
  pr_url: z.string().nullable(),
  pr_number: z.number().int().nullable(),
  pr_title: z.string(),
  state: z.enum(PULL_REQUEST_STATES),
  draft: z.boolean(),
  additions: count,
  deletions: count,
  changed_files: count,
  approved: z.boolean().nullable(),
  changes_requested: z.boolean(),
  reviewer_count: z.number().int().nullable(),
  author_login: z.string().nullable(),
  author_avatar_url: z.string().nullable(),
  base_branch: z.string().nullable(),
  head_branch: z.string().nullable(),
  model_display_name: z.string().nullable(),
  cost_micros: micros,
  created_at: timestamp,
  merged_at: timestamp.nullable(),
  closed_at: timestamp.nullable(),
});

export const prInsightsResponseSchema = z
  .object({
    start_date: timestamp,
    end_date: timestamp,
    summary: prInsightsSummarySchema,
    time_series: z.array(prInsightsDaySchema),
    by_model: z.array(prInsightsModelSchema),
    recent_prs: z.array(prInsightsPullRequestSchema).max(20),
  })
  .meta({ id: "PrInsightsResponse" });
export type PrInsightsResponse = z.infer<typeof prInsightsResponseSchema>;
