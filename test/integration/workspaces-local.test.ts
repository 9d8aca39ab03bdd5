/**
 * The local provisioner end to end, with a fake agent: the Local template clones a repository,
 * the agent gets a minimal environment and its token on stdin, runs inside bubblewrap (data
 * directory invisible, system read-only), stop ends its process group, start spawns it again, a
 * restarted server respawns it with a new token, and delete removes the directory.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { workspaceAgents } from "../../src/db/schema/index.js";
import { authenticateAgent, latestAgent } from "../../src/workspaces/agents.js";
import { freshDatabase } from "../helpers/database.js";
import { testDatabaseKind } from "../helpers/env.js";
import { waitFor } from "../helpers/wait.js";
import { field, type TestUser } from "../helpers/server.js";
import {
  groupAlive,
  serveGitRepository,
  startWorkspaceServer,
  waitForReport,
  waitForWorkspaceBuild,
  writeFakeAgent,
  type FakeAgent,
  type FakeAgentReport,
  type WorkspaceTestServer,
} from "../helpers/workspaces.js";

const REPO_DIR = fileURLToPath(new URL("../../", import.meta.url)).replace(/\/$/, "");
const HAS_BWRAP = (process.env.PATH ?? "").split(":").some((dir) => dir !== "" && fs.existsSync(path.join(dir, "bwrap")));
if (!HAS_BWRAP) console.warn("workspaces-local: bwrap is not installed, so the sandbox assertions are skipped (apt-get install -y bubblewrap)");

/** Secrets the server's own environment holds; none may reach a workspace. */
const SERVER_SECRETS = {
  OPENAI_API_KEY: "sk-test-must-not-leak",
  CHATD_DATABASE_URL: "postgres://leak@127.0.0.1/leak",
  CHATD_ENCRYPTION_KEY: "bXVzdC1ub3QtbGVhay1tdXN0LW5vdC1sZWFrLTAwMDA=",
};
const ALLOWED_ENV = new Set(["PATH", "HOME", "USER", "LOGNAME", "LANG", "TZ", "GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"]);

let t: WorkspaceTestServer;
let owner: TestUser;
let fake: FakeAgent;
let git: { url: string; close(): Promise<void> };
const saved: Record<string, string | undefined> = {};

beforeAll(async () => {
  for (const [name, value] of Object.entries(SERVER_SECRETS)) {
    saved[name] = process.env[name];
    process.env[name] = value;
  }
  const database = await freshDatabase();
  const dataDir = database.location.dataDir;
  fs.writeFileSync(path.join(dataDir, "secret-probe.txt"), "secret");
  fake = writeFakeAgent({ secretFile: path.join(dataDir, "secret-probe.txt"), dataDir, repoDir: REPO_DIR, serverPid: process.pid });
  git = await serveGitRepository({ "README.md": "# cloned\n" });
  t = await startWorkspaceServer({ agentCommand: fake.command }, { database, dataDir });
  owner = await t.createOwner();
});

afterAll(async () => {
  await t.close();
  await git.close();
  fake.remove();
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

const workspaceRoot = (id: string) => path.join(fs.realpathSync(t.dataDir), "workspaces", id);
const projectDir = (id: string) => path.join(workspaceRoot(id), "project");

async function buildLog(buildId: string): Promise<string> {
  return String(field((await t.request(`/api/v2/workspacebuilds/${buildId}`, { token: owner.token })).body, "log"));
}

async function transition(id: string, to: "start" | "stop" | "delete"): Promise<string> {
  const response = await t.request(`/api/v2/workspaces/${id}/builds`, { method: "POST", token: owner.token, body: { transition: to } });
  expect(response.status).toBe(201);
  const buildId = String(field(response.body, "id"));
  const workspace = await waitForWorkspaceBuild(t, owner.token, id, buildId);
  expect(field(field(workspace, "latest_build"), "status")).toBe("succeeded");
  return buildId;
}

describe("the Local template", () => {
  it("exists from the start, says whether it is isolated, and takes an optional repository", async () => {
    const response = await t.request("/api/v2/templates/local", { token: owner.token });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      name: "local",
      display_name: "Local",
      provisioner: "local",
      isolated: HAS_BWRAP,
      warnings: HAS_BWRAP ? [] : [expect.stringContaining("not isolated")],
      parameters: [{ name: "repository", type: "string", required: false, description: "Git repository to clone into the workspace: a URL or a path" }],
    });
  });
});

