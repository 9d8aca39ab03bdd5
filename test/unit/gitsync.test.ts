/** gitsync's pure parts: the review rules, the PR state, rate-limit detection, PR URLs. */
import { describe, expect, it } from "vitest";
import { parsePullRequestUrl, rateLimitRetryAt, RATE_LIMIT_PADDING_MS, type GitHubPullRequest } from "../../src/gitsync/github.js";
import { pullRequestState, summarizeReviews } from "../../src/gitsync/reviews.js";
import { githubHosts } from "../../src/gitsync/sync.js";

const review = (id: number, login: string, state: string) => ({ id, state, user: { login } });

describe("summarizeReviews", () => {
  it("takes each reviewer's latest verdict by id, logins compared lower-case", () => {
    expect(summarizeReviews([])).toEqual({ reviewerCount: 0, changesRequested: false, approved: false });
    expect(summarizeReviews([review(2, "Bob", "APPROVED"), review(1, "bob", "CHANGES_REQUESTED")])).toEqual({ reviewerCount: 1, changesRequested: false, approved: true });
    expect(summarizeReviews([review(1, "a", "APPROVED"), review(2, "b", "CHANGES_REQUESTED")])).toEqual({ reviewerCount: 2, changesRequested: true, approved: false });
    // A dismissal withdraws the verdict but the reviewer still counts; comments are not verdicts.
    expect(summarizeReviews([review(1, "a", "CHANGES_REQUESTED"), review(2, "a", "DISMISSED"), review(3, "c", "COMMENTED")])).toEqual({
      reviewerCount: 1,
      changesRequested: false,
      approved: false,
    });
  });
});

describe("pullRequestState", () => {
  const pr = (state: string, merged: boolean): GitHubPullRequest => ({
    number: 1,
    html_url: "https://github.com/a/b/pull/1",
    state,
    title: "t",
    merged,
    created_at: "2026-01-01T00:00:00Z",
    base: { ref: "main" },
    head: { ref: "x" },
  });
  it("is merged when merged, else GitHub's state lower-cased", () => {
    expect(pullRequestState(pr("closed", true))).toBe("merged");
    expect(pullRequestState(pr("CLOSED", false))).toBe("closed");
    expect(pullRequestState(pr("open", false))).toBe("open");
  });
});

describe("rateLimitRetryAt", () => {
  const now = Date.UTC(2026, 0, 1);
  it("reads Retry-After and X-RateLimit-Reset on 403/429, with 5 min padding", () => {
    expect(rateLimitRetryAt(429, new Headers({ "Retry-After": "30" }), now)?.getTime()).toBe(now + 30_000 + RATE_LIMIT_PADDING_MS);
    expect(rateLimitRetryAt(403, new Headers({ "X-RateLimit-Reset": String(now / 1000 + 60) }), now)?.getTime()).toBe(now + 60_000 + RATE_LIMIT_PADDING_MS);
    // A reset in the past never schedules before now.
    expect(rateLimitRetryAt(403, new Headers({ "X-RateLimit-Reset": "1" }), now)?.getTime()).toBe(now + RATE_LIMIT_PADDING_MS);
  });
  it("is not a rate limit for a plain 403 or other statuses", () => {
    expect(rateLimitRetryAt(403, new Headers(), now)).toBeUndefined();
    expect(rateLimitRetryAt(500, new Headers({ "Retry-After": "30" }), now)).toBeUndefined();
  });
});

describe("URLs and hosts", () => {
  it("parses PR URLs on any host", () => {
    expect(parsePullRequestUrl("https://github.com/acme/app/pull/12")).toEqual({ owner: "acme", repo: "app", number: 12 });
    expect(parsePullRequestUrl("https://ghe.example.com/acme/app/pull/3/")).toEqual({ owner: "acme", repo: "app", number: 3 });
    expect(parsePullRequestUrl("https://github.com/acme/app/tree/x")).toBeUndefined();
    expect(parsePullRequestUrl("nonsense")).toBeUndefined();
  });
  it("adds the Enterprise host the API URL names", () => {
    expect(githubHosts("https://api.github.com")).toEqual(["github.com"]);
    expect(githubHosts("https://ghe.example.com/api/v3")).toEqual(["github.com", "ghe.example.com"]);
  });
});
