/**
 * The refresh pipeline (behavior.md section 8), shared by the background worker and by
 * GET /chats/{chat}: claimed rows are grouped by (owner, origin) so the owner's token is resolved
 * once per group, GitHub is called with at most 10 requests in flight, and each row ends either
 * refreshed (TTL 120 s) or postponed (120 s; 10 min without a token; GitHub's reset on a rate
 * limit, which also stops the rest of its group).
 */
import type { Database } from "../db/client.js";
import type { ChatHints } from "../chats/hints.js";
import type { Logger } from "../observability/logger.js";
import type { SecretCipher } from "../secrets/cipher.js";
import { githubRepository } from "../gitauth/diff-view.js";
import { openGitToken } from "../gitauth/tokens.js";
import { GitHubClient, GitHubRateLimitError, parsePullRequestUrl, type Repository } from "./github.js";
import { pullRequestColumns } from "./reviews.js";
import { DIFF_STATUS_TTL_MS, NO_TOKEN_BACKOFF_MS, claimStaleRows, postpone, postponeUntil, recordPullRequestUrl, writeRefreshed, type ClaimedRow } from "./store.js";
import { Semaphore } from "./semaphore.js";

/** behavior.md: at most 10 GitHub requests in flight per replica, to stay polite to the API. */
export const HTTP_CONCURRENCY = 10;
/** behavior.md: one tick claims at most 50 rows. */
export const BATCH_SIZE = 50;

export class NoTokenError extends Error {
  constructor() {
    super("The chat's owner has no GitHub token linked.");
    this.name = "NoTokenError";
  }
}

export interface GitSyncDeps {
  db: Database;
  cipher: SecretCipher;
  hints: ChatHints;
  log: Logger;
  /** GitHub's REST API (https://api.github.com, or an Enterprise host's /api/v3). */
  apiBaseUrl: string;
}

export interface TickResult {
  claimed: number;
  refreshed: number;
}

/** Hosts whose origins are GitHub's: github.com, plus the Enterprise host the API URL names. */
export function githubHosts(apiBaseUrl: string): string[] {
  const host = new URL(apiBaseUrl).hostname.toLowerCase();
  return host === "api.github.com" ? ["github.com"] : ["github.com", host];
}

export class GitSync {
  readonly #http = new Semaphore(HTTP_CONCURRENCY);
  readonly #hosts: string[];

  constructor(private readonly deps: GitSyncDeps) {
    this.#hosts = githubHosts(deps.apiBaseUrl);
  }