describe("a local workspace", () => {
  let workspaceId = "";
  let firstBuildId = "";
  let report: FakeAgentReport;

  it("clones the repository in its setup script and starts the agent with its token on stdin", async () => {
    const template = await t.request("/api/v2/templates/local", { token: owner.token });
    const created = await t.request("/api/v2/workspaces", {
      method: "POST",
      token: owner.token,
      body: { template_id: field(template.body, "id"), name: "cloned", parameters: { repository: git.url } },
    });
    expect(created.status).toBe(201);
    workspaceId = String(field(created.body, "id"));
    firstBuildId = String(field(field(created.body, "latest_build"), "id"));
    const done = await waitForWorkspaceBuild(t, owner.token, workspaceId, firstBuildId);
    expect(field(field(done, "latest_build"), "status")).toBe("succeeded");
    expect(field(done, "status")).toBe("running");
    expect(await buildLog(firstBuildId)).toContain(`Cloning ${git.url}`);
    expect(fs.readFileSync(path.join(projectDir(workspaceId), "README.md"), "utf8")).toBe("# cloned\n");

    report = await waitForReport(fake.reportPath(projectDir(workspaceId)));
    expect(report.argv).toEqual(["--url", t.server.url, "--token-stdin", "--directory", projectDir(workspaceId)]);
    const agent = await authenticateAgent(t.server.database.db, report.token.trim());
    expect(agent?.id).toBe((await latestAgent(t.server.database.db, workspaceId))?.id);
    expect(agent?.pid).toEqual(expect.any(Number));
    expect(field(done, "agent")).toMatchObject({ id: agent?.id, status: "connecting" });
    // The workspace response never carries a token.
    expect(JSON.stringify(done)).not.toContain(report.token.trim());
  });

  it("gives the agent a minimal environment, none of the server's secrets", () => {
    // bubblewrap sets PWD to the directory it changed to; nothing else is added.
    expect(Object.keys(report.env).filter((name) => !ALLOWED_ENV.has(name) && !(name === "PWD" && report.env.PWD === report.cwd))).toEqual([]);
    for (const value of Object.values(SERVER_SECRETS)) expect(JSON.stringify(report.env)).not.toContain(value);
    expect(report.env.HOME).toBe(path.join(workspaceRoot(workspaceId), "home"));
    expect(report.env.GIT_AUTHOR_EMAIL).toBe(owner.email);
    expect(report.env.GIT_COMMITTER_NAME).toMatch(/^User \d+$/);
    expect(report.cwd).toBe(projectDir(workspaceId));
  });

  it.skipIf(!HAS_BWRAP)("runs the agent in a sandbox: data directory hidden, system and chatd read-only, project and /tmp writable", () => {
    expect(report.probes).toEqual({
      readSecret: "ENOENT",
      listDataDir: "workspaces",
      writeUsr: "EROFS",
      writeRepo: "EROFS",
      writeProject: "ok",
      writeTmp: "ok",
      readServerEnviron: "ENOENT",
      git: 0,
      node: 0,
    });
    // Only this workspace is visible under the data directory's workspaces/.
    expect(fs.existsSync(fake.tmpProbe)).toBe(false);
  });

  it("stops the agent's whole process group and keeps the directory; start spawns a new agent without the setup script", async () => {
    const db = t.server.database.db;
    const before = await latestAgent(db, workspaceId);
    const pid = before?.pid;
    if (typeof pid !== "number") throw new Error("no agent pid recorded");
    expect(groupAlive(pid)).toBe(true);

    await transition(workspaceId, "stop");
    expect(groupAlive(pid)).toBe(false);
    const [stopped] = await db.select({ pid: workspaceAgents.pid }).from(workspaceAgents).where(eq(workspaceAgents.id, before?.id ?? ""));
    expect(stopped?.pid).toBeNull();
    expect(fs.existsSync(path.join(projectDir(workspaceId), "README.md"))).toBe(true);
    expect(field((await t.request(`/api/v2/workspaces/${workspaceId}`, { token: owner.token })).body, "status")).toBe("stopped");

    const startId = await transition(workspaceId, "start");
    expect(await buildLog(startId)).not.toContain("setup script");
    const next = await waitForReport(fake.reportPath(projectDir(workspaceId)), report.token);
    const agent = await authenticateAgent(db, next.token.trim());
    expect(agent?.id).not.toBe(before?.id);
    expect(agent?.id).toBe((await latestAgent(db, workspaceId))?.id);
    // The first agent's token no longer reaches a current agent.
    expect((await authenticateAgent(db, report.token.trim()))?.id).toBe(before?.id);
    report = next;
  });

  it("does not let its agent outlive the server, and a restarted server respawns it with a new token", async () => {
    const before = await latestAgent(t.server.database.db, workspaceId);
    const pid = before?.pid;
    if (typeof pid !== "number") throw new Error("no agent pid recorded");
    t = await t.restart();
    expect(groupAlive(pid)).toBe(false);
    const next = await waitForReport(fake.reportPath(projectDir(workspaceId)), report.token);
    const db = t.server.database.db;
    expect((await authenticateAgent(db, next.token.trim()))?.id).toBe(before?.id);
    expect(await authenticateAgent(db, report.token.trim())).toBeUndefined();
    const after = await latestAgent(db, workspaceId);
    expect(after?.pid).toEqual(expect.any(Number));
    expect(after?.pid).not.toBe(pid);
    report = next;
  });

  it.skipIf(testDatabaseKind() !== "postgres")("is respawned by exactly one of two replicas starting at once", async () => {
    await t.stop();
    const reuse = { database: t.database, dataDir: t.dataDir };
    const replicas = await Promise.all([startWorkspaceServer({ agentCommand: fake.command }, reuse), startWorkspaceServer({ agentCommand: fake.command }, reuse)]);
    const respawnedBy = replicas.filter((replica) => replica.logs.some((line) => line.includes("respawned a local workspace agent")));
    expect(respawnedBy).toHaveLength(1);
    const [winner] = respawnedBy;
    if (!winner) throw new Error("no replica respawned the agent");
    for (const replica of replicas) if (replica !== winner) await replica.stop();
    t = winner;
    report = await waitForReport(fake.reportPath(projectDir(workspaceId)), report.token);
    expect((await authenticateAgent(t.server.database.db, report.token.trim()))?.workspaceId).toBe(workspaceId);
  });

  it("deletes: stops the agent, removes the directory, marks the workspace deleted", async () => {
    const pid = (await latestAgent(t.server.database.db, workspaceId))?.pid;
    await transition(workspaceId, "delete");
    if (typeof pid === "number") expect(groupAlive(pid)).toBe(false);
    expect(fs.existsSync(workspaceRoot(workspaceId))).toBe(false);
    const workspace = await t.request(`/api/v2/workspaces/${workspaceId}`, { token: owner.token });
    expect(field(workspace.body, "status")).toBe("deleted");
    const list = await t.request("/api/v2/workspaces", { token: owner.token });
    expect(list.text).not.toContain(workspaceId);
    const again = await t.request(`/api/v2/workspaces/${workspaceId}/builds`, { method: "POST", token: owner.token, body: { transition: "start" } });
    expect(again.status).toBe(409);
  });
});

