/**
 * The process API (behavior.md section 6, agent side): commands run as `sh -c` in their own
 * process group, with stdin closed and stdout+stderr captured into one HeadTailBuffer.
 *
 * Invariants:
 * - A process belongs to the chat that started it; any other chat gets `not_found`, as if it did
 *   not exist.
 * - A process counts as running until it exited AND its pipes closed, or PIPE_CLOSE_WAIT_MS after
 *   it exited (a background grandchild that inherited the pipe must not hold output open forever).
 *   Its exit code and complete output are known from that moment on.
 * - Signals go to the whole process group, so `sh -c 'a | b &'` stops as a unit.
 * - Exited processes are forgotten REAP_AFTER_MS after exit; shutdown() kills every group.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { stat } from "node:fs/promises";
import { constants as osConstants } from "node:os";
import { AgentError, badRequest, errnoCode, errorMessage, notFound } from "./errors.js";
import { HeadTailBuffer } from "./headtail.js";
import { resolveAgentPath } from "./paths.js";
import type { AgentResult, ProcessInfo } from "./protocol.js";

/** Go's exec.Cmd.WaitDelay in the reference: how long a finished process's pipes may stay open. */
export const PIPE_CLOSE_WAIT_MS = 5_000;
/** A blocking output wait holds a request and the server's tool call; 5 min bounds a forgotten one. */
export const OUTPUT_WAIT_CAP_MS = 5 * 60_000;
/** Exited processes stay readable this long so a late process_output still finds them; then memory is freed. */
export const REAP_AFTER_MS = 5 * 60_000;
/** process.list answers at most this many (running first, then newest): a tool result stays short. */
export const PROCESS_LIST_LIMIT = 10;
/** Process ids are short random hex: easy for a model to repeat, impossible to guess across chats. */
const PROCESS_ID_BYTES = 6;
/** Shells report death by signal N as exit status 128+N; we do the same so a kill reads familiar. */
const SIGNAL_EXIT_BASE = 128;

export interface ProcessOwner {
  /** The chat the request acted for ("" when none): only it can see the process. */
  chatId: string;
  /** The chat and its ancestors: whose git watches care when the process exits. */
  chatIds: readonly string[];
}

export interface ProcessExitEvent {
  id: string;
  chatIds: readonly string[];
  workdir: string;
}

export interface ProcessManagerOptions {
  /** The agent's directory: default workdir and base of relative ones. */
  directory: string;
  /** The environment children start from; the request's env is added on top. */
  env: NodeJS.ProcessEnv;
  pipeCloseWaitMs?: number;
  reapAfterMs?: number;
}

interface ManagedProcess {
  id: string;
  owner: ProcessOwner;
  command: string;
  workdir: string;
  background: boolean;
  startedAtMs: number;
  /** Start order: breaks ties between processes started in the same millisecond. */
  sequence: number;
  exitedAtMs?: number;
  exitCode?: number;
  pid: number;
  output: HeadTailBuffer;
  running: boolean;
  done: Promise<void>;
  reapTimer?: NodeJS.Timeout;
}

type StartParams = { command: string; workdir?: string | undefined; env?: Record<string, string> | undefined; background: boolean };

function unixSeconds(ms: number): number {
  return Math.floor(ms / 1000);
}

function signalExitCode(signal: NodeJS.Signals | null): number {
  const number = signal ? osConstants.signals[signal] : undefined;
  return number === undefined ? -1 : SIGNAL_EXIT_BASE + number;
}

export class ProcessManager {
  private readonly processes = new Map<string, ManagedProcess>();
  private readonly exitListeners = new Set<(event: ProcessExitEvent) => void>();
  private readonly pipeCloseWaitMs: number;
  private readonly reapAfterMs: number;
  private closed = false;
  private started = 0;

  constructor(private readonly options: ProcessManagerOptions) {
    this.pipeCloseWaitMs = options.pipeCloseWaitMs ?? PIPE_CLOSE_WAIT_MS;
    this.reapAfterMs = options.reapAfterMs ?? REAP_AFTER_MS;
  }

  /** Called once per process, after it is finalized (exit code and output complete). */
  onExit(listener: (event: ProcessExitEvent) => void): () => void {
    this.exitListeners.add(listener);
    return () => this.exitListeners.delete(listener);
  }

  /** The directory a request's workdir names; a missing one is a bad request, not a spawn failure. */
  async resolveWorkdir(workdir: string | undefined): Promise<string> {
    const resolved = workdir === undefined || workdir === "" ? this.options.directory : resolveAgentPath(workdir, this.options.directory);
    const info = await stat(resolved).catch(() => undefined);
    if (!info) throw badRequest(`workdir ${resolved} does not exist`);
    if (!info.isDirectory()) throw badRequest(`workdir ${resolved} is not a directory`);
    return resolved;
  }

