/**
 * The `local` provisioner (PRODUCT.md section 5): a workspace is `<dataDir>/workspaces/<id>/`
 * with `home/` (its HOME), `project/` (the agent's directory, the setup script's cwd) and
 * `agent.log`. The setup script runs on the first start; every start spawns `chatd agent`, under
 * bubblewrap when it works here.
 *
 * Invariants:
 * - Nothing the server's environment holds reaches a workspace process (env.ts builds theirs).
 * - The agent token travels on the agent's stdin, never in its argv or environment.
 * - An agent runs in its own process group, recorded (by pid) on its agent row, so any replica
 *   on this machine can stop it; a recorded group is signalled only after checking it is still
 *   this workspace's (process.ts `groupBelongsTo`).
 * - Every agent this process spawned is stopped by `stopOwned` when the server closes.
 * - Stop keeps the directory; destroy removes it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Logger } from "../../observability/logger.js";
import { parameterEnv } from "../parameters.js";
import { minimalEnv } from "./env.js";
import { describeExit, groupBelongsTo, runLogged, terminateGroup } from "./process.js";
import { sandboxArgs, type SandboxStatus } from "./sandbox.js";
import { checkLocalRepository, hostCloneArgs, localRepositoryPath } from "./repository.js";
import type { ProvisionContext, ProvisionOwner, Provisioner } from "./types.js";

/** The parameter that names the repository to clone (the default template's). */
export const REPOSITORY_PARAMETER = "repository";

export interface LocalProvisionerOptions {
  dataDir: string;
  /** The program and leading arguments that run the agent; `--url … --token-stdin --directory …` follow. */
  agentCommand: readonly string[];
  sandbox: () => Promise<SandboxStatus>;
  /** Directories the sandbox hides (data directory, server user's home, …). */
  hiddenPaths: readonly string[];
  /** Directories the sandbox must keep readable even if hidden ones contain them (chatd, node). */
  neededPaths: readonly string[];
  hostEnv: Readonly<Record<string, string | undefined>>;
  log: Logger;
}

export interface WorkspaceDirs {
  root: string;
  home: string;
  project: string;
}

export interface AgentSpawn {
  workspaceId: string;
  agentId: string;
  owner: ProvisionOwner;
  token: string;
  serverUrl: string;
}

export class LocalProvisioner implements Provisioner {
  readonly #children = new Map<number, { child: ChildProcess; agentId: string }>();
  /** Groups we are stopping on purpose: their exit is not worth a warning. */
  readonly #stopping = new Set<number>();
  #workspacesDir: string | undefined;

  constructor(private readonly options: LocalProvisionerOptions) {}