describe("a local setup script", () => {
  it.skipIf(!HAS_BWRAP)("runs in the same sandbox, with its parameters in the environment", async () => {
    const script = [
      'if cat "$CHATD_PARAM_SECRET" >/dev/null 2>&1; then echo "probe secret=readable"; else echo "probe secret=hidden"; fi',
      'echo "probe datadir=$(ls -A "$CHATD_PARAM_DATA_DIR" | tr "\\n" " ")"',
      'echo "probe workspaces=$(ls -A "$CHATD_PARAM_DATA_DIR/workspaces" | wc -l)"',
      'if touch /usr/chatd-probe 2>/dev/null; then echo "probe usr=writable"; else echo "probe usr=readonly"; fi',
      'if touch "$CHATD_PARAM_REPO_DIR/.chatd-probe" 2>/dev/null; then echo "probe repo=writable"; else echo "probe repo=readonly"; fi',
      'if touch ./here /tmp/there; then echo "probe project=writable"; fi',
      'echo "probe cwd=$(pwd)"',
    ].join("\n");
    const template = await t.request("/api/v2/templates", {
      method: "POST",
      token: owner.token,
      body: {
        name: "probe",
        setup_script: script,
        parameters: [
          { name: "secret", type: "string", required: true },
          { name: "data_dir", type: "string", required: true },
          { name: "repo_dir", type: "string", required: true },
        ],
      },
    });
    expect(template.status).toBe(201);
    const secret = path.join(t.dataDir, "secret-probe.txt");
    const created = await t.request("/api/v2/workspaces", {
      method: "POST",
      token: owner.token,
      body: { template_id: field(template.body, "id"), parameters: { secret, data_dir: t.dataDir, repo_dir: REPO_DIR } },
    });
    expect(created.status).toBe(201);
    expect(field(created.body, "name")).toMatch(/^probe-[0-9a-f]{4}$/);
    const id = String(field(created.body, "id"));
    const done = await waitForWorkspaceBuild(t, owner.token, id);
    const log = await buildLog(String(field(field(done, "latest_build"), "id")));
    const probes = Object.fromEntries([...log.matchAll(/^probe (\w+)=(.*)$/gm)].map((match) => [match[1], match[2]?.trim()]));
    expect(probes).toEqual({
      secret: "hidden",
      datadir: "workspaces",
      workspaces: "1",
      usr: "readonly",
      repo: "readonly",
      project: "writable",
      cwd: projectDir(id),
    });
    await transition(id, "delete");
  });
});

