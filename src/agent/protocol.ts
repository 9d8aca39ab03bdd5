/**
 * The workspace agent's RPC protocol: JSON text frames over the WebSocket the agent dials to
 * `/api/v2/workspaceagents/me/connect`. This file is the whole contract between the server
 * (workspaces/agent-conn) and the agent (agent/); both sides parse every frame with these schemas.
 *
 * Rules:
 * - The agent speaks first: one `hello`. The server sends nothing before it.
 * - The server sends `request`s; the agent answers each with exactly one `response` carrying the
 *   same `id`, in any order (requests run concurrently on the agent).
 * - A request names the chat it acts for (`chat_id`, plus `ancestor_chat_ids`). Processes belong
 *   to the chat that started them: another chat asking for them gets `not_found`. Paths the
 *   chat's tools touch decide which repositories its git watch reports.
 * - Streams (git watch) are opened by a request that names a `stream_id`; the agent then pushes
 *   `stream` frames for it until a `git.watch.stop` request or the socket closes.
 * - Process output travels as base64 of the exact bytes, so binary and NUL output survive.
 * - Liveness: the server pings (WebSocket ping) every AGENT_PING_INTERVAL_MS; an agent that
 *   hears nothing for AGENT_SILENCE_TIMEOUT_MS drops the socket and redials with backoff.
 */
import { z } from "zod";
import { desktopActionSchema } from "./desktop/schema.js";

export const AGENT_PROTOCOL_VERSION = 1;
/** The server closes an agent's socket with this code when its hello names another protocol. */
export const PROTOCOL_MISMATCH_CLOSE_CODE = 4002;
export const AGENT_CONNECT_PATH = "/api/v2/workspaceagents/me/connect";
/** The agent-token-authenticated endpoint `chatd gitaskpass` reaches through its agent. */
export const AGENT_GIT_AUTH_PATH = "/api/v2/workspaceagents/me/gitauth";
/** Server pings this often; the value matches the chat stream's ping (behavior.md section 4). */
export const AGENT_PING_INTERVAL_MS = 15_000;
/** Three missed pings: the link is dead even if TCP has not noticed. */
export const AGENT_SILENCE_TIMEOUT_MS = 3 * AGENT_PING_INTERVAL_MS;

// ---- Process API (behavior.md section 6, agent side) ----

export const processSignalSchema = z.enum(["terminate", "kill"]);

export const processStartParams = z.object({
  command: z.string().min(1),
  /** Absolute, or relative to the agent's directory. Default: agent directory, else $HOME. */
  workdir: z.string().optional(),
  /** Added to the agent's (already minimal) environment. */
  env: z.record(z.string(), z.string()).optional(),
  background: z.boolean().default(false),
});
export const processStartResult = z.object({ id: z.string(), started_at_unix: z.number() });

export const processInfoSchema = z.object({
  id: z.string(),
  command: z.string(),
  workdir: z.string().optional(),
  background: z.boolean(),
  running: z.boolean(),
  exit_code: z.number().int().optional(),
  started_at_unix: z.number(),
  exited_at_unix: z.number().optional(),
});
export type ProcessInfo = z.infer<typeof processInfoSchema>;
export const processListResult = z.object({ processes: z.array(processInfoSchema) });

export const truncationSchema = z.object({
  original_bytes: z.number().int(),
  retained_bytes: z.number().int(),
  omitted_bytes: z.number().int(),
  strategy: z.literal("head_tail"),
});
export type Truncation = z.infer<typeof truncationSchema>;

export const processOutputParams = z.object({
  id: z.string(),
  /** Block until the process exits or this many ms pass; 0 = snapshot. The agent caps it at 5 min. */
  wait_ms: z.number().int().min(0).default(0),
});
export const processOutputResult = z.object({
  running: z.boolean(),
  exit_code: z.number().int().optional(),
  /** Head and tail of stdout+stderr as base64; the gap marker is part of the bytes. */
  output_base64: z.string(),
  truncated: truncationSchema.optional(),
});
export type ProcessOutput = z.infer<typeof processOutputResult>;

