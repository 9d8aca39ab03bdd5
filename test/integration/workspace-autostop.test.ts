/**
 * The workspace TTL setting and autostop: who may set it and to what, new workspaces copying it,
 * which workspaces count as idle (used recently, started recently, busy with a chat, already
 * stopped), and a sweep stopping an idle Local workspace for real.
 */
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { workspaceBuilds, workspaces } from "../../src/db/schema/index.js";
import { idleWorkspaces, WorkspaceAutostop } from "../../src/workspaces/autostop.js";
import { chatFixture, chatIn } from "../helpers/chats.js";
import { chats } from "../../src/db/schema/index.js";
import { seedRunningWorkspace } from "../helpers/fake-agent.js";
import { field, startTestServer, type TestServer, type TestUser } from "../helpers/server.js";
import { localTemplateId } from "../helpers/workspace-chat.js";
import { waitFor } from "../helpers/wait.js";

const TTL_PATH = "/api/experimental/chats/config/workspace-ttl";
const MINUTE = 60_000;
let t: TestServer;
let owner: TestUser;
let member: TestUser;

beforeAll(async () => {
  t = await startTestServer();
  owner = await t.createOwner();
  member = await t.createUser(owner);
});
afterAll(async () => {
  await t.close();
});

describe("the workspace TTL setting", () => {
  it("is 0 by default, admin-only, and bounded", async () => {
    expect((await t.request(TTL_PATH, { token: member.token })).body).toEqual({ workspace_ttl_ms: 0 });
    expect((await t.request(TTL_PATH, { method: "PUT", token: member.token, body: { workspace_ttl_ms: 2 * MINUTE } })).status).toBe(403);
    for (const bad of [-1, 1.5, 30_000, 2_592_000_001, "60000"]) {
      const response = await t.request(TTL_PATH, { method: "PUT", token: owner.token, body: { workspace_ttl_ms: bad } });
      expect(response.status, String(bad)).toBe(400);
    }
    expect((await t.request(TTL_PATH, { token: member.token })).body).toEqual({ workspace_ttl_ms: 0 });
    expect((await t.request(TTL_PATH, { method: "PUT", token: owner.token, body: { workspace_ttl_ms: 2 * MINUTE } })).status).toBe(204);
    expect((await t.request(TTL_PATH, { token: member.token })).body).toEqual({ workspace_ttl_ms: 2 * MINUTE });
  });
});

describe("idle workspaces", () => {
  async function seeded(opts: { ttlMs: number | null; lastUsedAgoMs: number | null; startedAgoMs: number }) {
    const db = t.server.database.db;
    const { workspace, build } = await seedRunningWorkspace(db, owner.id);
    await db.update(workspaces).set({ ttlMs: opts.ttlMs, lastUsedAt: opts.lastUsedAgoMs === null ? null : new Date(Date.now() - opts.lastUsedAgoMs) }).where(eq(workspaces.id, workspace.id));
    await db.update(workspaceBuilds).set({ completedAt: new Date(Date.now() - opts.startedAgoMs) }).where(eq(workspaceBuilds.id, build.id));
    return workspace.id;
  }

  it("are the started ones unused for their TTL, not busy with a chat", async () => {
    const db = t.server.database.db;
    const idle = await seeded({ ttlMs: MINUTE, lastUsedAgoMs: 2 * MINUTE, startedAgoMs: 60 * MINUTE });
    const neverUsed = await seeded({ ttlMs: MINUTE, lastUsedAgoMs: null, startedAgoMs: 2 * MINUTE });
    const recentlyUsed = await seeded({ ttlMs: MINUTE, lastUsedAgoMs: 10_000, startedAgoMs: 60 * MINUTE });
    const justRestarted = await seeded({ ttlMs: MINUTE, lastUsedAgoMs: 24 * 60 * MINUTE, startedAgoMs: 5_000 });
    const noTtl = await seeded({ ttlMs: null, lastUsedAgoMs: 24 * 60 * MINUTE, startedAgoMs: 60 * MINUTE });
    const busy = await seeded({ ttlMs: MINUTE, lastUsedAgoMs: 2 * MINUTE, startedAgoMs: 60 * MINUTE });
    const chat = await chatIn(db, await chatFixture(db), "pending");
    await db.update(chats).set({ workspaceId: busy }).where(eq(chats.id, chat.id));
    const stopped = await seeded({ ttlMs: MINUTE, lastUsedAgoMs: 2 * MINUTE, startedAgoMs: 60 * MINUTE });
    await db.insert(workspaceBuilds).values({ workspaceId: stopped, buildNumber: 2, transition: "stop", status: "succeeded", completedAt: sql`now()` });

    const found = await idleWorkspaces(db, new Date());
    expect(found).toContain(idle);
    expect(found).toContain(neverUsed);
    for (const id of [recentlyUsed, justRestarted, noTtl, busy, stopped]) expect(found).not.toContain(id);
  });
});

describe("autostop", () => {
  it("stops an idle Local workspace, whose new workspaces copy the site TTL", async () => {
    await t.request(TTL_PATH, { method: "PUT", token: owner.token, body: { workspace_ttl_ms: 2 * MINUTE } });
    const created = await t.request("/api/v2/workspaces", { method: "POST", token: member.token, body: { template_id: await localTemplateId(t, member), name: "idle" } });
    const workspaceId = String(field(created.body, "id"));
    expect(field(created.body, "ttl_ms")).toBe(2 * MINUTE);
    const status = async () => field((await t.request(`/api/v2/workspaces/${workspaceId}`, { token: member.token })).body, "status");
    await waitFor(async () => (await status()) === "running", { timeoutMs: 30_000, intervalMs: 50, message: "running" });

    const autostop = new WorkspaceAutostop({ db: t.server.database.db, pubsub: t.server.pubsub, runtime: t.server.services.workspaces.runtime, log: t.server.log });
    expect(await idleWorkspaces(t.server.database.db, new Date(Date.now() + MINUTE))).not.toContain(workspaceId);
    expect(await idleWorkspaces(t.server.database.db, new Date(Date.now() + 3 * MINUTE))).toContain(workspaceId);
    // (The previous test's seeded workspaces are stopped by this sweep too.)
    expect(await autostop.sweep(new Date(Date.now() + 3 * MINUTE))).toBeGreaterThanOrEqual(1);
    await waitFor(async () => (await status()) === "stopped", { timeoutMs: 30_000, intervalMs: 50, message: "stopped by autostop" });
    const builds = await t.server.database.db.select().from(workspaceBuilds).where(eq(workspaceBuilds.workspaceId, workspaceId));
    expect(builds.find((build) => build.transition === "stop")?.initiatorId).toBeNull();
    await autostop.stop();
  }, 60_000);
});
