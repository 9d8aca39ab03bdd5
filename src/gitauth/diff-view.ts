/**
 * The API view of a chat's diff status (behavior.md section 8; the shape is ChatDiffStatus in
 * sdk/schemas/chats.ts): `{chat_id}` alone when nothing is known; once git askpass recorded a
 * branch and origin, the URL to look at (the stored pull request, else the branch on GitHub) and
 * the refresh times. gitsync fills in the pull request fields (src/gitsync/).
 */
import { inArray } from "drizzle-orm";
import type { Queryable } from "../db/client.js";
import { chatDiffStatuses } from "../db/schema/index.js";
import { PULL_REQUEST_STATES, type ChatDiffStatus } from "../sdk/schemas/chats.js";

export type DiffStatusRow = typeof chatDiffStatuses.$inferSelect;

/** `owner/repo` of a GitHub remote in any of git's URL forms, or undefined for other hosts. */
export function githubRepository(origin: string, hosts: readonly string[] = ["github.com"]): string | undefined {
  const trimmed = origin.trim();
  const scp = /^[\w.-]+@([^:/]+):(.+)$/.exec(trimmed);
  let host: string;
  let repoPath: string;
  if (scp?.[1] && scp[2]) {
    host = scp[1];
    repoPath = scp[2];
  } else {
    try {
      const url = new URL(trimmed);
      host = url.hostname;
      repoPath = url.pathname;
    } catch {
      return undefined;
    }
  }
  if (!hosts.some((candidate) => candidate.toLowerCase() === host.toLowerCase())) return undefined;
  const match = /^\/?([\w.-]+)\/([\w.-]+?)(?:\.git)?\/?$/.exec(repoPath);
  return match?.[1] && match[2] ? `${match[1]}/${match[2]}` : undefined;
}

export function toDiffStatus(chatId: string, row: DiffStatusRow | undefined): ChatDiffStatus {
  if (!row) return { chat_id: chatId };
  const repository = row.gitRemoteOrigin ? githubRepository(row.gitRemoteOrigin) : undefined;
  const url = row.url ?? (repository && row.gitBranch ? `https://github.com/${repository}/tree/${row.gitBranch}` : undefined);
  return {
    chat_id: chatId,
    ...(url ? { url } : {}),
    pull_request_state: PULL_REQUEST_STATES.find((state) => state === row.pullRequestState) ?? null,
    pull_request_title: row.pullRequestTitle,
    pull_request_draft: row.pullRequestDraft,
    pr_number: row.prNumber,
    changes_requested: row.changesRequested,
    approved: row.approved,
    reviewer_count: row.reviewerCount,
    additions: row.additions,
    deletions: row.deletions,
    changed_files: row.changedFiles,
    commits: row.commits,
    author_login: row.authorLogin,
    author_avatar_url: row.authorAvatarUrl,
    base_branch: row.baseBranch,
    head_branch: row.headBranch,
    refreshed_at: row.refreshedAt?.toISOString() ?? null,
    stale_at: row.staleAt.toISOString(),
  };
}

export async function loadDiffStatuses(q: Queryable, chatIds: readonly string[]): Promise<Map<string, DiffStatusRow>> {
  if (chatIds.length === 0) return new Map();
  const rows = await q.select().from(chatDiffStatuses).where(inArray(chatDiffStatuses.chatId, [...chatIds]));
  return new Map(rows.map((row) => [row.chatId, row]));
}
