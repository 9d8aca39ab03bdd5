/**
 * Workspace test support: a real server whose workspace runtime can be tuned (a fake agent, the
 * sandbox off) and that can be restarted on the same data directory and database, plus a fake
 * `chatd agent` that reports what it was given and what its sandbox lets it do.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { loadConfig } from "../../src/config/config.js";
import { startServer, type RunningServer } from "../../src/server/server.js";
import { groupHasLiveMembers } from "../../src/workspaces/provisioners/process.js";
import type { WorkspaceRuntimeTuning } from "../../src/workspaces/runtime.js";
import { freshDatabase, type FreshDatabase } from "./database.js";
import { apiRequester, field, type ApiResponse, type RequestOptions, type TestUser } from "./server.js";
import { waitFor } from "./wait.js";

/** Builds run real processes (tsx-compiled agents, git); a loaded machine needs more than 5 s. */
export const BUILD_DEADLINE_MS = 20_000;

export interface WorkspaceTestServer {
  server: RunningServer;
  database: FreshDatabase;
  dataDir: string;
  logs: string[];
  request(pathname: string, options?: RequestOptions): Promise<ApiResponse>;
  createOwner(): Promise<TestUser>;
  createUser(creator: TestUser, roles?: string[]): Promise<TestUser>;
  /** Stops this server (not the database). */
  stop(): Promise<void>;
  /** Stops this server, then starts a new one on the same data directory and database. */
  restart(): Promise<WorkspaceTestServer>;
  /** Stops the server and removes the database. */
  close(): Promise<void>;
}

let userCounter = 0;

export async function startWorkspaceServer(
  tuning: WorkspaceRuntimeTuning,
  reuse?: { database: FreshDatabase; dataDir: string },
): Promise<WorkspaceTestServer> {
  const database = reuse?.database ?? (await freshDatabase());
  const dataDir = reuse?.dataDir ?? database.location.dataDir;
  const logs: string[] = [];
  const config = loadConfig(
    { listen: "127.0.0.1:0", "data-dir": dataDir, "database-url": database.location.databaseUrl, "log-level": "debug" },
    {},
  );
  const server = await startServer(config, {
    logDestination: { write: (line: string) => void logs.push(line) },
    webDir: path.join(dataDir, "no-web-ui"),
    env: {},
    workspaces: tuning,
  });
  const request = apiRequester(server.url);
  const login = async (username: string, password: string): Promise<string> => {
    const response = await request("/api/v2/users/login", { method: "POST", body: { email: username, password } });
    const token = field(response.body, "session_token");
    if (typeof token !== "string") throw new Error(`login failed: ${response.text}`);
    return token;
  };
  const makeUser = async (path: string, token: string | undefined, roles?: string[]): Promise<TestUser> => {
    userCounter += 1;
    const username = `wsuser${userCounter}-${process.pid}`;
    const email = `${username}@example.com`;
    const password = `password-${userCounter}-secret`;
    const response = await request(path, { method: "POST", ...(token ? { token } : {}), body: { username, email, password, name: `User ${userCounter}`, ...(roles ? { roles } : {}) } });
    const id = field(response.body, "id");
    if (response.status !== 201 || typeof id !== "string") throw new Error(`create user failed: ${response.text}`);
    return { id, username, email, password, token: await login(username, password) };
  };
  const handle: WorkspaceTestServer = {
    server,
    database,
    dataDir,
    logs,
    request,
    createOwner: () => makeUser("/api/v2/users/first", undefined),
    createUser: (creator, roles) => makeUser("/api/v2/users", creator.token, roles),
    stop: () => server.close(),
    restart: async () => {
      await server.close();
      return startWorkspaceServer(tuning, { database, dataDir });
    },
    close: async () => {
      await server.close();
      await database.destroy();
    },
  };
  return handle;
}

/** Polls a workspace's latest build until it is final; returns the workspace body. */
export async function waitForWorkspaceBuild(t: WorkspaceTestServer, token: string, workspaceId: string, buildId?: string): Promise<unknown> {
  let body: unknown;
  await waitFor(
    async () => {
      body = (await t.request(`/api/v2/workspaces/${workspaceId}`, { token })).body;
      const latest = field(body, "latest_build");
      const status = field(latest, "status");
      return (buildId === undefined || field(latest, "id") === buildId) && (status === "succeeded" || status === "failed");
    },
    { timeoutMs: BUILD_DEADLINE_MS, intervalMs: 25, message: `build of workspace ${workspaceId}` },
  );
  return body;
}

export interface FakeAgent {
  /** argv prefix for the runtime's agentCommand. */
  command: string[];
  dir: string;
  /** The host path the agent writes as its /tmp probe (hidden from the host when sandboxed). */
  tmpProbe: string;
  /** Where the agent spawned for a project directory writes its report. */
  reportPath(projectDir: string): string;
  remove(): void;
}

export interface FakeAgentProbes {
  secretFile: string;
  dataDir: string;
  repoDir: string;
  serverPid: number;
}

/**
 * A stand-in for `chatd agent`: reads the token from stdin, runs the probes, starts a grandchild
 * (to check that stop reaches the whole group), writes `fake-agent.json` next to its project
 * directory's contents, and idles until SIGTERM. Plain JavaScript, so it starts in milliseconds.
 */
