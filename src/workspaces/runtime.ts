/**
 * This replica's workspace machinery: runs the builds it accepted (in-process, `runner_id` = its
 * replica id), owns the provisioners and the sandbox probe, and on start cleans up after replicas
 * that died. Created before the HTTP server listens; the URL agents dial is set once it does.
 *
 * Invariants:
 * - A build runs at most once, on the replica that inserted it; its status only moves through
 *   builds.ts (runner-checked), so a build failed by recovery is never revived.
 * - close() aborts running builds (they finish as failed), waits for them, then stops every agent
 *   this replica spawned: an agent never outlives the server that owns it.
 * - Every build is bounded by BUILD_TIMEOUT_MS.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { and, desc, eq, inArray, isNotNull } from "drizzle-orm";
import type { Database } from "../db/client.js";
import { templates, users, workspaceAgents, workspaceBuilds, workspaces } from "../db/schema/index.js";
import type { Logger } from "../observability/logger.js";
import type { Pubsub } from "../pubsub/pubsub.js";
import { REPLICA_STALE_AFTER_MS } from "../replicas/registry.js";
import { issueAgent } from "./agents.js";
import { BuildLogWriter } from "./build-log.js";
import { failOrphanedBuilds, finishBuild, markBuildRunning, type BuildRow } from "./builds.js";
import { errorMessage } from "./errors.js";
import { CommandProvisioner } from "./provisioners/command.js";
import { LocalProvisioner } from "./provisioners/local.js";
import { defaultHiddenPaths, detectSandbox, type SandboxStatus } from "./provisioners/sandbox.js";
import type { ProvisionContext, Provisioner } from "./provisioners/types.js";
import { respawnLocalAgents } from "./recovery.js";
import { ensureDefaultTemplate, type IsolationStatus } from "./templates.js";
import { parameterValuesSchema } from "../sdk/schemas/workspaces.js";

/** A setup script or start command that runs longer than this is stuck (a prompt nobody answers). */
export const BUILD_TIMEOUT_MS = 30 * 60 * 1000;

const PACKAGE_ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** `chatd agent`, run by the same node and the same chatd checkout as this server. */
export const DEFAULT_AGENT_COMMAND: readonly string[] = [process.execPath, path.join(PACKAGE_ROOT, "bin", "chatd.mjs"), "agent"];

export interface WorkspaceRuntimeOptions {
  db: Database;
  pubsub: Pubsub;
  log: Logger;
  replicaId: string;
  dataDir: string;
  /** Program and leading arguments that run the agent (tests inject a fake). */
  agentCommand?: readonly string[];
  /** `off` runs local workspaces without bubblewrap even when it is installed (benchmarks, tests). */
  sandbox?: "auto" | "off";
  /** The server's environment; only PATH, LANG and TZ are read. Defaults to process.env. */
  hostEnv?: Readonly<Record<string, string | undefined>>;
  /** More directories to hide from local workspaces, besides the data directory and the home. */
  extraHiddenPaths?: readonly string[];
}

/** What a server's caller may tune (tests inject a fake agent; benchmarks turn isolation off). */
export type WorkspaceRuntimeTuning = Pick<WorkspaceRuntimeOptions, "agentCommand" | "sandbox" | "hostEnv" | "extraHiddenPaths">;

interface RunningBuild {
  controller: AbortController;
  done: Promise<void>;
}

export class WorkspaceRuntime {
  readonly local: LocalProvisioner;
  readonly command: CommandProvisioner;
  readonly replicaId: string;
  readonly #running = new Map<string, RunningBuild>();
  #serverUrl: string | undefined;
  #sandbox: Promise<SandboxStatus> | undefined;
  #closed = false;

  constructor(private readonly options: WorkspaceRuntimeOptions) {
    this.replicaId = options.replicaId;
    const hostEnv = options.hostEnv ?? process.env;
    this.local = new LocalProvisioner({
      dataDir: options.dataDir,
      agentCommand: options.agentCommand ?? DEFAULT_AGENT_COMMAND,
      sandbox: () => this.sandbox(),
      hiddenPaths: [...defaultHiddenPaths(options.dataDir), ...(options.extraHiddenPaths ?? [])],
      neededPaths: [PACKAGE_ROOT, nodePrefix(), ...agentPaths(options.agentCommand)],
      hostEnv,
      log: options.log,
    });
    this.command = new CommandProvisioner({ dataDir: options.dataDir, hostEnv });
  }

