/**
 * Build machinery: the log cap, waitForBuild (notification, timeout, abort), builds orphaned by
 * a dead replica, builds cut short by shutdown, and the default template's idempotent creation.
 */
import fs from "node:fs";
import path from "node:path";
import { randomUUID } from "node:crypto";
import { count, eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { templates, workspaceBuilds, workspaces } from "../../src/db/schema/index.js";
import { userSubject, type Subject } from "../../src/rbac/policy.js";
import { BUILD_LOG_LIMIT_BYTES } from "../../src/workspaces/build-log.js";
import { failOrphanedBuilds, ORPHANED_BUILD_ERROR, waitForBuild } from "../../src/workspaces/builds.js";
import { BuildWaitTimeoutError } from "../../src/workspaces/errors.js";
import { REPLICA_STALE_AFTER_MS } from "../../src/replicas/registry.js";
import { ensureDefaultTemplate } from "../../src/workspaces/templates.js";
import type { TestUser } from "../helpers/server.js";
import { BUILD_DEADLINE_MS, startWorkspaceServer, writeFakeAgent, type FakeAgent, type WorkspaceTestServer } from "../helpers/workspaces.js";
import { waitFor } from "../helpers/wait.js";

let t: WorkspaceTestServer;
let owner: TestUser;
let subject: Subject;
let fake: FakeAgent;
let gatedTemplateId = "";

const GATED_SCRIPT = 'while [ ! -e "$HOME/../gate" ]; do sleep 0.02; done; echo released';

beforeAll(async () => {
  fake = writeFakeAgent({ secretFile: "/nonexistent", dataDir: "/nonexistent", repoDir: "/nonexistent", serverPid: process.pid });
  t = await startWorkspaceServer({ agentCommand: fake.command });
  owner = await t.createOwner();
  subject = userSubject(owner.id, ["owner"]);
  gatedTemplateId = (await t.server.services.workspaces.createTemplate(subject, { name: "gated", provisioner: "local", setup_script: GATED_SCRIPT })).id;
});
afterAll(async () => {
  await t.close();
  fake.remove();
});

const gate = (workspaceId: string) => path.join(fs.realpathSync(t.dataDir), "workspaces", workspaceId, "gate");

async function gatedWorkspace(): Promise<{ workspaceId: string; buildId: string }> {
  const { workspace, build } = await t.server.services.workspaces.createWorkspace(subject, { templateId: gatedTemplateId });
  await waitFor(() => fs.existsSync(path.dirname(gate(workspace.id))), { timeoutMs: BUILD_DEADLINE_MS });
  return { workspaceId: workspace.id, buildId: build.id };
}

describe("build logs", () => {
  it("keep at most 1 MiB of output, then say they were truncated", async () => {
    const ws = t.server.services.workspaces;
    const template = await ws.createTemplate(subject, { name: "chatty", provisioner: "local", setup_script: "head -c 1500000 /dev/zero | tr '\\0' 'a'; echo; echo tail-line" });
    const { build } = await ws.createWorkspace(subject, { templateId: template.id });
    const done = await ws.waitForBuild(build.id, { timeoutMs: BUILD_DEADLINE_MS });
    expect(done.status).toBe("succeeded");
    expect(Buffer.byteLength(done.log)).toBeGreaterThan(BUILD_LOG_LIMIT_BYTES - 1000);
    expect(Buffer.byteLength(done.log)).toBeLessThan(BUILD_LOG_LIMIT_BYTES + 200);
    expect(done.log).toContain("[log truncated: the build log is limited to 1 MiB]");
    expect(done.log).not.toContain("tail-line");
  });
});

describe("waitForBuild", () => {
  it("times out, honours its signal, and resolves with the final row once the build ends", async () => {
    const { db } = t.server.database;
    const { workspaceId, buildId } = await gatedWorkspace();
    await expect(waitForBuild(db, t.server.pubsub, buildId, { timeoutMs: 50 })).rejects.toBeInstanceOf(BuildWaitTimeoutError);
    const controller = new AbortController();
    const aborted = waitForBuild(db, t.server.pubsub, buildId, { signal: controller.signal });
    controller.abort(new Error("caller gave up"));
    await expect(aborted).rejects.toThrow("caller gave up");

    const waiting = waitForBuild(db, t.server.pubsub, buildId, { timeoutMs: BUILD_DEADLINE_MS });
    fs.writeFileSync(gate(workspaceId), "");
    const done = await waiting;
    expect(done.status).toBe("succeeded");
    expect(done.log).toContain("released");
  });
});

describe("recovery", () => {
  it("fails builds whose replica is gone, waking their waiters, and leaves live replicas' builds alone", async () => {
    const { db } = t.server.database;
    const [workspace] = await db.insert(workspaces).values({ ownerId: owner.id, templateId: gatedTemplateId, name: "orphan" }).returning();
    const workspaceId = workspace?.id ?? "";
    const [orphan] = await db
      .insert(workspaceBuilds)
      .values({ workspaceId, buildNumber: 1, transition: "start", status: "running", runnerId: randomUUID() })
      .returning();
    const [live] = await db
      .insert(workspaceBuilds)
      .values({ workspaceId, buildNumber: 2, transition: "stop", status: "pending", runnerId: t.server.replicaId })
      .returning();
    const waiting = waitForBuild(db, t.server.pubsub, orphan?.id ?? "", { timeoutMs: BUILD_DEADLINE_MS });
    const failed = await failOrphanedBuilds(db, t.server.pubsub, REPLICA_STALE_AFTER_MS);
    expect(failed.map((build) => build.id)).toEqual([orphan?.id]);
    expect(await waiting).toMatchObject({ status: "failed", error: ORPHANED_BUILD_ERROR });
    const [still] = await db.select().from(workspaceBuilds).where(eq(workspaceBuilds.id, live?.id ?? ""));
    expect(still?.status).toBe("pending");
    await db.update(workspaceBuilds).set({ status: "canceled" }).where(eq(workspaceBuilds.id, live?.id ?? ""));
  });

  it("ends a build cut short by shutdown as failed, and a restarted server fails what its predecessor left", async () => {
    const { workspaceId, buildId } = await gatedWorkspace();
    const [stale] = await t.server.database.db
      .insert(workspaceBuilds)
      .values({ workspaceId, buildNumber: 99, transition: "stop", status: "pending", runnerId: t.server.replicaId })
      .returning();
    t = await t.restart();
    const { db } = t.server.database;
    const [cut] = await db.select().from(workspaceBuilds).where(eq(workspaceBuilds.id, buildId));
    expect(cut).toMatchObject({ status: "failed", error: "the server stopped while this build ran" });
    const [left] = await db.select().from(workspaceBuilds).where(eq(workspaceBuilds.id, stale?.id ?? ""));
    expect(left).toMatchObject({ status: "failed", error: ORPHANED_BUILD_ERROR });
  });
});

describe("the default template", () => {
  it("is created once however many replicas start at once, and stays deleted once deleted", async () => {
    const { db } = t.server.database;
    await Promise.all([ensureDefaultTemplate(db), ensureDefaultTemplate(db), ensureDefaultTemplate(db)]);
    const localCount = async () =>
      (await db.select({ n: count() }).from(templates).where(sql`lower(${templates.name}) = 'local' AND NOT ${templates.deleted}`))[0]?.n;
    expect(await localCount()).toBe(1);
    await t.server.services.workspaces.deleteTemplate(subject, "local");
    await ensureDefaultTemplate(db);
    expect(await localCount()).toBe(0);
  });
});