  async start(params: StartParams, owner: ProcessOwner): Promise<AgentResult<"process.start">> {
    if (this.closed) throw new AgentError("internal", "the agent is shutting down");
    const workdir = await this.resolveWorkdir(params.workdir);
    const child = spawn("sh", ["-c", params.command], {
      cwd: workdir,
      env: { ...this.options.env, ...params.env },
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    // Listeners go on before the first await: output and exit may arrive right after the spawn.
    const output = new HeadTailBuffer();
    child.stdout?.on("data", (chunk: Buffer) => output.write(chunk));
    child.stderr?.on("data", (chunk: Buffer) => output.write(chunk));
    let exitCode: number | undefined;
    let exited = false;
    let pipesClosed = false;
    let pipeTimer: NodeJS.Timeout | undefined;
    let finalize: () => void = () => undefined;
    child.once("exit", (code, signal) => {
      exitCode = code ?? signalExitCode(signal);
      exited = true;
      // Whoever still holds our pipes (a `sleep 100 &`) keeps running; we just stop listening.
      pipeTimer = setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
        finalize();
      }, this.pipeCloseWaitMs);
      pipeTimer.unref();
    });
    child.once("close", () => {
      pipesClosed = true;
      finalize();
    });
    await new Promise<void>((resolve, reject) => {
      child.once("spawn", resolve);
      child.once("error", (error) => reject(new AgentError("internal", `could not start sh: ${errorMessage(error)}`)));
    });
    // Later 'error' events (a failed kill) must not crash the agent; signals go through process.kill anyway.
    child.on("error", () => undefined);
    const pid = child.pid;
    if (pid === undefined) throw new AgentError("internal", "sh started without a process id");

    const id = randomBytes(PROCESS_ID_BYTES).toString("hex");
    let finish: () => void = () => undefined;
    const entry: ManagedProcess = {
      id,
      owner,
      command: params.command,
      workdir,
      background: params.background,
      startedAtMs: Date.now(),
      sequence: this.started++,
      pid,
      output,
      running: true,
      done: new Promise<void>((resolve) => {
        finish = resolve;
      }),
    };
    this.processes.set(id, entry);
    finalize = () => {
      if (!entry.running || !exited) return;
      clearTimeout(pipeTimer);
      output.end();
      entry.running = false;
      entry.exitCode = exitCode ?? -1;
      entry.exitedAtMs = Date.now();
      finish();
      entry.reapTimer = setTimeout(() => this.processes.delete(id), this.reapAfterMs);
      entry.reapTimer.unref();
      for (const listener of this.exitListeners) listener({ id, chatIds: owner.chatIds, workdir });
    };
    if (pipesClosed) finalize();
    return { id, started_at_unix: unixSeconds(entry.startedAtMs) };
  }

  list(owner: ProcessOwner): AgentResult<"process.list"> {
    const mine = [...this.processes.values()].filter((entry) => entry.owner.chatId === owner.chatId);
    mine.sort((a, b) => Number(b.running) - Number(a.running) || b.startedAtMs - a.startedAtMs || b.sequence - a.sequence);
    return { processes: mine.slice(0, PROCESS_LIST_LIMIT).map((entry) => this.info(entry)) };
  }

  async output(params: { id: string; wait_ms: number }, owner: ProcessOwner): Promise<AgentResult<"process.output">> {
    const entry = this.find(params.id, owner);
    const waitMs = Math.min(params.wait_ms, OUTPUT_WAIT_CAP_MS);
    if (entry.running && waitMs > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([entry.done, new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs)))]);
      clearTimeout(timer);
    }
    const snapshot = entry.output.snapshot();
    return {
      running: entry.running,
      ...(entry.running ? {} : { exit_code: entry.exitCode }),
      output_base64: snapshot.bytes.toString("base64"),
      ...(snapshot.truncated ? { truncated: snapshot.truncated } : {}),
    };
  }

  signal(params: { id: string; signal: "terminate" | "kill" }, owner: ProcessOwner): AgentResult<"process.signal"> {
    const entry = this.find(params.id, owner);
    const name: NodeJS.Signals = params.signal === "kill" ? "SIGKILL" : "SIGTERM";
    const delivered = this.killGroup(entry.pid, name);
    if (!entry.running) return { message: `process ${entry.id} has already exited with code ${entry.exitCode ?? -1}` };
    if (!delivered) return { message: `process ${entry.id} is exiting; ${name} found nothing left to signal` };
    return { message: `sent ${name} to process ${entry.id} and its process group` };
  }

  /** Kills every process group we started (and any leftover grandchildren) and stops accepting work. */
  shutdown(): void {
    this.closed = true;
    for (const entry of this.processes.values()) {
      clearTimeout(entry.reapTimer);
      try {
        this.killGroup(entry.pid, "SIGKILL");
      } catch {
        // EPERM: the pid now belongs to someone else's group; nothing of ours is left there.
      }
    }
  }

  private find(id: string, owner: ProcessOwner): ManagedProcess {
    const entry = this.processes.get(id);
    if (!entry || entry.owner.chatId !== owner.chatId) throw notFound(`process ${id} not found`);
    return entry;
  }

  /** Whether the signal reached anyone; ESRCH (group already empty) is not an error. */
  private killGroup(pid: number, signal: NodeJS.Signals): boolean {
    try {
      process.kill(-pid, signal);
      return true;
    } catch (error) {
      if (errnoCode(error) === "ESRCH") return false;
      throw new AgentError("internal", `signalling process group ${pid}: ${errorMessage(error)}`);
    }
  }

  private info(entry: ManagedProcess): ProcessInfo {
    return {
      id: entry.id,
      command: entry.command,
      workdir: entry.workdir,
      background: entry.background,
      running: entry.running,
      ...(entry.exitCode === undefined ? {} : { exit_code: entry.exitCode }),
      started_at_unix: unixSeconds(entry.startedAtMs),
      ...(entry.exitedAtMs === undefined ? {} : { exited_at_unix: unixSeconds(entry.exitedAtMs) }),
    };
  }
}