  /** The URL agents dial: the access URL, else this replica's listen URL. */
  get serverUrl(): string {
    if (this.#serverUrl === undefined) throw new Error("the workspace runtime has no server URL yet");
    return this.#serverUrl;
  }

  /** Set once the server listens. A wildcard listen address is dialled on loopback. */
  setServerUrl(url: string): void {
    const parsed = new URL(url);
    if (parsed.hostname === "0.0.0.0") parsed.hostname = "127.0.0.1";
    if (parsed.hostname === "[::]") parsed.hostname = "[::1]";
    this.#serverUrl = parsed.toString().replace(/\/$/, "");
  }

  /** Probed once per process (bwrap does not appear or vanish while the server runs). */
  sandbox(): Promise<SandboxStatus> {
    if (this.options.sandbox === "off") {
      this.#sandbox ??= Promise.resolve({ available: false, reason: "Local workspaces are not isolated: isolation is turned off for this server." });
    }
    this.#sandbox ??= detectSandbox((this.options.hostEnv ?? process.env).PATH);
    return this.#sandbox;
  }

  async isolation(): Promise<IsolationStatus> {
    const sandbox = await this.sandbox();
    return sandbox.available ? { isolated: true } : { isolated: false, ...(sandbox.reason ? { warning: sandbox.reason } : {}) };
  }

  /** Startup work: the sandbox probe, the default template, recovery after dead replicas. */
  async start(): Promise<void> {
    const { db, pubsub, log } = this.options;
    const sandbox = await this.sandbox();
    if (!sandbox.available) log.warn(sandbox.reason ?? "local workspaces are not isolated");
    await ensureDefaultTemplate(db);
    const failed = await failOrphanedBuilds(db, pubsub, REPLICA_STALE_AFTER_MS);
    if (failed.length > 0) log.warn({ builds: failed.map((build) => build.id) }, "failed workspace builds left behind by stopped replicas");
    await respawnLocalAgents({ db, replicaId: this.replicaId, staleAfterMs: REPLICA_STALE_AFTER_MS, local: this.local, serverUrl: this.serverUrl, log });
  }

  /** Runs `build` (inserted by this replica) in the background. */
  execute(build: BuildRow): void {
    if (this.#closed) return;
    const controller = new AbortController();
    const done = this.#run(build, controller.signal).finally(() => this.#running.delete(build.id));
    this.#running.set(build.id, { controller, done });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const running = [...this.#running.values()];
    for (const entry of running) entry.controller.abort(new Error("the server stopped while this build ran"));
    await Promise.all(running.map((entry) => entry.done));
    const stopped = await this.local.stopOwned();
    if (stopped.length > 0) {
      await this.options.db
        .update(workspaceAgents)
        .set({ pid: null })
        .where(inArray(workspaceAgents.id, stopped))
        .catch((error: unknown) => this.options.log.warn({ err: error }, "clearing stopped agents' pids failed"));
    }
  }

  async #run(build: BuildRow, stop: AbortSignal): Promise<void> {
    const { db, pubsub, log } = this.options;
    const buildLog = new BuildLogWriter(db, build.id, (error) => log.warn({ err: error, build_id: build.id }, "appending to a build log failed"));
    const timeout = AbortSignal.timeout(BUILD_TIMEOUT_MS);
    const signal = AbortSignal.any([stop, timeout]);
    try {
      const running = await markBuildRunning(db, pubsub, build);
      if (!running) return;
      const ctx = await this.#context(running, signal, (text) => buildLog.append(text));
      const provisioner: Provisioner = ctx.template.provisioner === "local" ? this.local : this.command;
      if (build.transition === "start") await provisioner.start(ctx);
      else if (build.transition === "stop") await provisioner.stop(ctx);
      else await provisioner.destroy(ctx);
      signal.throwIfAborted();
      await buildLog.flush();
      await finishBuild(db, pubsub, running, { status: "succeeded" });
    } catch (error) {
      const message = timeout.aborted
        ? `the build did not finish within ${BUILD_TIMEOUT_MS / 60_000} minutes`
        : errorMessage(stop.aborted ? stop.reason : error);
      buildLog.append(`\nThe build failed: ${message}\n`);
      await buildLog.flush();
      await finishBuild(db, pubsub, build, { status: "failed", error: message }).catch((failure: unknown) =>
        log.error({ err: failure, build_id: build.id }, "recording a failed workspace build failed"),
      );
    }
  }

  async #context(build: BuildRow, signal: AbortSignal, append: (text: string) => void): Promise<ProvisionContext> {
    const { db } = this.options;
    const [row] = await db
      .select({ workspace: workspaces, owner: users, template: templates })
      .from(workspaces)
      .innerJoin(users, eq(users.id, workspaces.ownerId))
      .innerJoin(templates, eq(templates.id, workspaces.templateId))
      .where(eq(workspaces.id, build.workspaceId))
      .limit(1);
    if (!row) throw new Error(`workspace ${build.workspaceId} not found`);
    const agent = build.transition === "start" ? await issueAgent(db, { workspaceId: build.workspaceId, buildId: build.id }) : undefined;
    const [earlier] = await db
      .select({ id: workspaceBuilds.id })
      .from(workspaceBuilds)
      .where(and(eq(workspaceBuilds.workspaceId, build.workspaceId), eq(workspaceBuilds.transition, "start"), eq(workspaceBuilds.status, "succeeded")))
      .limit(1);
    return {
      workspace: { id: row.workspace.id, name: row.workspace.name },
      owner: { id: row.owner.id, username: row.owner.username, name: row.owner.name, email: row.owner.email },
      template: row.template,
      parameters: parameterValuesSchema.parse(row.workspace.parameters),
      buildId: build.id,
      log: append,
      serverUrl: this.serverUrl,
      ...(agent ? { agent: { id: agent.agent.id, token: agent.token } } : {}),
      firstStart: earlier === undefined,
      signal,
      setAgentPid: async (agentId, pid) => {
        await db.update(workspaceAgents).set({ pid }).where(eq(workspaceAgents.id, agentId));
      },
      agentProcesses: async () => {
        const rows = await db
          .select({ agentId: workspaceAgents.id, pid: workspaceAgents.pid })
          .from(workspaceAgents)
          .where(and(eq(workspaceAgents.workspaceId, build.workspaceId), isNotNull(workspaceAgents.pid)))
          .orderBy(desc(workspaceAgents.createdAt));
        return rows.flatMap((entry) => (entry.pid === null ? [] : [{ agentId: entry.agentId, pid: entry.pid }]));
      },
    };
  }
}

/** A custom agent command's script must stay readable inside the sandbox too. */
function agentPaths(command: readonly string[] | undefined): string[] {
  return (command ?? []).filter((arg) => path.isAbsolute(arg)).map((arg) => path.dirname(arg));
}

/** The installation node runs from (`/usr`, `~/.nvm/versions/node/v20…`): its libraries must stay readable. */
function nodePrefix(): string {
  return path.dirname(path.dirname(fs.realpathSync(process.execPath)));
}