export function writeFakeAgent(probes: FakeAgentProbes): FakeAgent {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "chatd-fake-agent-"));
  // Unique per fake agent: other test files run unsandboxed agents at the same time, and a shared
  // name would let their host-side file look like a leak from this agent's private /tmp.
  const tmpProbe = path.join("/tmp", "chatd-probe-" + path.basename(dir));
  fs.writeFileSync(path.join(dir, "probes.json"), JSON.stringify({ ...probes, tmpProbe }));
  const script = path.join(dir, "fake-agent.mjs");
  fs.writeFileSync(
    script,
    `import fs from "node:fs";
import path from "node:path";
import { spawn, spawnSync } from "node:child_process";
const probes = JSON.parse(fs.readFileSync(new URL("./probes.json", import.meta.url), "utf8"));
const args = process.argv.slice(2);
const directory = args[args.indexOf("--directory") + 1];
const attempt = (fn) => { try { return fn() ?? "ok"; } catch (error) { return error.code ?? String(error); } };
let token = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => (token += chunk));
process.stdin.on("end", () => {
  const grandchild = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
  const report = {
    argv: args,
    cwd: process.cwd(),
    env: process.env,
    token,
    pid: process.pid,
    grandchildPid: grandchild.pid,
    probes: {
      readSecret: attempt(() => { fs.readFileSync(probes.secretFile); }),
      listDataDir: attempt(() => fs.readdirSync(probes.dataDir).join(",")),
      writeUsr: attempt(() => { fs.writeFileSync("/usr/chatd-probe", "x"); fs.rmSync("/usr/chatd-probe"); }),
      writeRepo: attempt(() => { const file = path.join(probes.repoDir, ".chatd-probe-" + process.pid); fs.writeFileSync(file, "x"); fs.rmSync(file); }),
      writeProject: attempt(() => { fs.writeFileSync(path.join(directory, "probe.txt"), "x"); }),
      writeTmp: attempt(() => { fs.writeFileSync(probes.tmpProbe, "x"); }),
      readServerEnviron: attempt(() => { fs.readFileSync("/proc/" + probes.serverPid + "/environ"); }),
      git: spawnSync("git", ["--version"]).status,
      node: spawnSync("node", ["--version"]).status,
    },
  };
  fs.writeFileSync(path.join(directory, "fake-agent.json.tmp"), JSON.stringify(report));
  fs.renameSync(path.join(directory, "fake-agent.json.tmp"), path.join(directory, "fake-agent.json"));
});
process.on("SIGTERM", () => process.exit(0));
setInterval(() => {}, 1000);
`,
  );
  return {
    command: [process.execPath, script],
    dir,
    tmpProbe,
    reportPath: (projectDir) => path.join(projectDir, "fake-agent.json"),
    remove: () => {
      fs.rmSync(dir, { recursive: true, force: true });
      fs.rmSync(tmpProbe, { force: true });
    },
  };
}

export interface FakeAgentReport {
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  token: string;
  pid: number;
  grandchildPid: number;
  probes: Record<string, string | number | null>;
}

function isReport(value: unknown): value is FakeAgentReport {
  return typeof value === "object" && value !== null && "token" in value && "env" in value && "probes" in value;
}

/** Waits for a fake agent report whose token differs from `previousToken`. */
export async function waitForReport(file: string, previousToken?: string): Promise<FakeAgentReport> {
  let report: FakeAgentReport | undefined;
  await waitFor(
    () => {
      if (!fs.existsSync(file)) return false;
      const parsed: unknown = JSON.parse(fs.readFileSync(file, "utf8"));
      if (!isReport(parsed) || parsed.token === previousToken) return false;
      report = parsed;
      return true;
    },
    { timeoutMs: BUILD_DEADLINE_MS, intervalMs: 20, message: `fake agent report ${file}` },
  );
  if (!report) throw new Error("no report");
  return report;
}

/** Whether a process group still has a running (non-zombie) member. */
export function groupAlive(pgid: number): boolean {
  return groupHasLiveMembers(pgid);
}

/**
 * A git repository served over git's "dumb" HTTP protocol (static files): a URL the sandboxed
 * setup script can clone, since /tmp paths on the host are hidden inside the sandbox.
 */
export async function serveGitRepository(files: Record<string, string>): Promise<{ url: string; close(): Promise<void> }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "chatd-git-"));
  const work = path.join(dir, "work");
  fs.mkdirSync(work);
  for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(work, name), content);
  const git = (args: string[], cwd: string) =>
    execFileSync("git", ["-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "init.defaultBranch=main", ...args], {
      cwd,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir },
      stdio: "ignore",
    });
  git(["init", "-q"], work);
  git(["add", "."], work);
  git(["commit", "-q", "-m", "initial"], work);
  git(["clone", "-q", "--bare", work, path.join(dir, "repo.git")], dir);
  git(["update-server-info"], path.join(dir, "repo.git"));
  const server = http.createServer((request, response) => {
    const file = path.join(dir, decodeURIComponent(new URL(request.url ?? "/", "http://localhost").pathname));
    if (!file.startsWith(`${dir}/`) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { "Content-Type": "application/octet-stream" });
    fs.createReadStream(file).pipe(response);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("git server has no port");
  return {
    url: `http://127.0.0.1:${address.port}/repo.git`,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