  /** `<dataDir>/workspaces`, created on first use and resolved through symlinks (bwrap wants real paths). */
  #base(): string {
    if (this.#workspacesDir === undefined) {
      const dir = path.join(path.resolve(this.options.dataDir), "workspaces");
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
      this.#workspacesDir = fs.realpathSync(dir);
    }
    return this.#workspacesDir;
  }

  dirs(workspaceId: string): WorkspaceDirs {
    const root = path.join(this.#base(), workspaceId);
    return { root, home: path.join(root, "home"), project: path.join(root, "project") };
  }

  /** Whether this machine holds the workspace (its directory is in this replica's data directory). */
  holds(workspaceId: string): boolean {
    return fs.existsSync(this.dirs(workspaceId).root);
  }

  async start(ctx: ProvisionContext): Promise<void> {
    const agent = ctx.agent;
    if (!agent) throw new Error("a start build needs agent credentials");
    const dirs = this.dirs(ctx.workspace.id);
    if (!ctx.firstStart && !fs.existsSync(dirs.root)) throw this.#notHere(dirs.root);
    for (const dir of [dirs.root, dirs.home, dirs.project]) fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const sandbox = await this.options.sandbox();
    if (ctx.firstStart) await this.#cloneLocalRepository(ctx, dirs);
    if (ctx.firstStart && ctx.template.setupScript.trim() !== "") {
      ctx.log(`Running the setup script in ${dirs.project}${sandbox.available ? " (isolated with bubblewrap)" : " (not isolated)"}\n`);
      const env = { ...minimalEnv({ home: dirs.home, owner: ctx.owner, hostEnv: this.options.hostEnv }), ...parameterEnv(ctx.parameters) };
      const [command, ...args] = this.#wrap(sandbox, dirs, ["/bin/sh", "-c", ctx.template.setupScript]);
      if (command === undefined) throw new Error("empty setup command");
      const result = await runLogged({ command, args, cwd: dirs.project, env, log: ctx.log, signal: ctx.signal, killGroupOnExit: true });
      ctx.signal.throwIfAborted();
      if (result.code !== 0) throw new Error(`the setup script ${describeExit(result)}`);
    }
    // A leftover agent (a failed stop, a crashed server) must not run beside the new one.
    await this.#stopRecorded(ctx, dirs.root);
    ctx.signal.throwIfAborted();
    const pid = await this.spawnAgent({ workspaceId: ctx.workspace.id, agentId: agent.id, owner: ctx.owner, token: agent.token, serverUrl: ctx.serverUrl });
    try {
      await ctx.setAgentPid(agent.id, pid);
    } catch (error) {
      await this.#terminate(pid);
      throw error;
    }
    ctx.log(`Started the agent (process ${pid}); its output goes to ${path.join(dirs.root, "agent.log")}\n`);
  }

  /**
   * Clones a `repository` parameter that names a path on this machine, on the host (repository.ts
   * says why), unless the project already holds a clone (a retried first build).
   */
  async #cloneLocalRepository(ctx: ProvisionContext, dirs: WorkspaceDirs): Promise<void> {
    const value = ctx.parameters[REPOSITORY_PARAMETER];
    if (typeof value !== "string") return;
    const repository = localRepositoryPath(value);
    if (repository === undefined || fs.existsSync(path.join(dirs.project, ".git"))) return;
    const home = fs.realpathSync(os.homedir());
    const forbidden = this.options.hiddenPaths.filter((dir) => path.resolve(dir) !== home);
    const source = checkLocalRepository(repository, forbidden);
    ctx.log(`Cloning ${source} on the server's machine (the sandbox hides it from the workspace)\n`);
    const env = minimalEnv({ home: dirs.home, owner: ctx.owner, hostEnv: this.options.hostEnv });
    const result = await runLogged({ command: "git", args: hostCloneArgs(source, dirs.project), cwd: dirs.root, env, log: ctx.log, signal: ctx.signal, killGroupOnExit: true });
    ctx.signal.throwIfAborted();
    if (result.code !== 0) throw new Error(`cloning ${source} ${describeExit(result)}`);
  }

  async stop(ctx: ProvisionContext): Promise<void> {
    const dirs = this.dirs(ctx.workspace.id);
    if (!fs.existsSync(dirs.root)) throw this.#notHere(dirs.root);
    const stopped = await this.#stopRecorded(ctx, dirs.root);
    ctx.log(stopped > 0 ? "Stopped the agent\n" : "No agent was running\n");
  }

  async destroy(ctx: ProvisionContext): Promise<void> {
    const dirs = this.dirs(ctx.workspace.id);
    if (!fs.existsSync(dirs.root)) {
      ctx.log(`The workspace directory ${dirs.root} does not exist here; nothing to remove\n`);
      return;
    }
    await this.#stopRecorded(ctx, dirs.root);
    await removeTree(dirs.root);
    ctx.log(`Removed ${dirs.root}\n`);
  }

  /** Spawns the agent detached, token on stdin, output appended to agent.log; resolves with its pid. */
  async spawnAgent(input: AgentSpawn): Promise<number> {
    const dirs = this.dirs(input.workspaceId);
    const sandbox = await this.options.sandbox();
    const argv = [...this.options.agentCommand, "--url", input.serverUrl, "--token-stdin", "--directory", dirs.project];
    const [command, ...args] = this.#wrap(sandbox, dirs, argv);
    if (command === undefined) throw new Error("the agent command is empty");
    const env = minimalEnv({ home: dirs.home, owner: input.owner, hostEnv: this.options.hostEnv });
    const logFd = fs.openSync(path.join(dirs.root, "agent.log"), "a", 0o600);
    let child: ChildProcess;
    try {
      child = spawn(command, args, { cwd: dirs.project, env, detached: true, stdio: ["pipe", logFd, logFd] });
    } finally {
      fs.closeSync(logFd);
    }
    await new Promise<void>((resolve, reject) => {
      child.once("spawn", resolve);
      child.once("error", reject);
    });
    const pid = child.pid;
    if (pid === undefined) throw new Error("the agent process has no pid");
    // An agent that dies at once closes its stdin; the exit handler below reports that instead.
    child.stdin?.on("error", () => undefined);
    child.stdin?.end(`${input.token}\n`);
    this.#children.set(pid, { child, agentId: input.agentId });
    child.once("exit", (code, signal) => {
      this.#children.delete(pid);
      if (this.#stopping.delete(pid)) return;
      this.options.log.warn(
        { workspace_id: input.workspaceId, pid, code, signal, log: path.join(dirs.root, "agent.log") },
        "workspace agent exited on its own",
      );
    });
    child.unref();
    return pid;
  }

  /** Stops the agents this process spawned (server shutdown); returns their agent ids. */
  async stopOwned(): Promise<string[]> {
    const owned = [...this.#children.entries()];
    await Promise.all(owned.map(([pid]) => this.#terminate(pid).catch((error: unknown) => this.options.log.warn({ err: error, pid }, "stopping a workspace agent failed"))));
    return owned.map(([, entry]) => entry.agentId);
  }

  /** Whether the agent process group `pid` still runs here as this workspace's. */
  agentRunning(workspaceId: string, pid: number): boolean {
    return this.#children.has(pid) || groupBelongsTo(pid, this.dirs(workspaceId).root);
  }

  /** Stops an agent recorded with `pid` if it is still this workspace's (recovery after a restart). */
  async stopIfStillRunning(workspaceId: string, pid: number): Promise<void> {
    if (this.agentRunning(workspaceId, pid)) await this.#terminate(pid);
  }

  async #stopRecorded(ctx: ProvisionContext, root: string): Promise<number> {
    let stopped = 0;
    for (const record of await ctx.agentProcesses()) {
      if (this.#children.has(record.pid) || groupBelongsTo(record.pid, root)) {
        await this.#terminate(record.pid);
        stopped++;
      }
      await ctx.setAgentPid(record.agentId, null);
    }
    return stopped;
  }

  async #terminate(pid: number): Promise<void> {
    this.#stopping.add(pid);
    try {
      await terminateGroup(pid);
    } finally {
      // Someone else's child (another replica's) never reports its exit here.
      if (!this.#children.has(pid)) this.#stopping.delete(pid);
    }
  }

  #wrap(sandbox: SandboxStatus, dirs: WorkspaceDirs, argv: readonly string[]): string[] {
    if (!sandbox.available || sandbox.bwrap === undefined) return [...argv];
    const layout = { root: dirs.root, cwd: dirs.project, hidden: this.options.hiddenPaths, needed: this.options.neededPaths };
    return [sandbox.bwrap, ...sandboxArgs(layout), "--", ...argv];
  }

  #notHere(root: string): Error {
    return new Error(`the workspace directory ${root} does not exist on this machine (local workspaces live on the machine that created them)`);
  }
}

/** rm -rf that also copes with directories a workspace made read-only (chmod -w). */
async function removeTree(dir: string): Promise<void> {
  try {
    await fs.promises.rm(dir, { recursive: true, force: true });
  } catch (error) {
    if (!(error instanceof Error && "code" in error && (error.code === "EACCES" || error.code === "EPERM"))) throw error;
    await makeWritable(dir);
    await fs.promises.rm(dir, { recursive: true, force: true });
  }
}

async function makeWritable(dir: string): Promise<void> {
  await fs.promises.chmod(dir, 0o700).catch(() => undefined);
  const entries = await fs.promises.readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    if (entry.isDirectory()) await makeWritable(path.join(dir, entry.name));
  }
}
