/**
 * `execute` and `process_output`: run a shell command in the workspace and report its result
 * (behavior.md section 6). The process lives on the agent, so its state survives a server
 * failover; the tool only starts it and waits.
 *
 * Foreground: start, then block on the agent until exit or the timeout (re-waiting when the agent
 * returns early). On timeout or a transport error, one snapshot decides: exited → the real
 * result; still running → `success:false, exit_code:-1` with the `background_process_id`, so the
 * model can follow it with process_output instead of losing it.
 */
import { z } from "zod";
import { parseDurationMs, formatDurationMs } from "../../../config/duration.js";
import type { AgentResult } from "../../../agent/protocol.js";
import type { WorkspaceAgentClient } from "../../../workspaces/agent-conn/directory.js";
import { AgentUnavailableError } from "../../../workspaces/agent-conn/errors.js";
import { defineTool, type ChatTool } from "../registry.js";
import { agentForChat, workspaceToolOutput, WorkspaceToolError, type WorkspaceToolDeps } from "./agent.js";

/** Foreground commands give up waiting after this unless the model asks for longer (reference: 10 s). */
export const DEFAULT_EXECUTE_TIMEOUT_MS = 10_000;
/** process_output's default wait (reference: 10 s). */
export const DEFAULT_PROCESS_WAIT_MS = 10_000;
/** The agent caps one blocking wait at 5 minutes; asking for more only re-waits. */
const AGENT_MAX_WAIT_MS = 5 * 60_000;
/** The snapshot taken after a timeout gets this long (reference: 30 s). */
const SNAPSHOT_TIMEOUT_MS = 30_000;
/** Transport margin on top of a blocking wait, so the agent's answer beats our own deadline. */
const WAIT_CALL_MARGIN_MS = 10_000;
/**
 * The agent already keeps 16 KiB head + 16 KiB tail; this cap only bounds the JSON result, which
 * may carry the exact bytes again as base64 when the output is not UTF-8.
 */
const EXECUTE_RESULT_CAP_BYTES = 128 * 1024;

/** Non-interactive defaults: nothing may open an editor, pager or credential prompt and hang. */
export const EXECUTE_ENVIRONMENT: Readonly<Record<string, string>> = {
  CHATD_CHAT_AGENT: "true",
  GIT_EDITOR: "true",
  GIT_SEQUENCE_EDITOR: "true",
  EDITOR: "true",
  VISUAL: "true",
  GIT_TERMINAL_PROMPT: "0",
  NO_COLOR: "1",
  TERM: "dumb",
  PAGER: "cat",
  GIT_PAGER: "cat",
};

export const FILE_DUMP_NOTE = "Consider using read_file instead of dumping file contents with shell commands.";
const FILE_DUMP_PATTERNS = [/^cat\s+/, /^(rg|grep)\s+.*--include-all/, /^(rg|grep)\s+-l\s+/];

/** A trailing single `&` (not `&&`, not `|&`) asks for the background; it is stripped. */
export function splitBackground(command: string): { command: string; background: boolean } {
  const trimmed = command.trimEnd();
  if (!trimmed.endsWith("&") || trimmed.endsWith("&&") || trimmed.endsWith("|&")) return { command, background: false };
  const stripped = trimmed.slice(0, -1).trimEnd();
  return stripped === "" ? { command, background: false } : { command: stripped, background: true };
}

export function fileDumpNote(command: string): string | undefined {
  const trimmed = command.trim();
  return FILE_DUMP_PATTERNS.some((pattern) => pattern.test(trimmed)) ? FILE_DUMP_NOTE : undefined;
}

const durationSchema = z.string().max(32).describe('A duration such as "30s", "2m" or "500ms".');

function parseDurationInput(text: string | undefined, fallback: number, field: string): number {
  if (text === undefined || text.trim() === "") return fallback;
  const ms = parseDurationMs(text.trim());
  if (ms === undefined || ms < 0) throw new WorkspaceToolError(`invalid ${field} "${text}": use a duration such as "30s" or "2m"`);
  return ms;
}