describe("a repository on the server's machine", () => {
  // Under /tmp, which the sandbox replaces with an empty tmpfs: a clone inside it cannot see this.
  const source = fs.mkdtempSync(path.join(os.tmpdir(), "chatd-local-repo-"));
  const gitEnv = { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@example.com", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@example.com" };
  execFileSync("git", ["init", "-q", "-b", "main", source], { env: gitEnv });
  fs.writeFileSync(path.join(source, "NOTES.md"), "from a local path\n");
  execFileSync("git", ["-C", source, "add", "."], { env: gitEnv });
  execFileSync("git", ["-C", source, "commit", "-q", "-m", "init"], { env: gitEnv });
  afterAll(() => fs.rmSync(source, { recursive: true, force: true }));

  async function create(name: string, repository: string): Promise<{ id: string; build: unknown }> {
    const template = await t.request("/api/v2/templates/local", { token: owner.token });
    const created = await t.request("/api/v2/workspaces", { method: "POST", token: owner.token, body: { template_id: field(template.body, "id"), name, parameters: { repository } } });
    expect(created.status).toBe(201);
    const id = String(field(created.body, "id"));
    const done = await waitForWorkspaceBuild(t, owner.token, id, String(field(field(created.body, "latest_build"), "id")));
    return { id, build: field(done, "latest_build") };
  }

  it("a missing path fails the build saying so; fixing the parameter and starting again clones it outside the sandbox", async () => {
    const missing = path.join(source, "no-such-repo");
    const { id, build } = await create("local-path", missing);
    expect(build).toMatchObject({ status: "failed", error: expect.stringContaining(`The repository ${missing} does not exist on the server's machine`) });

    const retried = await t.request(`/api/v2/workspaces/${id}/builds`, { method: "POST", token: owner.token, body: { transition: "start", parameters: { repository: source } } });
    expect(retried.status).toBe(201);
    const done = await waitForWorkspaceBuild(t, owner.token, id, String(field(retried.body, "id")));
    expect(field(field(done, "latest_build"), "status")).toBe("succeeded");
    expect(fs.readFileSync(path.join(projectDir(id), "NOTES.md"), "utf8")).toBe("from a local path\n");
    expect(await buildLog(String(field(retried.body, "id")))).toContain(`Cloning ${fs.realpathSync(source)} on the server's machine`);

    // Once built, an immutable parameter stays: 400, and nothing changes.
    const changed = await t.request(`/api/v2/workspaces/${id}/builds`, { method: "POST", token: owner.token, body: { transition: "start", parameters: { repository: git.url } } });
    expect(changed.status).toBe(400);
    expect(changed.text).toContain('Parameter \\"repository\\" cannot change once the workspace has been built');
    const stop = await t.request(`/api/v2/workspaces/${id}/builds`, { method: "POST", token: owner.token, body: { transition: "stop", parameters: { repository: source } } });
    expect(stop.status).toBe(400);
    expect(field(field((await t.request(`/api/v2/workspaces/${id}`, { token: owner.token })).body, "latest_build"), "status")).toBe("succeeded");
  });

  it("refuses a path inside the data directory, and a directory that is not a repository", async () => {
    // Exists on both databases (PGlite keeps pgdata here; PostgreSQL runs leave only workspaces/).
    const inside = path.join(t.dataDir, "workspaces");
    const secret = await create("local-secret", inside);
    expect(secret.build).toMatchObject({ status: "failed", error: expect.stringContaining("which workspaces may not read") });
    const plain = fs.mkdtempSync(path.join(os.tmpdir(), "chatd-not-a-repo-"));
    try {
      const notRepo = await create("local-plain", plain);
      expect(notRepo.build).toMatchObject({ status: "failed", error: expect.stringContaining("is not a git repository") });
    } finally {
      fs.rmSync(plain, { recursive: true, force: true });
    }
  });
});

