/**
 * The chat's diff (behavior.md section 8, "GET diff"): the PR's diff when one is known, else the
 * branch compared with the repository's default branch, fetched with the owner's token. Diffs
 * over 4 MiB are refused by the client (DiffTooLargeError).
 */
import type { Database } from "../db/client.js";
import { loadDiffStatuses } from "../gitauth/diff-view.js";
import type { ChatDiffContents } from "../sdk/schemas/pull-requests.js";
import { parsePullRequestUrl } from "./github.js";
import type { GitSync } from "./sync.js";

/** The host of a git origin in URL or scp (`git@host:owner/repo`) form. */
function originHost(origin: string): string | undefined {
  const scp = /^[\w.-]+@([^:/]+):/.exec(origin.trim());
  if (scp?.[1]) return scp[1];
  try {
    return new URL(origin.trim()).hostname;
  } catch {
    return undefined;
  }
}

/** Throws NoTokenError when a diff is needed and the owner linked no token. */
export async function chatDiff(db: Database, sync: GitSync, chat: { id: string; ownerId: string }, signal?: AbortSignal): Promise<ChatDiffContents> {
  const row = (await loadDiffStatuses(db, [chat.id])).get(chat.id);
  if (!row) return { chat_id: chat.id };
  const repo = sync.repository(row.gitRemoteOrigin);
  const host = originHost(row.gitRemoteOrigin);
  const result: ChatDiffContents = {
    chat_id: chat.id,
    ...(repo && host ? { provider: "github", remote_origin: `https://${host}/${repo.owner}/${repo.repo}` } : row.gitRemoteOrigin ? { remote_origin: row.gitRemoteOrigin } : {}),
    ...(row.gitBranch ? { branch: row.gitBranch } : {}),
    ...(row.url ? { pull_request_url: row.url } : {}),
  };
  if (!repo) return result;
  const pr = row.url ? parsePullRequestUrl(row.url) : undefined;
  if (!pr && !row.gitBranch) return result;
  const client = await sync.client(chat.ownerId, signal);
  if (pr) return { ...result, diff: await client.pullRequestDiff(pr, pr.number) };
  const base = await client.defaultBranch(repo);
  return { ...result, diff: await client.compareDiff(repo, base, row.gitBranch) };
}
