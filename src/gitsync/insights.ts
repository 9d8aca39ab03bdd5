/**
 * PR insights (behavior.md section 3, `GET /chats/insights/pull-requests`): what the agents'
 * pull requests came to over a window, from chat_diff_statuses joined to chats, with each PR's
 * cost taken from its chat tree's messages (COALESCE(root_chat_id, id)).
 *
 * Definitions (the numbers the tests check by hand):
 * - A window's PRs are those with pr_created_at in [start, end) (the cohort). `total_prs_merged`
 *   counts the cohort's PRs now merged; `merge_rate` = merged / created; `approval_rate` =
 *   approved / created; additions and deletions are the cohort's sums.
 * - Cost is a chat tree's whole spend (all time: what it took to make the PR). A tree with two
 *   PRs is counted once in totals. `cost_per_merged_pr_micros` = the spend of the trees with a
 *   merged PR / merged PRs, rounded down.
 * - The preceding window has the same length and ends at `start`.
 * - `time_series` has one entry per UTC day touching the window: PRs opened, merged and closed
 *   (closed without merging) that day, whenever they were opened.
 * - `by_model` groups the cohort by the chat's last model; `recent_prs` is the cohort's 20 newest.
 * One query reads every PR the answer needs; the rest is arithmetic over those rows.
 */
import { sql } from "drizzle-orm";
import { z } from "zod";
import type { Queryable } from "../db/client.js";
import { queryRows } from "../db/raw.js";
import type { CostWindow } from "../cost/summary.js";
import { PULL_REQUEST_STATES } from "../sdk/schemas/chats.js";
import type { PrInsightsResponse, PrTotals } from "../sdk/schemas/pull-requests.js";

/** behavior.md: the 20 most recent PRs. */
export const RECENT_PR_LIMIT = 20;
const DAY_MS = 86_400_000;

const dateish = z.union([z.date(), z.string()]).transform((value) => new Date(value));
const numeric = z.union([z.number(), z.string()]).transform(Number);

const prRowSchema = z.object({
  chat_id: z.string(),
  chat_title: z.string(),
  root_id: z.string(),
  url: z.string().nullable(),
  pr_number: z.number().nullable(),
  pull_request_title: z.string(),
  pull_request_state: z.enum(PULL_REQUEST_STATES),
  pull_request_draft: z.boolean(),
  additions: z.number(),
  deletions: z.number(),
  changed_files: z.number(),
  approved: z.boolean().nullable(),
  changes_requested: z.boolean(),
  reviewer_count: z.number().nullable(),
  author_login: z.string().nullable(),
  author_avatar_url: z.string().nullable(),
  base_branch: z.string().nullable(),
  head_branch: z.string().nullable(),
  pr_created_at: dateish,
  pr_merged_at: dateish.nullable(),
  pr_closed_at: dateish.nullable(),
  model_config_id: z.string().nullable(),
  display_name: z.string().nullable(),
  provider: z.string().nullable(),
  model: z.string().nullable(),
  cost_micros: numeric,
});
type PrRow = z.infer<typeof prRowSchema>;

async function readPullRequests(q: Queryable, from: Date, to: Date): Promise<PrRow[]> {
  const rows = await queryRows(
    q,
    sql`
      WITH prs AS (
        SELECT s.*, c.title AS chat_title, c.last_model_config_id AS model_config_id, COALESCE(c.root_chat_id, c.id) AS root_id
        FROM chat_diff_statuses s JOIN chats c ON c.id = s.chat_id
        WHERE s.pr_number IS NOT NULL AND s.pull_request_state IS NOT NULL AND s.pr_created_at IS NOT NULL
          AND (s.pr_created_at >= ${from.toISOString()}::timestamptz AND s.pr_created_at < ${to.toISOString()}::timestamptz
            OR s.pr_merged_at >= ${from.toISOString()}::timestamptz AND s.pr_merged_at < ${to.toISOString()}::timestamptz
            OR s.pr_closed_at >= ${from.toISOString()}::timestamptz AND s.pr_closed_at < ${to.toISOString()}::timestamptz)
      ), tree_cost AS (
        SELECT COALESCE(c.root_chat_id, c.id) AS root_id, SUM(m.total_cost_micros) AS cost
        FROM chat_messages m JOIN chats c ON c.id = m.chat_id
        WHERE COALESCE(c.root_chat_id, c.id) IN (SELECT root_id FROM prs)
        GROUP BY 1
      )
      SELECT prs.chat_id, prs.chat_title, prs.root_id, prs.url, prs.pr_number, prs.pull_request_title, prs.pull_request_state,
        prs.pull_request_draft, prs.additions, prs.deletions, prs.changed_files, prs.approved, prs.changes_requested,
        prs.reviewer_count, prs.author_login, prs.author_avatar_url, prs.base_branch, prs.head_branch, prs.pr_created_at,
        prs.pr_merged_at, prs.pr_closed_at, prs.model_config_id, mc.display_name, mc.provider, mc.model,
        COALESCE(tree_cost.cost, 0) AS cost_micros
      FROM prs
      LEFT JOIN tree_cost ON tree_cost.root_id = prs.root_id
      LEFT JOIN chat_model_configs mc ON mc.id = prs.model_config_id`,
  );
  return z.array(prRowSchema).parse(rows);
}

const within = (date: Date | null, window: CostWindow) => date !== null && date >= window.start && date < window.end;
const ratio = (part: number, whole: number) => (whole === 0 ? 0 : part / whole);

