/**
 * Running provisioning commands and ending process groups.
 *
 * Invariants:
 * - Every command runs in its own process group (detached), so stopping it reaches whatever it
 *   started, and signals to the server's own group never reach it.
 * - A command's result is its exit, not the end of its output: a start command that leaves a
 *   background agent holding the output pipe still completes. Output arriving after the exit (past
 *   a short drain) is read and discarded, never written to a finished build's log, and never left
 *   unread (a writer to a closed pipe could die of EPIPE).
 * - A group is signalled only when it is still the workspace's: its leader's command line names
 *   the workspace directory, or the leader is gone but members remain (Linux does not reuse a
 *   pid while a process group of that id exists).
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import { StringDecoder } from "node:string_decoder";

/** Output still buffered when a command exits is normally read within milliseconds. */
export const OUTPUT_DRAIN_AFTER_EXIT_MS = 200;
/** How long a stopped process group gets between SIGTERM and SIGKILL. */
export const STOP_GRACE_MS = 5_000;
/** How long after SIGKILL the kernel gets to remove the group before we report failure. */
const KILL_REAP_TIMEOUT_MS = 2_000;
/** Poll interval while waiting for a foreign process group (not our child) to disappear. */
const GROUP_POLL_INTERVAL_MS = 50;

export interface RunOptions {
  command: string;
  args: readonly string[];
  cwd: string;
  env: Record<string, string>;
  log: (text: string) => void;
  signal: AbortSignal;
  /** Kill whatever the command left running in its group once it exits (setup scripts). */
  killGroupOnExit: boolean;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
}

function hasCode(error: unknown, code: string): boolean {
  return error instanceof Error && "code" in error && error.code === code;
}

/** Sends `signal` to the process group `pgid`; false when the group no longer exists. */
export function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (error) {
    if (hasCode(error, "ESRCH")) return false;
    // EPERM: the group exists but is not ours to signal; say it exists so callers do not assume it died.
    if (hasCode(error, "EPERM")) return true;
    throw error;
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Whether the group has a member that is not a zombie. A zombie holds nothing but its pid, and
 * it may linger: a sandbox's inner process is reparented to the machine's init when bubblewrap
 * dies, and some inits (container and VM agents) reap only every few seconds. Without /proc,
 * any member counts.
 */
export function groupHasLiveMembers(pgid: number): boolean {
  if (!signalGroup(pgid, 0)) return false;
  let entries: string[];
  try {
    entries = fs.readdirSync("/proc");
  } catch {
    return true;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue;
    }
    // "pid (comm) state ppid pgrp …"; comm may hold spaces and parentheses, so split after the last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(fields[2]) === pgid && fields[0] !== "Z" && fields[0] !== "X") return true;
  }
  return false;
}

async function groupGone(pgid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (groupHasLiveMembers(pgid)) {
    if (Date.now() >= deadline) return false;
    await delay(GROUP_POLL_INTERVAL_MS);
  }
  return true;
}

/** SIGTERM to the group, up to `graceMs` for it to go, then SIGKILL. Throws if it survives even that. */
export async function terminateGroup(pgid: number, graceMs: number = STOP_GRACE_MS): Promise<void> {
  if (!groupHasLiveMembers(pgid) || !signalGroup(pgid, "SIGTERM")) return;
  if (await groupGone(pgid, graceMs)) return;
  signalGroup(pgid, "SIGKILL");
  if (!(await groupGone(pgid, KILL_REAP_TIMEOUT_MS))) throw new Error(`process group ${pgid} did not exit after SIGKILL`);
}

/**
 * Whether the process group `pgid` still belongs to the workspace at `root` (see the header).
 * Without /proc (not Linux) the leader's command line cannot be read and existence has to do.
 */
export function groupBelongsTo(pgid: number, root: string): boolean {
  // A group of zombies only (its processes killed, not yet reaped) runs nothing any more.
  if (!groupHasLiveMembers(pgid)) return false;
  if (!fs.existsSync("/proc/self")) return true;
  let cmdline: string;
  try {
    cmdline = fs.readFileSync(`/proc/${pgid}/cmdline`, "utf8");
  } catch {
    // The leader is gone but its group lives on: the id cannot have been reused.
    return true;
  }
  return cmdline.split("\0").some((arg) => arg === root || arg.startsWith(`${root}/`));
}

/** Streams a child's output to `log` through a UTF-8 decoder (a character split across chunks survives). */
function pipeOutput(child: ChildProcess, log: (text: string) => void): { stop(): void } {
  let open = true;
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    const decoder = new StringDecoder("utf8");
    stream.on("data", (chunk: Buffer) => {
      if (open) log(decoder.write(chunk));
    });
    stream.on("end", () => {
      if (open) log(decoder.end());
    });
    stream.on("error", () => undefined);
  }
  return {
    stop: () => {
      open = false;
    },
  };
}

/** Runs a command to completion with its output in the log; rejects only if it cannot be started. */
export async function runLogged(options: RunOptions): Promise<RunResult> {
  options.signal.throwIfAborted();
  const child = spawn(options.command, options.args, {
    cwd: options.cwd,
    env: options.env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output = pipeOutput(child, options.log);
  const closed = new Promise<void>((resolve) => child.once("close", () => resolve()));
  const onAbort = () => {
    if (child.pid !== undefined) void terminateGroup(child.pid).catch(() => undefined);
  };
  try {
    const result = await new Promise<RunResult>((resolve, reject) => {
      child.once("error", reject);
      child.once("exit", (code, signal) => resolve({ code, signal }));
      options.signal.addEventListener("abort", onAbort, { once: true });
    });
    await Promise.race([closed, delay(OUTPUT_DRAIN_AFTER_EXIT_MS)]);
    return result;
  } finally {
    options.signal.removeEventListener("abort", onAbort);
    output.stop();
    if (options.killGroupOnExit && child.pid !== undefined) signalGroup(child.pid, "SIGKILL");
  }
}

/** "exited with code 2" / "was killed by SIGTERM", for build errors. */
export function describeExit(result: RunResult): string {
  if (result.signal !== null) return `was killed by ${result.signal}`;
  return `exited with code ${result.code ?? "unknown"}`;
}