export interface ExecuteResult {
  success: boolean;
  output?: string;
  /** Present only when the output is not valid UTF-8: the exact bytes, base64. */
  output_base64?: string;
  exit_code: number;
  wall_duration_ms: number;
  error?: string;
  truncated?: AgentResult<"process.output">["truncated"];
  note?: string;
  background_process_id?: string;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Output for the model: UTF-8 text as is (NUL included); anything else also as exact base64. */
export function decodeOutput(base64: string): Pick<ExecuteResult, "output" | "output_base64"> {
  const bytes = Buffer.from(base64, "base64");
  if (bytes.length === 0) return {};
  try {
    return { output: utf8.decode(bytes) };
  } catch {
    return { output: bytes.toString("utf8"), output_base64: base64 };
  }
}

function resultOf(output: AgentResult<"process.output">, started: number, note: string | undefined): ExecuteResult {
  const exitCode = output.exit_code ?? -1;
  return {
    success: exitCode === 0,
    ...decodeOutput(output.output_base64),
    exit_code: exitCode,
    wall_duration_ms: Math.round(performance.now() - started),
    ...(exitCode === 0 ? {} : { error: `command exited with code ${exitCode}` }),
    ...(output.truncated ? { truncated: output.truncated } : {}),
    ...(note ? { note } : {}),
  };
}

/** Waits for `id` to exit for up to `waitMs`, re-waiting when the agent answers early. */
async function waitForExit(agent: WorkspaceAgentClient, id: string, waitMs: number, signal: AbortSignal): Promise<AgentResult<"process.output"> | undefined> {
  const deadline = performance.now() + waitMs;
  for (;;) {
    const remaining = Math.max(0, Math.round(deadline - performance.now()));
    const slice = Math.min(remaining, AGENT_MAX_WAIT_MS);
    const output = await agent.call("process.output", { id, wait_ms: slice }, { signal, timeoutMs: slice + WAIT_CALL_MARGIN_MS });
    if (!output.running) return output;
    if (remaining === 0 || performance.now() >= deadline) return undefined;
  }
}

const executeInput = z.object({
  command: z.string().min(1).describe("The shell command (run with sh -c). End it with a single & to run it in the background."),
  timeout: durationSchema.optional().describe('How long to wait for a foreground command (default "10s"); it keeps running after that.'),
  workdir: z.string().optional().describe("Working directory; default the workspace's project directory."),
  run_in_background: z.boolean().optional().describe("Start and return at once with a background_process_id."),
});

const processOutputInput = z.object({
  process_id: z.string().min(1),
  wait_timeout: durationSchema.optional().describe('How long to wait for the process to exit (default "10s"; "0s" = just look).'),
});

export function executeTools(deps: WorkspaceToolDeps): ChatTool[] {
  const execute = defineTool({
    name: "execute",
    description:
      "Run a shell command in the workspace and get its exit code and output (the first and last 16 KiB). Use it for builds, tests, git and other programs. Long-running servers or watchers: run them in the background (run_in_background or a trailing &) and check on them with process_output. To read or change files prefer read_file, write_file and edit_files.",
    inputSchema: executeInput,
    outputCapBytes: EXECUTE_RESULT_CAP_BYTES,
    execute: (input, context) =>
      workspaceToolOutput(async () => {
        const started = performance.now();
        const split = splitBackground(input.command);
        const background = input.run_in_background === true || split.background;
        const timeoutMs = parseDurationInput(input.timeout, DEFAULT_EXECUTE_TIMEOUT_MS, "timeout");
        const note = fileDumpNote(split.command);
        const agent = await agentForChat(deps, context);
        const env = { ...EXECUTE_ENVIRONMENT, CHATD_CHAT_ID: context.chatId };
        const process = await agent.call(
          "process.start",
          { command: split.command, background, env, ...(input.workdir ? { workdir: input.workdir } : {}) },
          { signal: context.signal },
        );
        if (background) return { success: true, background_process_id: process.id, wall_duration_ms: Math.round(performance.now() - started) };
        let finished: AgentResult<"process.output"> | undefined;
        try {
          finished = await waitForExit(agent, process.id, timeoutMs, context.signal);
        } catch (error) {
          if (!(error instanceof AgentUnavailableError) || context.signal.aborted) throw error;
        }
        finished ??= await agent.call("process.output", { id: process.id, wait_ms: 0 }, { signal: context.signal, timeoutMs: SNAPSHOT_TIMEOUT_MS });
        if (!finished.running) return resultOf(finished, started, note);
        return {
          ...resultOf(finished, started, note),
          success: false,
          exit_code: -1,
          error: `command timed out after ${formatDurationMs(timeoutMs)}`,
          background_process_id: process.id,
        } satisfies ExecuteResult;
      }),
  });

  const processOutput = defineTool({
    name: "process_output",
    description:
      "Get the output and exit status of a process started by execute (a background one, or one that timed out), optionally waiting for it to finish.",
    inputSchema: processOutputInput,
    outputCapBytes: EXECUTE_RESULT_CAP_BYTES,
    execute: (input, context) =>
      workspaceToolOutput(async () => {
        const started = performance.now();
        const waitMs = parseDurationInput(input.wait_timeout, DEFAULT_PROCESS_WAIT_MS, "wait_timeout");
        const agent = await agentForChat(deps, context);
        const finished = waitMs > 0 ? await waitForExit(agent, input.process_id, waitMs, context.signal) : undefined;
        const output = finished ?? (await agent.call("process.output", { id: input.process_id, wait_ms: 0 }, { signal: context.signal, timeoutMs: SNAPSHOT_TIMEOUT_MS }));
        if (!output.running) return resultOf(output, started, undefined);
        return {
          success: true,
          ...decodeOutput(output.output_base64),
          exit_code: -1,
          wall_duration_ms: Math.round(performance.now() - started),
          ...(output.truncated ? { truncated: output.truncated } : {}),
          note: "process is still running",
        } satisfies ExecuteResult;
      }),
  });

  return [execute, processOutput];
}
