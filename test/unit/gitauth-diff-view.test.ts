import { describe, expect, it } from "vitest";
import { githubRepository, toDiffStatus } from "../../src/gitauth/diff-view.js";
import { providerForUrl } from "../../src/gitauth/tokens.js";

describe("githubRepository", () => {
  it.each([
    ["https://github.com/acme/app.git", "acme/app"],
    ["https://github.com/acme/app", "acme/app"],
    ["https://x-access-token@github.com/acme/app/", "acme/app"],
    ["git@github.com:acme/app.git", "acme/app"],
    ["ssh://git@github.com/acme/my.app.git", "acme/my.app"],
    ["https://gitlab.com/acme/app.git", undefined],
    ["/var/tmp/origin.git", undefined],
    ["https://github.com/acme", undefined],
    ["not a url", undefined],
  ])("%s → %s", (origin, repository) => {
    expect(githubRepository(origin)).toBe(repository);
  });
});

describe("toDiffStatus", () => {
  const base = {
    chatId: "00000000-0000-4000-8000-000000000001",
    url: null,
    gitBranch: "feature/x",
    gitRemoteOrigin: "git@github.com:acme/app.git",
    staleAt: new Date("2026-01-01T00:00:00Z"),
    refreshedAt: null,
    createdAt: new Date(0),
    updatedAt: new Date(0),
    pullRequestState: null,
    pullRequestTitle: "",
    pullRequestDraft: false,
    prNumber: null,
    changesRequested: false,
    approved: null,
    reviewerCount: null,
    additions: 0,
    deletions: 0,
    changedFiles: 0,
    commits: null,
    authorLogin: null,
    authorAvatarUrl: null,
    baseBranch: null,
    headBranch: null,
    prCreatedAt: null,
    prMergedAt: null,
    prClosedAt: null,
  };

  it("is just the chat id when nothing is recorded", () => {
    expect(toDiffStatus(base.chatId, undefined)).toEqual({ chat_id: base.chatId });
  });

  it("points at the branch on GitHub until a pull request URL is stored", () => {
    expect(toDiffStatus(base.chatId, base)).toEqual({
      chat_id: base.chatId,
      url: "https://github.com/acme/app/tree/feature/x",
      // The PR fields gitsync fills, at their defaults until a pull request is found.
      pull_request_state: null,
      pull_request_title: "",
      pull_request_draft: false,
      pr_number: null,
      changes_requested: false,
      approved: null,
      reviewer_count: null,
      additions: 0,
      deletions: 0,
      changed_files: 0,
      commits: null,
      author_login: null,
      author_avatar_url: null,
      base_branch: null,
      head_branch: null,
      refreshed_at: null,
      stale_at: "2026-01-01T00:00:00.000Z",
    });
    expect(toDiffStatus(base.chatId, { ...base, url: "https://github.com/acme/app/pull/7" }).url).toBe("https://github.com/acme/app/pull/7");
    expect(toDiffStatus(base.chatId, { ...base, gitRemoteOrigin: "/srv/git/app.git" }).url).toBeUndefined();
  });
});

describe("providerForUrl", () => {
  it("answers GitHub's token for GitHub hosts only", () => {
    expect(providerForUrl("https://github.com")).toBe("github");
    expect(providerForUrl("https://GitHub.com/acme/app.git")).toBe("github");
    expect(providerForUrl("https://github.example.com", ["github.example.com"])).toBe("github");
    expect(providerForUrl("https://github.com.evil.example")).toBeUndefined();
    expect(providerForUrl("garbage")).toBeUndefined();
  });
});
