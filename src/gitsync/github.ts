/**
 * The GitHub REST client gitsync and the diff route use (behavior.md section 8). Every JSON answer
 * is parsed with zod, so a changed or hostile API cannot put an unexpected shape in the database.
 * Rate limits become a `GitHubRateLimitError` carrying when to try again; other failures a
 * `GitHubError` whose message holds at most a bounded slice of the body and never the token.
 */
import { z } from "zod";
import { safeJson } from "../util/parse.js";

/** github.com's REST API; Enterprise servers answer at https://HOST/api/v3 (--github-api-url). */
export const DEFAULT_GITHUB_API_URL = "https://api.github.com";
/** behavior.md: the JSON media type GitHub documents for the REST API. */
const JSON_MEDIA_TYPE = "application/vnd.github+json";
/** behavior.md: diffs are asked for with GitHub's diff media type. */
const DIFF_MEDIA_TYPE = "application/vnd.github.diff";
/** behavior.md: the API version the field shapes below were written against. */
const API_VERSION = "2022-11-28";
/** behavior.md: retrying right at the reset instant tends to hit the limit again; wait 5 min more. */
export const RATE_LIMIT_PADDING_MS = 5 * 60_000;
/** behavior.md: error bodies are read up to 8192 bytes, enough for GitHub's message, no more. */
export const MAX_ERROR_BODY_BYTES = 8192;
/** behavior.md: diffs over 4 MiB are refused rather than held in memory and sent to a browser. */
export const MAX_DIFF_BYTES = 4 * 1024 * 1024;
/** When GitHub says "rate limited" with no usable time, back off this long (plus the padding). */
const DEFAULT_RATE_LIMIT_WAIT_MS = 60_000;

export class GitHubError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = "GitHubError";
  }
}

/** GitHub refused for rate limiting; nothing for this token should be tried before `retryAt`. */
export class GitHubRateLimitError extends GitHubError {
  constructor(
    readonly retryAt: Date,
    status: number,
  ) {
    super(`GitHub rate limit reached; retrying after ${retryAt.toISOString()}`, status);
    this.name = "GitHubRateLimitError";
  }
}

export class DiffTooLargeError extends GitHubError {
  constructor() {
    super(`The diff is larger than ${MAX_DIFF_BYTES / (1024 * 1024)} MiB.`);
    this.name = "DiffTooLargeError";
  }
}

const userSchema = z.object({ login: z.string(), avatar_url: z.string().optional() }).nullable();

export const pullRequestSchema = z.object({
  number: z.number().int(),
  html_url: z.string(),
  state: z.string(),
  title: z.string(),
  draft: z.boolean().optional(),
  merged: z.boolean().optional(),
  merged_at: z.string().nullable().optional(),
  closed_at: z.string().nullable().optional(),
  created_at: z.string(),
  additions: z.number().int().optional(),
  deletions: z.number().int().optional(),
  changed_files: z.number().int().optional(),
  commits: z.number().int().optional(),
  user: userSchema.optional(),
  base: z.object({ ref: z.string() }),
  head: z.object({ ref: z.string() }),
});
export type GitHubPullRequest = z.infer<typeof pullRequestSchema>;

const pullListSchema = z.array(z.object({ number: z.number().int(), html_url: z.string() }));
export const reviewSchema = z.object({ id: z.number().int(), state: z.string(), user: userSchema.optional() });
export type GitHubReview = z.infer<typeof reviewSchema>;
const repositorySchema = z.object({ default_branch: z.string() });

export interface Repository {
  owner: string;
  repo: string;
}

/** When a 403/429 is a rate limit, the instant to retry at (with padding); otherwise undefined. */
export function rateLimitRetryAt(status: number, headers: Headers, now = Date.now()): Date | undefined {
  if (status !== 403 && status !== 429) return undefined;
  const retryAfter = headers.get("retry-after");
  const reset = headers.get("x-ratelimit-reset");
  const remaining = headers.get("x-ratelimit-remaining");
  let waitUntil: number | undefined;
  if (retryAfter !== null && /^\d+$/.test(retryAfter.trim())) waitUntil = now + Number(retryAfter) * 1000;
  else if (reset !== null && /^\d+$/.test(reset.trim())) waitUntil = Number(reset) * 1000;
  else if (status === 429 || remaining === "0") waitUntil = now + DEFAULT_RATE_LIMIT_WAIT_MS;
  // A plain 403 (no access) is not a rate limit.
  if (waitUntil === undefined) return undefined;
  return new Date(Math.max(waitUntil, now) + RATE_LIMIT_PADDING_MS);
}