export const processSignalParams = z.object({ id: z.string(), signal: processSignalSchema });
export const processSignalResult = z.object({ message: z.string() });

// ---- Files ----

export const fileReadParams = z.object({
  path: z.string().min(1),
  /** 1-based first line. */
  offset: z.number().int().min(1).default(1),
  limit: z.number().int().min(1).default(2000),
});
export const fileReadResult = z.object({
  content: z.string(),
  file_size: z.number().int(),
  total_lines: z.number().int(),
  lines_read: z.number().int(),
});

export const fileWriteParams = z.object({ path: z.string().min(1), content: z.string() });
export const okResult = z.object({ ok: z.literal(true) });

export const fileEditSchema = z.object({ search: z.string(), replace: z.string(), replace_all: z.boolean().optional() });
export const fileEditParams = z.object({
  files: z.array(z.object({ path: z.string().min(1), edits: z.array(fileEditSchema).min(1) })).min(1),
});

// ---- Instruction files (behavior.md section 5, item 5) ----

export const instructionsResult = z.object({
  os: z.string(),
  directory: z.string(),
  files: z.array(z.object({ path: z.string(), content: z.string(), truncated: z.boolean() })),
});
export type AgentInstructions = z.infer<typeof instructionsResult>;

// ---- Git watch ----

export const gitRepositorySchema = z.object({
  repo_root: z.string(),
  branch: z.string(),
  remote_origin: z.string().optional(),
  unified_diff: z.string().optional(),
  /** The repository was reported before and is gone (or no longer watched). */
  removed: z.boolean().optional(),
});
export const gitWatchMessageSchema = z.union([
  z.object({ type: z.literal("changes"), scanned_at: z.string(), repositories: z.array(gitRepositorySchema) }),
  z.object({ type: z.literal("error"), message: z.string() }),
]);
export type GitWatchMessage = z.infer<typeof gitWatchMessageSchema>;
export const gitWatchParams = z.object({ stream_id: z.string().min(1) });

// ---- Virtual desktop (behavior.md section 6, computer use) ----

export const desktopInfoSchema = z.object({
  display: z.string(),
  width: z.number().int(),
  height: z.number().int(),
  /** x11vnc's Unix socket on the workspace; speaks RFB 3.8. */
  vnc_socket: z.string(),
});
export const desktopActionParams = desktopActionSchema;
export const desktopActionResult = z.object({
  /** The screenshot taken after the action, a PNG of the whole display. */
  png_base64: z.string(),
  width: z.number().int(),
  height: z.number().int(),
});

export const vncStreamParams = z.object({ stream_id: z.string().min(1) });
/** 64 KiB of viewer input per request: far more than a VNC viewer sends at once (keys, pointer). */
export const MAX_VNC_WRITE_BASE64 = 4 * Math.ceil((64 * 1024) / 3);
export const vncWriteParams = vncStreamParams.extend({ data_base64: z.string().max(MAX_VNC_WRITE_BASE64).base64() });

// ---- Method table ----

export const agentMethods = {
  ping: { params: z.object({}), result: z.object({}) },
  "process.start": { params: processStartParams, result: processStartResult },
  "process.list": { params: z.object({}), result: processListResult },
  "process.output": { params: processOutputParams, result: processOutputResult },
  "process.signal": { params: processSignalParams, result: processSignalResult },
  "file.read": { params: fileReadParams, result: fileReadResult },
  "file.write": { params: fileWriteParams, result: okResult },
  "file.edit": { params: fileEditParams, result: okResult },
  "instructions.read": { params: z.object({}), result: instructionsResult },
  /** Opens a stream of GitWatchMessage for the request's chat; the first scan runs at once. */
  "git.watch.start": { params: gitWatchParams, result: z.object({}) },
  /** Rescans now (rate-limited to once a second). */
  "git.watch.refresh": { params: gitWatchParams, result: z.object({}) },
  "git.watch.stop": { params: gitWatchParams, result: z.object({}) },
  /** Starts the desktop (Xvfb + x11vnc) unless it runs; answers where it is. */
  "desktop.start": { params: z.object({}), result: desktopInfoSchema },
  /** One computer action (starting the desktop if needed), answered with the screenshot after it. */
  "desktop.action": { params: desktopActionParams, result: desktopActionResult },
  "desktop.stop": { params: z.object({}), result: z.object({}) },
  /** Connects a byte stream to x11vnc (starting the desktop if needed); bytes come back as `vnc` frames. */
  "desktop.vnc.open": { params: vncStreamParams, result: z.object({}) },
  /** Bytes from the viewer to x11vnc. */
  "desktop.vnc.write": { params: vncWriteParams, result: z.object({}) },
  "desktop.vnc.close": { params: vncStreamParams, result: z.object({}) },
} as const;
export type AgentMethod = keyof typeof agentMethods;
export const AGENT_METHODS = Object.keys(agentMethods).filter((name): name is AgentMethod => name in agentMethods);
export type AgentParams<M extends AgentMethod> = z.input<(typeof agentMethods)[M]["params"]>;
export type AgentResult<M extends AgentMethod> = z.output<(typeof agentMethods)[M]["result"]>;

