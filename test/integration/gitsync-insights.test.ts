/**
 * GET /chats/insights/pull-requests on a seeded data set, checked against numbers worked out by
 * hand (see the comments by each expectation), and refused to members.
 *
 * Window [2026-03-01, 2026-03-04) (3 days), so the preceding one is [2026-02-26, 2026-03-01).
 *   PR1 chat c1 (Alpha) opened 03-01 10:00, merged 03-02 12:00, +10 −2, approved; tree cost
 *       1,000 (c1) + 500 (its sub-agent) = 1,500
 *   PR2 chat c2 (Alpha) opened 03-02 09:00, open, +5 −5, not approved; cost 300
 *   PR3 chat c3 (Beta)  opened 03-03 20:00, closed 03-03 22:00, +1 −0; no messages, cost 0
 *   PR4 chat c4 (Beta)  opened 02-27 (preceding window), merged 03-01 05:00, +100 −50, approved; 2,000
 *   PR5 chat c5 (Beta)  opened 03-05 (after the window): never counted
 *   c6: a diff status without a PR: never counted
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chatDiffStatuses, chatMessages, chatModelConfigs, chatProviders, chats } from "../../src/db/schema/index.js";
import { startTestServer, type TestServer, type TestUser } from "../helpers/server.js";

let t: TestServer;
let admin: TestUser;
let member: TestUser;
const ids: Record<string, string> = {};

beforeAll(async () => {
  t = await startTestServer();
  admin = await t.createOwner();
  member = await t.createUser(admin);
  const db = t.server.database.db;
  await db.insert(chatProviders).values({ provider: "anthropic" }).onConflictDoNothing();
  const [alpha] = await db.insert(chatModelConfigs).values({ provider: "anthropic", model: "alpha-1", displayName: "Alpha", contextLimit: 1000 }).returning();
  const [beta] = await db.insert(chatModelConfigs).values({ provider: "anthropic", model: "beta-1", displayName: "Beta", contextLimit: 1000 }).returning();
  if (!alpha || !beta) throw new Error("seed failed");
  const chat = async (name: string, model: string, rootChatId: string | null = null) => {
    const [row] = await db.insert(chats).values({ ownerId: member.id, title: name, lastModelConfigId: model, parentChatId: rootChatId, rootChatId }).returning();
    if (!row) throw new Error("seed failed");
    ids[name] = row.id;
    return row.id;
  };
  const spend = (chatId: string, micros: number) => db.insert(chatMessages).values({ chatId, role: "assistant", contentVersion: 1, totalCostMicros: micros });
  const c1 = await chat("c1", alpha.id);
  const c1a = await chat("c1a", alpha.id, c1);
  const c2 = await chat("c2", alpha.id);
  const c3 = await chat("c3", beta.id);
  const c4 = await chat("c4", beta.id);
  const c5 = await chat("c5", beta.id);
  const c6 = await chat("c6", beta.id);
  await spend(c1, 600);
  await spend(c1, 400);
  await spend(c1a, 500);
  await spend(c2, 300);
  await spend(c4, 2000);
  await spend(c5, 99_999);
  const pr = (chatId: string, number: number, fields: Partial<typeof chatDiffStatuses.$inferInsert>) =>
    db.insert(chatDiffStatuses).values({
      chatId,
      gitBranch: `b${number}`,
      gitRemoteOrigin: "https://github.com/acme/app",
      url: `https://github.com/acme/app/pull/${number}`,
      prNumber: number,
      pullRequestTitle: `PR ${number}`,
      ...fields,
    });
  const at = (text: string) => new Date(text);
  await pr(c1, 1, { pullRequestState: "merged", prCreatedAt: at("2026-03-01T10:00:00Z"), prMergedAt: at("2026-03-02T12:00:00Z"), prClosedAt: at("2026-03-02T12:00:00Z"), additions: 10, deletions: 2, approved: true });
  await pr(c2, 2, { pullRequestState: "open", prCreatedAt: at("2026-03-02T09:00:00Z"), additions: 5, deletions: 5, approved: false });
  await pr(c3, 3, { pullRequestState: "closed", prCreatedAt: at("2026-03-03T20:00:00Z"), prClosedAt: at("2026-03-03T22:00:00Z"), additions: 1, deletions: 0 });
  await pr(c4, 4, { pullRequestState: "merged", prCreatedAt: at("2026-02-27T00:00:00Z"), prMergedAt: at("2026-03-01T05:00:00Z"), prClosedAt: at("2026-03-01T05:00:00Z"), additions: 100, deletions: 50, approved: true });
  await pr(c5, 5, { pullRequestState: "open", prCreatedAt: at("2026-03-05T00:00:00Z"), additions: 1000 });
  await db.insert(chatDiffStatuses).values({ chatId: c6, gitBranch: "nopr", gitRemoteOrigin: "https://github.com/acme/app" });
});

afterAll(async () => {
  await t?.close();
});

const PATH = "/api/experimental/chats/insights/pull-requests?start_date=2026-03-01T00:00:00Z&end_date=2026-03-04T00:00:00Z";

describe("PR insights", () => {
  it("is refused to members", async () => {
    expect((await t.request(PATH, { token: member.token })).status).toBe(403);
  });

  it("matches the hand-computed numbers", async () => {
    const response = await t.request(PATH, { token: admin.token });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      start_date: "2026-03-01T00:00:00.000Z",
      end_date: "2026-03-04T00:00:00.000Z",
      summary: {
        // PR1, PR2, PR3; PR1 merged; PR1 approved.
        total_prs_created: 3,
        total_prs_merged: 1,
        merge_rate: 1 / 3,
        total_additions: 16,
        total_deletions: 7,
        total_cost_micros: 1800,
        cost_per_merged_pr_micros: 1500,
        approval_rate: 1 / 3,
        // PR4 alone.
        prev_total_prs_created: 1,
        prev_total_prs_merged: 1,
        prev_merge_rate: 1,
        prev_total_additions: 100,
        prev_total_deletions: 50,
        prev_total_cost_micros: 2000,
        prev_cost_per_merged_pr_micros: 2000,
        prev_approval_rate: 1,
      },
      time_series: [
        // PR1 opened; PR4 (opened before the window) merged.
        { date: "2026-03-01", prs_created: 1, prs_merged: 1, prs_closed: 0 },
        { date: "2026-03-02", prs_created: 1, prs_merged: 1, prs_closed: 0 },
        { date: "2026-03-03", prs_created: 1, prs_merged: 0, prs_closed: 1 },
      ],
      by_model: [
        { display_name: "Alpha", model: "alpha-1", total_prs: 2, merged_prs: 1, merge_rate: 0.5, total_additions: 15, total_deletions: 7, total_cost_micros: 1800, cost_per_merged_pr_micros: 1500 },
        { display_name: "Beta", model: "beta-1", total_prs: 1, merged_prs: 0, merge_rate: 0, total_additions: 1, total_deletions: 0, total_cost_micros: 0, cost_per_merged_pr_micros: 0 },
      ],
    });
    const recent = Reflect.get(Object(response.body), "recent_prs");
    expect(Array.isArray(recent) ? recent.map((row: unknown) => Reflect.get(Object(row), "pr_number")) : recent).toEqual([3, 2, 1]);
    expect(Array.isArray(recent) ? recent[2] : undefined).toMatchObject({ chat_id: ids.c1, state: "merged", cost_micros: 1500, model_display_name: "Alpha", approved: true });
  });

  it("defaults to the last 30 days and rejects a reversed window", async () => {
    const recent = await t.request("/api/experimental/chats/insights/pull-requests", { token: admin.token });
    expect(recent.status).toBe(200);
    const reversed = await t.request("/api/experimental/chats/insights/pull-requests?start_date=2026-03-04T00:00:00Z&end_date=2026-03-01T00:00:00Z", { token: admin.token });
    expect(reversed.status).toBe(400);
  });
});