/** Reads at most `limit` bytes of a body; `undefined` when it is longer (the rest is cancelled). */
async function readBounded(response: Response, limit: number): Promise<Buffer | undefined> {
  if (!response.body) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let size = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(Buffer.from(value));
  }
  return Buffer.concat(chunks);
}

export class GitHubClient {
  readonly #baseUrl: string;

  constructor(
    baseUrl: string,
    private readonly token: string,
    private readonly signal?: AbortSignal,
  ) {
    this.#baseUrl = baseUrl.replace(/\/+$/, "");
  }

  async #request(path: string, accept: string): Promise<Response> {
    const response = await fetch(`${this.#baseUrl}${path}`, {
      headers: { Accept: accept, "X-GitHub-Api-Version": API_VERSION, Authorization: `Bearer ${this.token}`, "User-Agent": "chatd-gitsync" },
      ...(this.signal ? { signal: this.signal } : {}),
    });
    if (response.ok) return response;
    const retryAt = rateLimitRetryAt(response.status, response.headers);
    const body = await readBounded(response, MAX_ERROR_BODY_BYTES).catch(() => undefined);
    if (retryAt) throw new GitHubRateLimitError(retryAt, response.status);
    const message = body ? z.object({ message: z.string() }).safeParse(safeJson(body.toString("utf8"))) : undefined;
    // The path names only owner, repo and numbers; the token is in a header and never echoed.
    throw new GitHubError(`GitHub ${path.split("?")[0]} answered ${response.status}${message?.success ? `: ${message.data.message.slice(0, 200)}` : ""}`, response.status);
  }

  async #json<T>(path: string, schema: z.ZodType<T>): Promise<T> {
    const response = await this.#request(path, JSON_MEDIA_TYPE);
    const parsed = schema.safeParse(await response.json().catch(() => undefined));
    if (!parsed.success) throw new GitHubError(`GitHub ${path.split("?")[0]} answered an unexpected shape`);
    return parsed.data;
  }

  async #diff(path: string): Promise<string> {
    const response = await this.#request(path, DIFF_MEDIA_TYPE);
    const declared = Number(response.headers.get("content-length") ?? "0");
    if (declared > MAX_DIFF_BYTES) {
      await response.body?.cancel().catch(() => undefined);
      throw new DiffTooLargeError();
    }
    const body = await readBounded(response, MAX_DIFF_BYTES);
    if (!body) throw new DiffTooLargeError();
    return body.toString("utf8");
  }

  /** The most recently updated open PR whose head is `branch` in the repository itself. */
  async openPullRequestUrl(repo: Repository, branch: string): Promise<string | undefined> {
    const head = encodeURIComponent(`${repo.owner}:${branch}`);
    const list = await this.#json(`${repoPath(repo)}/pulls?state=open&head=${head}&sort=updated&direction=desc&per_page=1`, pullListSchema);
    return list[0]?.html_url;
  }

  pullRequest(repo: Repository, number: number): Promise<GitHubPullRequest> {
    return this.#json(`${repoPath(repo)}/pulls/${number}`, pullRequestSchema);
  }

  /** One page of 100 (behavior.md): PRs with more reviews than that are rare and judged on these. */
  reviews(repo: Repository, number: number): Promise<GitHubReview[]> {
    return this.#json(`${repoPath(repo)}/pulls/${number}/reviews?per_page=100`, z.array(reviewSchema));
  }

  pullRequestDiff(repo: Repository, number: number): Promise<string> {
    return this.#diff(`${repoPath(repo)}/pulls/${number}`);
  }

  async defaultBranch(repo: Repository): Promise<string> {
    return (await this.#json(repoPath(repo), repositorySchema)).default_branch;
  }

  compareDiff(repo: Repository, base: string, head: string): Promise<string> {
    return this.#diff(`${repoPath(repo)}/compare/${encodeURIComponent(base)}...${encodeURIComponent(head)}`);
  }
}

function repoPath(repo: Repository): string {
  return `/repos/${encodeURIComponent(repo.owner)}/${encodeURIComponent(repo.repo)}`;
}

/** Owner, repo and number of a pull request's web URL (github.com or an Enterprise host). */
export function parsePullRequestUrl(url: string): (Repository & { number: number }) | undefined {
  let pathname: string;
  try {
    pathname = new URL(url).pathname;
  } catch {
    return undefined;
  }
  const match = /^\/([\w.-]+)\/([\w.-]+)\/pull\/(\d+)\/?$/.exec(pathname);
  if (!match?.[1] || !match[2] || !match[3]) return undefined;
  return { owner: match[1], repo: match[2], number: Number(match[3]) };
}
