/**
 * The command provisioner (an admin's start/stop commands) and the real `chatd agent` dialling
 * back: from a command template's start command and from a Local workspace (inside bubblewrap
 * when installed). The real-agent tests are skipped when src/cli/agent.ts does not exist yet.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { desc, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { workspaceAgents } from "../../src/db/schema/index.js";
import { agentStatus as agentStatusOf } from "../../src/workspaces/views.js";
import { authenticateAgent, latestAgent } from "../../src/workspaces/agents.js";
import { field, type TestUser } from "../helpers/server.js";
import { waitFor } from "../helpers/wait.js";
import { BUILD_DEADLINE_MS, startWorkspaceServer, waitForWorkspaceBuild, type WorkspaceTestServer } from "../helpers/workspaces.js";

const REPO_DIR = fileURLToPath(new URL("../../", import.meta.url)).replace(/\/$/, "");
const CHATD_BIN = path.join(REPO_DIR, "bin", "chatd.mjs");
const HAS_AGENT = fs.existsSync(path.join(REPO_DIR, "src", "cli", "agent.ts"));
if (!HAS_AGENT) console.warn("workspaces-command: src/cli/agent.ts does not exist yet, so the real-agent tests are skipped");

let t: WorkspaceTestServer;
let admin: TestUser;
let previousKey: string | undefined;

beforeAll(async () => {
  previousKey = process.env.OPENAI_API_KEY;
  process.env.OPENAI_API_KEY = "sk-test-must-not-leak";
  t = await startWorkspaceServer({});
  admin = await t.createOwner();
});
afterAll(async () => {
  await t.close();
  if (previousKey === undefined) delete process.env.OPENAI_API_KEY;
  else process.env.OPENAI_API_KEY = previousKey;
});

const commandDir = (id: string) => path.join(fs.realpathSync(t.dataDir), "workspaces", id);

async function createTemplate(body: Record<string, unknown>): Promise<string> {
  const response = await t.request("/api/v2/templates", { method: "POST", token: admin.token, body: { provisioner: "command", ...body } });
  expect(response.status, response.text).toBe(201);
  return String(field(response.body, "id"));
}

async function createWorkspace(templateId: string, parameters: Record<string, unknown> = {}): Promise<{ id: string; name: string; body: unknown }> {
  const created = await t.request("/api/v2/workspaces", { method: "POST", token: admin.token, body: { template_id: templateId, parameters } });
  expect(created.status, created.text).toBe(201);
  const id = String(field(created.body, "id"));
  return { id, name: String(field(created.body, "name")), body: await waitForWorkspaceBuild(t, admin.token, id) };
}

async function transition(id: string, to: "start" | "stop" | "delete"): Promise<unknown> {
  const response = await t.request(`/api/v2/workspaces/${id}/builds`, { method: "POST", token: admin.token, body: { transition: to } });
  expect(response.status, response.text).toBe(201);
  return waitForWorkspaceBuild(t, admin.token, id, String(field(response.body, "id")));
}

function envFile(file: string): Record<string, string> {
  return Object.fromEntries(
    fs
      .readFileSync(file, "utf8")
      .split("\0")
      .filter((line) => line.includes("="))
      .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
  );
}

describe("the command provisioner", () => {
  it("runs the start command with the agent token and workspace variables, the stop command without the token", async () => {
    const templateId = await createTemplate({
      name: "remote",
      start_command: 'node -e \'require("fs").writeFileSync("start.env", Object.entries(process.env).map(([k, v]) => k + "=" + v).join("\\0"))\'; echo started remote',
      stop_command: 'node -e \'require("fs").writeFileSync("stop.env", Object.entries(process.env).map(([k, v]) => k + "=" + v).join("\\0"))\'; echo stopped remote',
      parameters: [{ name: "region", type: "string", default: "eu-west" }],
    });
    const { id, name, body } = await createWorkspace(templateId);
    expect(field(field(body, "latest_build"), "status")).toBe("succeeded");
    const start = envFile(path.join(commandDir(id), "start.env"));
    expect(start).toMatchObject({ CHATD_AGENT_URL: t.server.url, CHATD_WORKSPACE_ID: id, CHATD_WORKSPACE_NAME: name, CHATD_PARAM_REGION: "eu-west" });
    expect(start.CHATD_WORKSPACE_OWNER).toBe(admin.username);
    const agent = await authenticateAgent(t.server.database.db, start.CHATD_AGENT_TOKEN ?? "");
    expect(agent?.id).toBe((await latestAgent(t.server.database.db, id))?.id);
    expect(start.OPENAI_API_KEY).toBeUndefined();
    expect(Object.keys(start).filter((key) => key.startsWith("CHATD_")).sort()).toEqual([
      "CHATD_AGENT_TOKEN",
      "CHATD_AGENT_URL",
      "CHATD_PARAM_REGION",
      "CHATD_WORKSPACE_ID",
      "CHATD_WORKSPACE_NAME",
      "CHATD_WORKSPACE_OWNER",
    ]);
    const log = await t.request(`/api/v2/workspacebuilds/${String(field(field(body, "latest_build"), "id"))}`, { token: admin.token });
    expect(String(field(log.body, "log"))).toContain("started remote");
    expect(String(field(log.body, "log"))).not.toContain(start.CHATD_AGENT_TOKEN ?? "no token");

    await transition(id, "stop");
    const stop = envFile(path.join(commandDir(id), "stop.env"));
    expect(stop.CHATD_AGENT_TOKEN).toBeUndefined();
    expect(stop.CHATD_WORKSPACE_ID).toBe(id);

    const deleted = await transition(id, "delete");
    expect(field(deleted, "status")).toBe("deleted");
    expect(fs.existsSync(commandDir(id))).toBe(false);
  });

  it("fails the build with the exit code when the start command fails", async () => {
    const templateId = await createTemplate({ name: "broken", start_command: "echo going down >&2; exit 3" });
    const { body } = await createWorkspace(templateId);
    expect(field(body, "status")).toBe("failed");
    expect(field(field(body, "latest_build"), "error")).toBe("the start command exited with code 3");
    const build = await t.request(`/api/v2/workspacebuilds/${String(field(field(body, "latest_build"), "id"))}`, { token: admin.token });
    expect(String(field(build.body, "log"))).toContain("going down");
  });

  it("completes when the start command exits, even if what it left running holds its output open", async () => {
    const templateId = await createTemplate({ name: "daemon", start_command: "sleep 60 & echo $! > bg.pid; echo launched" });
    const started = Date.now();
    const { id, body } = await createWorkspace(templateId);
    expect(field(body, "status")).toBe("running");
    expect(Date.now() - started).toBeLessThan(BUILD_DEADLINE_MS);
    const pid = Number(fs.readFileSync(path.join(commandDir(id), "bg.pid"), "utf8"));
    expect(() => process.kill(pid, 0)).not.toThrow();
    process.kill(pid, "SIGKILL");
  });
});

async function agentStatus(id: string): Promise<unknown> {
  return field(field((await t.request(`/api/v2/workspaces/${id}`, { token: admin.token })).body, "agent"), "status");
}

describe.skipIf(!HAS_AGENT)("the real agent", () => {
  it("connects when a command template's start command launches it, and goes when the stop command stops it", async () => {
    const templateId = await createTemplate({
      name: "real-agent",
      start_command: `node ${CHATD_BIN} agent --url "$CHATD_AGENT_URL" --directory "$PWD" > agent.log 2>&1 & echo $! > agent.pid`,
      stop_command: 'kill "$(cat agent.pid)"; while kill -0 "$(cat agent.pid)" 2>/dev/null; do sleep 0.05; done',
    });
    const { id } = await createWorkspace(templateId);
    await waitFor(async () => (await agentStatus(id)) === "connected", { timeoutMs: BUILD_DEADLINE_MS, message: "agent connected" });
    await transition(id, "stop");
    await waitFor(async () => (await latestAgentStatus(id)) === "disconnected", { timeoutMs: BUILD_DEADLINE_MS, message: "agent disconnected" });
  });

  it("connects from a Local workspace (isolated when bubblewrap is installed)", async () => {
    const local = await t.request("/api/v2/templates/local", { token: admin.token });
    const { id } = await createWorkspace(String(field(local.body, "id")));
    await waitFor(async () => (await agentStatus(id)) === "connected", { timeoutMs: BUILD_DEADLINE_MS, message: "agent connected" });
    const agent = field((await t.request(`/api/v2/workspaces/${id}`, { token: admin.token })).body, "agent");
    expect(field(agent, "directory")).toBe(path.join(commandDir(id), "project"));
    await transition(id, "delete");
  });
});

/** The status of the agent of the workspace's last start build (a stop build has no agent of its own). */
async function latestAgentStatus(id: string): Promise<string> {
  const [agent] = await t.server.database.db
    .select()
    .from(workspaceAgents)
    .where(eq(workspaceAgents.workspaceId, id))
    .orderBy(desc(workspaceAgents.createdAt))
    .limit(1);
  return agent ? agentStatusOf(agent) : "none";
}
