/**
 * Two replicas on one PostgreSQL database refresh the same stale rows (their workers ticking
 * every 10 ms, plus GET /chats/{chat} on both at once): the fake GitHub counts requests in flight
 * per PR and must never see two for one PR, and every row is refreshed exactly once per staleness.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inArray, isNull, sql } from "drizzle-orm";
import { createChat } from "../../src/chats/state.js";
import { chatDiffStatuses } from "../../src/db/schema/index.js";
import { storeGitToken } from "../../src/gitauth/tokens.js";
import { chatFixture, recordingHints } from "../helpers/chats.js";
import { freshDatabase, type FreshDatabase } from "../helpers/database.js";
import { testDatabaseKind } from "../helpers/env.js";
import { startFakeGitHub, type FakeGitHub } from "../helpers/fake-github.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { waitFor } from "../helpers/wait.js";

const postgres = testDatabaseKind() === "postgres";
const TOKEN = "ghp_replicatoken0000000000000000000000";
const REPO = "acme/replicas";
const ROWS = 40;

let fresh: FreshDatabase;
let github: FakeGitHub;
const servers: TestServer[] = [];

beforeAll(async () => {
  if (!postgres) return;
  fresh = await freshDatabase();
  github = await startFakeGitHub();
  github.tokens.add(TOKEN);
  // Long enough that a second refresh of the same PR would overlap the first.
  github.pullDelayMs = 30;
}, 60_000);

afterAll(async () => {
  for (const server of servers) await server.close();
  await github?.close();
  if (postgres) await fresh.destroy();
});

describe.runIf(postgres)("gitsync on two replicas", () => {
  it("never refreshes one row on two replicas at once", async () => {
    const flags = { "github-api-url": github.url, "gitsync-interval": "10ms" };
    const a = await startTestServer({ database: fresh, flags });
    servers.push(a);
    const b = await startTestServer({ database: fresh, flags });
    servers.push(b);
    const owner = await a.createOwner();
    const db = a.server.database.db;
    await storeGitToken(db, a.server.services.cipher, owner.id, "github", TOKEN);
    const { modelConfigId } = await chatFixture(db);
    const chatIds: string[] = [];
    for (let i = 0; i < ROWS; i++) {
      const branch = `agent/replica-${i}`;
      github.repo(REPO).pulls.push({ number: 1000 + i, state: "open", title: `PR ${i}`, head: branch });
      const { chat } = await createChat(db, recordingHints(), {
        ownerId: owner.id,
        title: `chat ${i}`,
        modelConfigId,
        messages: [{ role: "user", parts: [{ type: "text", text: "hi" }], createdBy: owner.id }],
      });
      chatIds.push(chat.id);
    }
    const allRefreshed = () =>
      waitFor(
        async () => (await db.select({ id: chatDiffStatuses.chatId }).from(chatDiffStatuses).where(isNull(chatDiffStatuses.refreshedAt))).length === 0,
        { timeoutMs: 20_000, message: "every row refreshed" },
      );
    // All rows become stale at once, so both workers compete for them.
    await db.insert(chatDiffStatuses).values(
      chatIds.map((chatId, i) => ({ chatId, gitBranch: `agent/replica-${i}`, gitRemoteOrigin: `https://github.com/${REPO}`, staleAt: sql`now() - interval '1 second'` })),
    );
    // Both replicas' GET /chats/{chat} join in for the first rows.
    const reads = chatIds.slice(0, 10).flatMap((id) => [a, b].map((server) => server.request(`/api/experimental/chats/${id}`, { token: owner.token })));
    const responses = await Promise.all(reads);
    expect(responses.every((response) => response.status === 200)).toBe(true);
    await allRefreshed();

    expect(github.maxConcurrentPerPull()).toBe(1);
    // Each PR was read exactly once: no row was refreshed twice for one staleness.
    for (let i = 0; i < ROWS; i++) {
      const reads = github.requests.filter((request) => request.path === `/repos/${REPO}/pulls/${1000 + i}` && request.accept === "application/vnd.github+json");
      expect(reads.length, `PR ${1000 + i}`).toBe(1);
    }
    expect(await db.select().from(chatDiffStatuses).where(inArray(chatDiffStatuses.chatId, chatIds))).toHaveLength(ROWS);
  });
});