  /** `{owner, repo}` of a GitHub origin, or undefined for another host. */
  repository(origin: string): Repository | undefined {
    const full = githubRepository(origin, this.#hosts);
    const [owner, repo] = full?.split("/") ?? [];
    return owner && repo ? { owner, repo } : undefined;
  }

  /** A client with the owner's token; `NoTokenError` when they linked none. */
  async client(ownerId: string, signal?: AbortSignal): Promise<GitHubClient> {
    const token = await openGitToken(this.deps.db, this.deps.cipher, ownerId, "github");
    if (!token) throw new NoTokenError();
    return new GitHubClient(this.deps.apiBaseUrl, token, signal);
  }

  /** One worker tick: claim, refresh, postpone what failed. */
  async tick(signal?: AbortSignal, batchSize = BATCH_SIZE): Promise<TickResult> {
    const rows = await claimStaleRows(this.deps.db, batchSize);
    const refreshed = await this.refreshRows(rows, signal);
    return { claimed: rows.length, refreshed };
  }

  /** Refreshes claimed rows, grouped by owner and origin; returns how many were refreshed. */
  async refreshRows(rows: readonly ClaimedRow[], signal?: AbortSignal): Promise<number> {
    const groups = new Map<string, ClaimedRow[]>();
    for (const row of rows) {
      const key = `${row.ownerId}\u0000${row.gitRemoteOrigin}`;
      groups.set(key, [...(groups.get(key) ?? []), row]);
    }
    const counts = await Promise.all([...groups.values()].map((group) => this.#refreshGroup(group, signal)));
    return counts.reduce((sum, count) => sum + count, 0);
  }

  async #refreshGroup(group: readonly ClaimedRow[], signal?: AbortSignal): Promise<number> {
    const { db, log } = this.deps;
    const first = group[0];
    if (!first) return 0;
    const ids = group.map((row) => row.chatId);
    const repo = this.repository(first.gitRemoteOrigin);
    if (!repo) {
      // Not a GitHub origin: nothing to look up; looked at again after the TTL like any row.
      await postpone(db, ids, DIFF_STATUS_TTL_MS);
      return 0;
    }
    let client: GitHubClient;
    try {
      client = await this.client(first.ownerId, signal);
    } catch (error) {
      await postpone(db, ids, error instanceof NoTokenError ? NO_TOKEN_BACKOFF_MS : DIFF_STATUS_TTL_MS);
      return 0;
    }
    let rateLimit: GitHubRateLimitError | undefined;
    const outcomes = await Promise.all(
      group.map(async (row) => {
        if (rateLimit) return "limited";
        try {
          return (await this.#refreshRow(client, repo, row, () => rateLimit !== undefined)) ? "refreshed" : "postpone";
        } catch (error) {
          if (error instanceof GitHubRateLimitError) {
            rateLimit ??= error;
            return "limited";
          }
          log.warn({ chat_id: row.chatId, err: error instanceof Error ? error.message : String(error) }, "gitsync: refreshing a diff status failed");
          return "postpone";
        }
      }),
    );
    const postponed = group.filter((_, i) => outcomes[i] === "postpone").map((row) => row.chatId);
    const limited = group.filter((_, i) => outcomes[i] === "limited").map((row) => row.chatId);
    await postpone(db, postponed, DIFF_STATUS_TTL_MS);
    if (rateLimit) {
      log.warn({ owner_id: first.ownerId, retry_at: rateLimit.retryAt.toISOString(), rows: limited.length }, "gitsync: GitHub rate limit; backing off");
      await postponeUntil(db, limited, rateLimit.retryAt);
    }
    return outcomes.filter((outcome) => outcome === "refreshed").length;
  }

  /** True when refreshed; false when the branch has no open PR (skipped, postponed by the caller). */
  async #refreshRow(client: GitHubClient, repo: Repository, row: ClaimedRow, stopped: () => boolean): Promise<boolean> {
    const call = <T>(fn: () => Promise<T>): Promise<T> =>
      this.#http.run(async () => {
        // A rate limit elsewhere in the group: do not spend more of the same token's budget.
        if (stopped()) throw new GitHubRateLimitError(new Date(), 429);
        return fn();
      });
    let target = row.url ? parsePullRequestUrl(row.url) : undefined;
    if (!target) {
      const url = await call(() => client.openPullRequestUrl(repo, row.gitBranch));
      target = url ? parsePullRequestUrl(url) : undefined;
      if (!target) return false;
    }
    const pr = target;
    const [pull, reviews] = await Promise.all([call(() => client.pullRequest(pr, pr.number)), call(() => client.reviews(pr, pr.number))]);
    await writeRefreshed(this.deps.db, this.deps.hints, row, pullRequestColumns(pull, reviews));
    return true;
  }

  /**
   * GET /chats/{chat} (behavior.md section 8, "GET chat"): with a token, look up the branch's open
   * PR (a PR opened since the last refresh shows at once); a changed URL makes the row stale; a
   * stale row is then refreshed here, through the same claim as the worker so two refreshes of
   * one row never overlap. Failures push the row out by the TTL; the caller reads what is stored.
   */
  async refreshOnRead(chat: { id: string; ownerId: string }, row: { url: string | null; gitBranch: string; gitRemoteOrigin: string } | undefined, signal: AbortSignal): Promise<void> {
    if (!row || row.gitBranch === "" || row.gitRemoteOrigin === "") return;
    const repo = this.repository(row.gitRemoteOrigin);
    if (!repo) return;
    let client: GitHubClient;
    try {
      client = await this.client(chat.ownerId, signal);
    } catch {
      return;
    }
    try {
      const url = await this.#http.run(() => client.openPullRequestUrl(repo, row.gitBranch));
      if (url && url !== row.url) await recordPullRequestUrl(this.deps.db, this.deps.hints, chat.id, chat.ownerId, url);
    } catch (error) {
      this.deps.log.debug({ chat_id: chat.id, err: error instanceof Error ? error.message : String(error) }, "gitsync: open PR lookup failed");
      return;
    }
    const claimed = await claimStaleRows(this.deps.db, 1, chat.id);
    if (claimed.length > 0) await this.refreshRows(claimed, signal);
  }
}
