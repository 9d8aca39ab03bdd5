/**
 * Running git for the agent itself (git watch scans, gitaskpass context): bounded output, a
 * timeout, and an environment that cannot disturb the user's own git commands.
 *
 * Invariants:
 * - GIT_OPTIONAL_LOCKS=0: a background scan never takes index.lock, so a `git commit` the model
 *   runs at the same moment does not fail with "index.lock exists".
 * - Inherited GIT_DIR / GIT_WORK_TREE / GIT_INDEX_FILE are dropped: `-C <dir>` alone decides the
 *   repository.
 * - Output beyond maxBytes is not buffered: git is stopped and the result says `truncated`.
 */
import { spawn } from "node:child_process";
import { errnoCode } from "./errors.js";

/** A scan must not hang on a stuck git (network filesystem, huge repository); 30 s is far past normal. */
export const GIT_TIMEOUT_MS = 30_000;
/** Default output bound for small queries (branch, remote, root). */
const DEFAULT_MAX_OUTPUT_BYTES = 64 * 1024;
const DROPPED_ENV = ["GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_PREFIX"];

export class GitNotInstalledError extends Error {
  constructor() {
    super("git is not installed in the workspace (or not on PATH)");
    this.name = "GitNotInstalledError";
  }
}

export interface GitResult {
  code: number;
  stdout: Buffer;
  stderr: string;
  /** Output went past maxBytes: stdout holds the first maxBytes and git was stopped. */
  truncated: boolean;
}

export interface GitOptions {
  maxBytes?: number;
  timeoutMs?: number;
}

function gitEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, GIT_OPTIONAL_LOCKS: "0", GIT_TERMINAL_PROMPT: "0" };
  for (const name of DROPPED_ENV) delete env[name];
  return env;
}

/** Runs `git -C cwd ...args`; resolves with any exit code, rejects only if git cannot run. */
export function runGit(cwd: string, args: readonly string[], options: GitOptions = {}): Promise<GitResult> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  return new Promise<GitResult>((resolve, reject) => {
    const child = spawn("git", ["-C", cwd, ...args], { env: gitEnv(), stdio: ["ignore", "pipe", "pipe"] });
    const chunks: Buffer[] = [];
    let size = 0;
    let truncated = false;
    let stderr = "";
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? GIT_TIMEOUT_MS);
    child.stdout.on("data", (chunk: Buffer) => {
      if (truncated) return;
      const room = maxBytes - size;
      if (chunk.length > room) {
        chunks.push(chunk.subarray(0, room));
        size = maxBytes;
        truncated = true;
        child.kill("SIGKILL");
        return;
      }
      chunks.push(chunk);
      size += chunk.length;
    });
    child.stderr.on("data", (chunk: Buffer) => {
      if (stderr.length < DEFAULT_MAX_OUTPUT_BYTES) stderr += chunk.toString("utf8");
    });
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(errnoCode(error) === "ENOENT" ? new GitNotInstalledError() : error);
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout: Buffer.concat(chunks), stderr: stderr.trim(), truncated });
    });
  });
}

/** stdout as trimmed text when git exits 0, else undefined (not a repository, no such config, ...). */
export async function gitLine(cwd: string, args: readonly string[]): Promise<string | undefined> {
  const result = await runGit(cwd, args);
  if (result.code !== 0) return undefined;
  const line = result.stdout.toString("utf8").trim();
  return line === "" ? undefined : line;
}

/** The top level of the work tree containing `dir`, or undefined when it is in none (or gone). */
export function repositoryRoot(dir: string): Promise<string | undefined> {
  return gitLine(dir, ["rev-parse", "--show-toplevel"]);
}

/** The checked-out branch; "HEAD" when detached. Works before the first commit, too. */
export async function currentBranch(root: string): Promise<string | undefined> {
  return (await gitLine(root, ["symbolic-ref", "--short", "-q", "HEAD"])) ?? (await gitLine(root, ["rev-parse", "--abbrev-ref", "HEAD"]));
}

export function remoteOrigin(root: string): Promise<string | undefined> {
  return gitLine(root, ["config", "--get", "remote.origin.url"]);
}
