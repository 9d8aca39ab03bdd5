/**
 * From GitHub's answers to the diff-status columns (behavior.md section 8, "Reviews"). Pure, so
 * the rules are unit-testable without a server.
 */
import type { GitHubPullRequest, GitHubReview } from "./github.js";

/** The review states that express a reviewer's verdict; COMMENTED and PENDING do not. */
const VERDICTS = new Set(["APPROVED", "CHANGES_REQUESTED", "DISMISSED"]);

export interface ReviewSummary {
  reviewerCount: number;
  changesRequested: boolean;
  approved: boolean;
}

/**
 * Per reviewer (login compared lower-case), the latest verdict by review id: a later approval
 * replaces an earlier request for changes, and a dismissal withdraws either.
 */
export function summarizeReviews(reviews: readonly GitHubReview[]): ReviewSummary {
  const latest = new Map<string, { id: number; state: string }>();
  for (const review of reviews) {
    const state = review.state.toUpperCase();
    const login = review.user?.login.toLowerCase();
    if (!login || !VERDICTS.has(state)) continue;
    const previous = latest.get(login);
    if (!previous || review.id > previous.id) latest.set(login, { id: review.id, state });
  }
  const states = [...latest.values()].map((entry) => entry.state);
  const changesRequested = states.includes("CHANGES_REQUESTED");
  return { reviewerCount: latest.size, changesRequested, approved: states.includes("APPROVED") && !changesRequested };
}

/** `merged` when merged, else GitHub's state lower-cased (`open`, `closed`). */
export function pullRequestState(pr: GitHubPullRequest): string {
  return pr.merged === true || (pr.merged_at !== null && pr.merged_at !== undefined) ? "merged" : pr.state.toLowerCase();
}

const dateOrNull = (text: string | null | undefined) => (text ? new Date(text) : null);

/** Every column a refresh writes, from the PR and its reviews. */
export function pullRequestColumns(pr: GitHubPullRequest, reviews: readonly GitHubReview[]) {
  const summary = summarizeReviews(reviews);
  return {
    url: pr.html_url,
    pullRequestState: pullRequestState(pr),
    pullRequestTitle: pr.title,
    pullRequestDraft: pr.draft ?? false,
    prNumber: pr.number,
    changesRequested: summary.changesRequested,
    approved: summary.approved,
    reviewerCount: summary.reviewerCount,
    additions: pr.additions ?? 0,
    deletions: pr.deletions ?? 0,
    changedFiles: pr.changed_files ?? 0,
    commits: pr.commits ?? null,
    authorLogin: pr.user?.login ?? null,
    authorAvatarUrl: pr.user?.avatar_url ?? null,
    baseBranch: pr.base.ref,
    headBranch: pr.head.ref,
    prCreatedAt: dateOrNull(pr.created_at),
    prMergedAt: dateOrNull(pr.merged_at),
    prClosedAt: dateOrNull(pr.closed_at),
  };
}
export type PullRequestColumns = ReturnType<typeof pullRequestColumns>;