/** Spend of the distinct trees behind `rows` (a tree with two PRs counts once). */
function treeSpend(rows: readonly PrRow[]): number {
  const byRoot = new Map<string, number>();
  for (const row of rows) byRoot.set(row.root_id, row.cost_micros);
  return [...byRoot.values()].reduce((sum, cost) => sum + cost, 0);
}

function totals(cohort: readonly PrRow[]): PrTotals {
  const merged = cohort.filter((row) => row.pull_request_state === "merged");
  return {
    total_prs_created: cohort.length,
    total_prs_merged: merged.length,
    merge_rate: ratio(merged.length, cohort.length),
    total_additions: cohort.reduce((sum, row) => sum + row.additions, 0),
    total_deletions: cohort.reduce((sum, row) => sum + row.deletions, 0),
    total_cost_micros: treeSpend(cohort),
    cost_per_merged_pr_micros: merged.length === 0 ? 0 : Math.floor(treeSpend(merged) / merged.length),
    approval_rate: ratio(cohort.filter((row) => row.approved === true).length, cohort.length),
  };
}

const dayKey = (date: Date) => date.toISOString().slice(0, 10);

function timeSeries(rows: readonly PrRow[], window: CostWindow): PrInsightsResponse["time_series"] {
  const days = new Map<string, { date: string; prs_created: number; prs_merged: number; prs_closed: number }>();
  const first = Date.UTC(window.start.getUTCFullYear(), window.start.getUTCMonth(), window.start.getUTCDate());
  for (let day = first; day < window.end.getTime(); day += DAY_MS) {
    const date = dayKey(new Date(day));
    days.set(date, { date, prs_created: 0, prs_merged: 0, prs_closed: 0 });
  }
  const bump = (date: Date | null, field: "prs_created" | "prs_merged" | "prs_closed") => {
    const entry = date && within(date, window) ? days.get(dayKey(date)) : undefined;
    if (entry) entry[field] += 1;
  };
  for (const row of rows) {
    bump(row.pr_created_at, "prs_created");
    if (row.pull_request_state === "merged") bump(row.pr_merged_at, "prs_merged");
    else if (row.pull_request_state === "closed") bump(row.pr_closed_at, "prs_closed");
  }
  return [...days.values()];
}

function byModel(cohort: readonly PrRow[]): PrInsightsResponse["by_model"] {
  const groups = new Map<string, PrRow[]>();
  for (const row of cohort) groups.set(row.model_config_id ?? "", [...(groups.get(row.model_config_id ?? "") ?? []), row]);
  return [...groups.values()]
    .map((rows) => {
      const sample = rows[0];
      const t = totals(rows);
      return {
        model_config_id: sample?.model_config_id ?? null,
        display_name: sample?.display_name || sample?.model || "Unknown model",
        provider: sample?.provider ?? "",
        model: sample?.model ?? "",
        total_prs: t.total_prs_created,
        merged_prs: t.total_prs_merged,
        merge_rate: t.merge_rate,
        total_additions: t.total_additions,
        total_deletions: t.total_deletions,
        total_cost_micros: t.total_cost_micros,
        cost_per_merged_pr_micros: t.cost_per_merged_pr_micros,
      };
    })
    .sort((a, b) => b.total_prs - a.total_prs || b.total_cost_micros - a.total_cost_micros || a.display_name.localeCompare(b.display_name));
}

export async function pullRequestInsights(q: Queryable, window: CostWindow): Promise<PrInsightsResponse> {
  const length = window.end.getTime() - window.start.getTime();
  const previous: CostWindow = { start: new Date(window.start.getTime() - length), end: window.start };
  const rows = await readPullRequests(q, previous.start, window.end);
  const cohort = rows.filter((row) => within(row.pr_created_at, window));
  const now = totals(cohort);
  const before = totals(rows.filter((row) => within(row.pr_created_at, previous)));
  const recent = [...cohort].sort((a, b) => b.pr_created_at.getTime() - a.pr_created_at.getTime() || a.chat_id.localeCompare(b.chat_id)).slice(0, RECENT_PR_LIMIT);
  return {
    start_date: window.start.toISOString(),
    end_date: window.end.toISOString(),
    summary: {
      ...now,
      prev_total_prs_created: before.total_prs_created,
      prev_total_prs_merged: before.total_prs_merged,
      prev_merge_rate: before.merge_rate,
      prev_total_additions: before.total_additions,
      prev_total_deletions: before.total_deletions,
      prev_total_cost_micros: before.total_cost_micros,
      prev_cost_per_merged_pr_micros: before.cost_per_merged_pr_micros,
      prev_approval_rate: before.approval_rate,
    },
    time_series: timeSeries(rows, window),
    by_model: byModel(cohort),
    recent_prs: recent.map((row) => ({
      chat_id: row.chat_id,
      chat_title: row.chat_title,
      pr_url: row.url,
      pr_number: row.pr_number,
      pr_title: row.pull_request_title,
      state: row.pull_request_state,
      draft: row.pull_request_draft,
      additions: row.additions,
      deletions: row.deletions,
      changed_files: row.changed_files,
      approved: row.approved,
      changes_requested: row.changes_requested,
      reviewer_count: row.reviewer_count,
      author_login: row.author_login,
      author_avatar_url: row.author_avatar_url,
      base_branch: row.base_branch,
      head_branch: row.head_branch,
      model_display_name: row.display_name ?? row.model,
      cost_micros: row.cost_micros,
      created_at: row.pr_created_at.toISOString(),
      merged_at: row.pr_merged_at?.toISOString() ?? null,
      closed_at: row.pr_closed_at?.toISOString() ?? null,
    })),
  };
}
