/**
 * gitsync against a fake GitHub (test/helpers/fake-github.ts): the worker finds a branch's PR,
 * follows its state and reviews, backs off on rate limits and a missing token; the diff status in
 * GET /chats/{chat} and in watch events carries the PR fields; the diff route.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq, inArray, sql } from "drizzle-orm";
import { createChat } from "../../src/chats/state.js";
import { chatDiffStatuses } from "../../src/db/schema/index.js";
import { storeGitToken } from "../../src/gitauth/tokens.js";
import { RATE_LIMIT_PADDING_MS } from "../../src/gitsync/github.js";
import { NO_TOKEN_BACKOFF_MS } from "../../src/gitsync/store.js";
import { chatFixture, recordingHints } from "../helpers/chats.js";
import { startFakeGitHub, type FakeGitHub } from "../helpers/fake-github.js";
import { field, startTestServer, type TestServer, type TestUser } from "../helpers/server.js";
import { connectStream } from "../helpers/ws.js";
import { waitFor } from "../helpers/wait.js";

const CHATS = "/api/experimental/chats";
const TOKEN = "ghp_faketoken000000000000000000000000";
const REPO = "acme/widgets";

let github: FakeGitHub;
let t: TestServer;
let owner: TestUser;
let member: TestUser;
let modelConfigId: string;
let branchCounter = 0;

beforeAll(async () => {
  github = await startFakeGitHub();
  github.tokens.add(TOKEN);
  // A 25 ms tick instead of 10 s: tests make a row stale and wait for the refresh.
  t = await startTestServer({ flags: { "github-api-url": github.url, "gitsync-interval": "25ms" } });
  owner = await t.createOwner();
  member = await t.createUser(owner);
  modelConfigId = (await chatFixture(t.server.database.db)).modelConfigId;
  await storeGitToken(t.server.database.db, t.server.services.cipher, member.id, "github", TOKEN);
});

afterAll(async () => {
  await t?.close();
  await github?.close();
});

async function chatOnBranch(ownerId: string, branch: string, origin = `https://github.com/${REPO}.git`): Promise<string> {
  const db = t.server.database.db;
  const { chat } = await createChat(db, recordingHints(), {
    ownerId,
    title: "a chat",
    modelConfigId,
    messages: [{ role: "user", parts: [{ type: "text", text: "hi" }], createdBy: ownerId }],
  });
  await db.insert(chatDiffStatuses).values({ chatId: chat.id, gitBranch: branch, gitRemoteOrigin: origin, staleAt: sql`now() - interval '1 second'` });
  return chat.id;
}

const diffRow = async (chatId: string) => {
  const [row] = await t.server.database.db.select().from(chatDiffStatuses).where(eq(chatDiffStatuses.chatId, chatId));
  if (!row) throw new Error("no diff row");
  return row;
};
const makeStale = (chatId: string) => t.server.database.db.update(chatDiffStatuses).set({ staleAt: sql`now() - interval '1 second'` }).where(eq(chatDiffStatuses.chatId, chatId));
const refreshedAfter = async (chatId: string, since: Date | null) =>
  waitFor(async () => {
    const row = await diffRow(chatId);
    return row.refreshedAt !== null && (since === null || row.refreshedAt > since);
  }, { timeoutMs: 10_000, message: "the worker refreshed the row" });

function newBranch(): string {
  branchCounter += 1;
  return `agent/feature-${branchCounter}`;
}

describe("gitsync worker", () => {
  it("finds the open PR of a branch and stores its fields, with the API's headers", async () => {
    const branch = newBranch();
    github.repo(REPO).pulls.push({ number: 101, state: "open", title: "Add widgets", head: branch, additions: 12, deletions: 3, changed_files: 2, commits: 4, author: "octo" });
    const chatId = await chatOnBranch(member.id, branch);
    await refreshedAfter(chatId, null);
    const row = await diffRow(chatId);
    expect(row).toMatchObject({
      url: `https://github.com/${REPO}/pull/101`,
      pullRequestState: "open",
      pullRequestTitle: "Add widgets",
      prNumber: 101,
      additions: 12,
      deletions: 3,
      changedFiles: 2,
      commits: 4,
      authorLogin: "octo",
      baseBranch: "main",
      headBranch: branch,
      approved: false,
      changesRequested: false,
      reviewerCount: 0,
    });
    // Looked at again after DiffStatusTTL (120 s), not before.
    expect(row.staleAt.getTime() - Date.now()).toBeGreaterThan(100_000);
    const seen = github.requests.filter((request) => request.path.startsWith(`/repos/${REPO}/pulls`));
    expect(seen.length).toBeGreaterThan(0);
    for (const request of seen) {
      expect(request.accept).toBe("application/vnd.github+json");
      expect(request.apiVersion).toBe("2022-11-28");
      expect(request.authorization).toBe(`Bearer ${TOKEN}`);
    }
    expect(github.requests.some((request) => request.path.includes(`head=${encodeURIComponent(`acme:${branch}`)}`))).toBe(true);
    // The token is never logged.
    expect(t.logs.some((line) => line.includes(TOKEN))).toBe(false);

    const chat = await t.request(`${CHATS}/${chatId}`, { token: member.token });
    expect(field(chat.body, "diff_status")).toMatchObject({ pull_request_state: "open", pr_number: 101, additions: 12, url: `https://github.com/${REPO}/pull/101` });
  });

  it("follows merged, closed and draft states, and reviews from changes requested to approved", async () => {
    const branch = newBranch();
    const pull = { number: 102, state: "open" as const, title: "Draft work", draft: true, head: branch, merged: false };
    github.repo(REPO).pulls.push(pull);
    const chatId = await chatOnBranch(member.id, branch);
    await refreshedAfter(chatId, null);
    expect(await diffRow(chatId)).toMatchObject({ pullRequestDraft: true, pullRequestState: "open" });

    github.repo(REPO).reviews.set(102, [
      { id: 1, login: "Alice", state: "APPROVED" },
      { id: 2, login: "bob", state: "CHANGES_REQUESTED" },
      { id: 3, login: "carol", state: "COMMENTED" },
    ]);
    let since = (await diffRow(chatId)).refreshedAt;
    await makeStale(chatId);
    await refreshedAfter(chatId, since);
    expect(await diffRow(chatId)).toMatchObject({ changesRequested: true, approved: false, reviewerCount: 2 });

    // bob's later review approves (and alice's login case does not make her two reviewers).
    github.repo(REPO).reviews.get(102)?.push({ id: 4, login: "BOB", state: "APPROVED" }, { id: 5, login: "alice", state: "APPROVED" });
    pull.draft = false;
    since = (await diffRow(chatId)).refreshedAt;
    await makeStale(chatId);
    await refreshedAfter(chatId, since);
    expect(await diffRow(chatId)).toMatchObject({ changesRequested: false, approved: true, reviewerCount: 2, pullRequestDraft: false });

    Object.assign(pull, { state: "closed", merged: true, merged_at: "2026-02-01T00:00:00Z", closed_at: "2026-02-01T00:00:00Z" });
    since = (await diffRow(chatId)).refreshedAt;
    await makeStale(chatId);
    await refreshedAfter(chatId, since);
    const merged = await diffRow(chatId);
    expect(merged.pullRequestState).toBe("merged");
    expect(merged.prMergedAt?.toISOString()).toBe("2026-02-01T00:00:00.000Z");

    Object.assign(pull, { merged: false, merged_at: null });
    since = merged.refreshedAt;
    await makeStale(chatId);
    await refreshedAfter(chatId, since);
    expect((await diffRow(chatId)).pullRequestState).toBe("closed");
  });

  it("backs off on a rate limit until GitHub's reset plus padding, then recovers", async () => {
    const branch = newBranch();
    github.repo(REPO).pulls.push({ number: 103, state: "open", title: "Limited", head: branch });
    github.rateLimitNext(1, "retry-after");
    const limitedAt = Date.now();
    const chatId = await chatOnBranch(member.id, branch);
    await waitFor(async () => (await diffRow(chatId)).staleAt.getTime() > limitedAt + 60_000 + RATE_LIMIT_PADDING_MS - 5_000, {
      timeoutMs: 10_000,
      message: "the row was postponed past Retry-After + padding",
    });
    expect((await diffRow(chatId)).refreshedAt).toBeNull();
    // The reset has passed (time moved on): the next tick refreshes it.
    await makeStale(chatId);
    await refreshedAfter(chatId, null);

    github.rateLimitNext(1, "reset");
    const since = (await diffRow(chatId)).refreshedAt;
    const resetAt = Date.now();
    await makeStale(chatId);
    await waitFor(async () => (await diffRow(chatId)).staleAt.getTime() > resetAt + 120_000 + RATE_LIMIT_PADDING_MS - 5_000, {
      timeoutMs: 10_000,
      message: "X-RateLimit-Reset postponed the row",
    });
    expect((await diffRow(chatId)).refreshedAt).toEqual(since);
  });

  it("a rate limit stops the rest of its group: every row of that owner and origin waits", async () => {
    const db = t.server.database.db;
    const branches = [newBranch(), newBranch(), newBranch()];
    branches.forEach((branch, i) => github.repo(REPO).pulls.push({ number: 120 + i, state: "open", title: `Grouped ${i}`, head: branch }));
    const chatIds: string[] = [];
    for (const branch of branches) {
      const chatId = await chatOnBranch(member.id, branch);
      // Parked until all three exist, so one tick claims them together.
      await db.update(chatDiffStatuses).set({ staleAt: sql`now() + interval '1 hour'` }).where(eq(chatDiffStatuses.chatId, chatId));
      chatIds.push(chatId);
    }
    const requestsBefore = github.requests.length;
    github.rateLimitNext(1, "retry-after");
    // The other rows' lookups answer after the rate limit, so the group has heard it by then.
    github.answerDelayMs = 100;
    const limitedAt = Date.now();
    await db.update(chatDiffStatuses).set({ staleAt: sql`now() - interval '1 second'` }).where(inArray(chatDiffStatuses.chatId, chatIds));
    await waitFor(
      async () => {
        const rows = await db.select().from(chatDiffStatuses).where(inArray(chatDiffStatuses.chatId, chatIds));
        return rows.every((row) => row.staleAt.getTime() > limitedAt + 60_000 + RATE_LIMIT_PADDING_MS - 5_000);
      },
      { timeoutMs: 10_000, message: "the whole group waits for the reset" },
    );
    github.answerDelayMs = 0;
    const rows = await db.select().from(chatDiffStatuses).where(inArray(chatDiffStatuses.chatId, chatIds));
    expect(rows.every((row) => row.refreshedAt === null)).toBe(true);
    // At most the requests already in flight when the limit hit: no PR was read.
    expect(github.requests.slice(requestsBefore).filter((request) => /\/pulls\/12\d/.test(request.path))).toHaveLength(0);
  });

  it("backs off 10 minutes when the owner has no token", async () => {
    const tokenless = await t.createUser(owner);
    const branch = newBranch();
    const before = Date.now();
    const chatId = await chatOnBranch(tokenless.id, branch);
    await waitFor(async () => (await diffRow(chatId)).staleAt.getTime() > before + NO_TOKEN_BACKOFF_MS - 10_000, { timeoutMs: 10_000, message: "no-token back-off" });
    expect((await diffRow(chatId)).refreshedAt).toBeNull();
  });

  it("announces the new fields in diff_status_change watch events", async () => {
    const watch = await connectStream(`${t.url}${CHATS}/watch`, member.token);
    try {
      const branch = newBranch();
      github.repo(REPO).pulls.push({ number: 104, state: "open", title: "Watched", head: branch, additions: 7 });
      const chatId = await chatOnBranch(member.id, branch);
      const events = await watch.waitForEvents(
        (all) => all.some((event) => field(event, "kind") === "diff_status_change" && field(field(field(event, "chat"), "diff_status"), "pr_number") === 104),
        "a diff_status_change with the PR",
      );
      const event = events.find((candidate) => field(field(field(candidate, "chat"), "diff_status"), "pr_number") === 104);
      expect(field(field(event, "chat"), "diff_status")).toMatchObject({ chat_id: chatId, pull_request_state: "open", pull_request_title: "Watched", additions: 7 });
    } finally {
      watch.close();
    }
  });

  it("GET /chats/{chat} picks up a newly opened PR at once", async () => {
    const branch = newBranch();
    const chatId = await chatOnBranch(member.id, branch);
    // No PR yet: the worker skips the row (postponed by the TTL).
    await waitFor(async () => (await diffRow(chatId)).staleAt.getTime() > Date.now() + 60_000, { timeoutMs: 10_000, message: "skipped without a PR" });
    github.repo(REPO).pulls.push({ number: 105, state: "open", title: "Opened later", head: branch });
    const chat = await t.request(`${CHATS}/${chatId}`, { token: member.token });
    expect(chat.status).toBe(200);
    expect(field(chat.body, "diff_status")).toMatchObject({ pr_number: 105, pull_request_title: "Opened later", url: `https://github.com/${REPO}/pull/105` });
    expect(typeof field(chat.body, "tree_cost_micros")).toBe("number");
  });
});

describe("GET /chats/{chat}/diff", () => {
  it("returns the PR's diff, the branch's compare diff, and refuses diffs over 4 MiB", async () => {
    const prBranch = newBranch();
    github.repo(REPO).pulls.push({ number: 110, state: "open", title: "Diffed", head: prBranch, diff: "diff --git a/x b/x\n+pr line\n" });
    const prChat = await chatOnBranch(member.id, prBranch);
    await refreshedAfter(prChat, null);
    const pr = await t.request(`${CHATS}/${prChat}/diff`, { token: member.token });
    expect(pr.status).toBe(200);
    expect(pr.body).toEqual({
      chat_id: prChat,
      provider: "github",
      remote_origin: `https://github.com/${REPO}`,
      branch: prBranch,
      pull_request_url: `https://github.com/${REPO}/pull/110`,
      diff: "diff --git a/x b/x\n+pr line\n",
    });
    const diffRequest = github.requests.filter((request) => request.path === `/repos/${REPO}/pulls/110` && request.accept === "application/vnd.github.diff");
    expect(diffRequest.length).toBe(1);

    const branch = newBranch();
    github.repo(REPO).compares.set(`main...${branch}`, "diff --git a/y b/y\n+branch line\n");
    const branchChat = await chatOnBranch(member.id, branch, `git@github.com:${REPO}.git`);
    const compare = await t.request(`${CHATS}/${branchChat}/diff`, { token: member.token });
    expect(compare.status).toBe(200);
    expect(compare.body).toMatchObject({ provider: "github", remote_origin: `https://github.com/${REPO}`, branch, diff: "diff --git a/y b/y\n+branch line\n" });
    expect(field(compare.body, "pull_request_url")).toBeUndefined();

    const huge = newBranch();
    github.repo(REPO).compares.set(`main...${huge}`, "+".repeat(4 * 1024 * 1024 + 1));
    const hugeChat = await chatOnBranch(member.id, huge);
    const refused = await t.request(`${CHATS}/${hugeChat}/diff`, { token: member.token });
    expect(refused.status).toBe(500);
    expect(String(field(refused.body, "message"))).toContain("4 MiB");
  });

  it("answers only the chat id without a diff status", async () => {
    const db = t.server.database.db;
    const { chat } = await createChat(db, recordingHints(), {
      ownerId: member.id,
      title: "no git",
      modelConfigId,
      messages: [{ role: "user", parts: [{ type: "text", text: "hi" }], createdBy: member.id }],
    });
    const response = await t.request(`${CHATS}/${chat.id}/diff`, { token: member.token });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ chat_id: chat.id });
  });
});