// ---- Frames ----

export const AGENT_ERROR_CODES = ["not_found", "bad_request", "internal", "unknown_method"] as const;
export const agentErrorSchema = z.object({ code: z.enum(AGENT_ERROR_CODES), message: z.string() });
export type AgentErrorBody = z.infer<typeof agentErrorSchema>;

export const helloFrame = z.object({
  type: z.literal("hello"),
  protocol: z.number().int(),
  version: z.string(),
  os: z.string(),
  /** The agent's working directory: where relative paths and default workdirs resolve. */
  directory: z.string(),
});
export const responseFrame = z.union([
  z.object({ type: z.literal("response"), id: z.number().int(), ok: z.literal(true), result: z.unknown() }),
  z.object({ type: z.literal("response"), id: z.number().int(), ok: z.literal(false), error: agentErrorSchema }),
]);
export const streamFrame = z.object({ type: z.literal("stream"), stream_id: z.string(), data: gitWatchMessageSchema });
/**
 * Bytes from x11vnc for an open `desktop.vnc.open` stream, in order; the last frame of a stream
 * has `closed: true` (and no data).
 */
export const vncFrame = z.object({ type: z.literal("vnc"), stream_id: z.string(), data_base64: z.string(), closed: z.boolean().optional() });
export const agentToServerFrame = z.union([helloFrame, responseFrame, streamFrame, vncFrame]);
export type AgentToServerFrame = z.infer<typeof agentToServerFrame>;

export const requestFrame = z.object({
  type: z.literal("request"),
  id: z.number().int(),
  method: z.string(),
  params: z.unknown(),
  chat_id: z.string().optional(),
  ancestor_chat_ids: z.array(z.string()).optional(),
});
export type RequestFrame = z.infer<typeof requestFrame>;
export const serverToAgentFrame = requestFrame;

// ---- Git credentials (the agent calls the server over HTTP with its token) ----

/**
 * `GET AGENT_GIT_AUTH_PATH?url=&chat_id=&git_branch=&git_remote_origin=` with
 * `Authorization: Bearer <agent token>`. 200 answers the owner's credentials for that host; 404
 * means the owner has no token for it (gitaskpass then fails, and git says why).
 */
export const gitAuthQuerySchema = z.object({
  url: z.string().max(2048),
  chat_id: z.string().max(64).optional(),
  git_branch: z.string().max(1024).optional(),
  git_remote_origin: z.string().max(2048).optional(),
});
export const gitAuthResponseSchema = z.object({ username: z.string(), password: z.string() });

/** The method table seen per method, so a generic `M` indexes to its own schemas. */
type MethodSchemas = { [M in AgentMethod]: { params: z.ZodType<z.output<(typeof agentMethods)[M]["params"]>, AgentParams<M>>; result: z.ZodType<AgentResult<M>> } };
const methodSchemas: MethodSchemas = agentMethods;

export function agentResultSchema<M extends AgentMethod>(method: M): z.ZodType<AgentResult<M>> {
  return methodSchemas[method].result;
}
export function agentParamsSchema<M extends AgentMethod>(method: M): MethodSchemas[M]["params"] {
  return methodSchemas[method].params;
}