describe("an agent whose server was killed", () => {
  // Two servers on one data directory need PostgreSQL (PGlite allows one process).
  it.skipIf(testDatabaseKind() !== "postgres")("is respawned by a replica that starts while the dead server's row still looks live", async () => {
    const template = await t.request("/api/v2/templates/local", { token: owner.token });
    const created = await t.request("/api/v2/workspaces", { method: "POST", token: owner.token, body: { template_id: field(template.body, "id"), name: "orphaned-agent" } });
    const id = String(field(created.body, "id"));
    await waitForWorkspaceBuild(t, owner.token, id, String(field(field(created.body, "latest_build"), "id")));
    const first = await waitForReport(fake.reportPath(projectDir(id)));
    const pid = (await latestAgent(t.server.database.db, id))?.pid;
    if (typeof pid !== "number") throw new Error("no agent pid recorded");
    // What a SIGKILLed server leaves: its agent gone (--die-with-parent), its replica row fresh.
    process.kill(-pid, "SIGKILL");
    await waitFor(() => !groupAlive(pid), { timeoutMs: 5_000, message: "the agent's process group to end" });
    const second = await startWorkspaceServer({ agentCommand: fake.command }, { database: t.database, dataDir: t.dataDir });
    try {
      expect(second.logs.some((line) => line.includes("respawned a local workspace agent") && line.includes(id))).toBe(true);
      const next = await waitForReport(fake.reportPath(projectDir(id)), first.token);
      expect((await authenticateAgent(second.server.database.db, next.token.trim()))?.workspaceId).toBe(id);
      expect(await authenticateAgent(second.server.database.db, first.token.trim())).toBeUndefined();
    } finally {
      await second.stop();
    }
  });
});
