/**
 * The agent's half of git credentials: a private directory holding the GIT_ASKPASS script and a
 * unix socket. git runs the script (`chatd gitaskpass`), which asks the agent over the socket;
 * the agent asks the server (AGENT_GIT_AUTH_PATH, with its own token) and answers.
 *
 * Invariants:
 * - The directory is created mode 0700 under os.tmpdir(), so only the workspace user can reach
 *   the socket, and it is removed on close().
 * - The agent token never leaves this process: children only get the socket path.
 * - Every socket conversation is one validated JSON line each way, bounded in size and time.
 */
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { errorMessage } from "./errors.js";
import { askpassRequestSchema, readJsonLine, type AskpassRequest, type AskpassResponse } from "./askpass-protocol.js";
import { AGENT_GIT_AUTH_PATH, gitAuthQuerySchema, gitAuthResponseSchema } from "./protocol.js";

/** git waits on the askpass script; a stuck server must not hang a `git push` forever. */
export const GIT_AUTH_TIMEOUT_MS = 30_000;
/** A client that connects and says nothing is dropped after this long. */
const SOCKET_IDLE_TIMEOUT_MS = 60_000;
const CHATD_BIN = fileURLToPath(new URL("../../bin/chatd.mjs", import.meta.url));

export interface AskpassOptions {
  /** The server's base URL (http or https). */
  url: string;
  token: string;
  log: (line: string) => void;
}

export interface AskpassService {
  /** Path of the script to put in GIT_ASKPASS. */
  scriptPath: string;
  /** Path of the unix socket to put in CHATD_AGENT_SOCKET. */
  socketPath: string;
  close(): Promise<void>;
}

/** Single-quotes a string for sh: the only character needing care inside '' is ' itself. */
function shellQuote(value: string): string {
  return `'${value.replace(/'/g, "'\\''")}'`;
}

export function askpassScript(): string {
  return `#!/bin/sh\nexec ${shellQuote(process.execPath)} ${shellQuote(CHATD_BIN)} gitaskpass "$@"\n`;
}

/** Asks the server for the credentials of `request.url`; the answer or a message for git's user. */
export async function fetchGitCredentials(options: { url: string; token: string }, request: AskpassRequest): Promise<AskpassResponse> {
  const query = gitAuthQuerySchema.parse({
    url: request.url,
    ...(request.chat_id ? { chat_id: request.chat_id } : {}),
    ...(request.git_branch ? { git_branch: request.git_branch } : {}),
    ...(request.git_remote_origin ? { git_remote_origin: request.git_remote_origin } : {}),
  });
  const endpoint = new URL(`${options.url.replace(/\/+$/, "")}${AGENT_GIT_AUTH_PATH}`);
  for (const [name, value] of Object.entries(query)) if (value !== undefined) endpoint.searchParams.set(name, value);
  let response: Response;
  try {
    response = await fetch(endpoint, {
      headers: { Authorization: `Bearer ${options.token}` },
      signal: AbortSignal.timeout(GIT_AUTH_TIMEOUT_MS),
    });
  } catch (error) {
    return { ok: false, error: `could not reach the chatd server: ${errorMessage(error)}` };
  }
  if (response.status === 404) {
    return { ok: false, error: `chatd has no git credentials for ${request.url}; the chat's owner must connect a token for that host first` };
  }
  if (response.status === 401) return { ok: false, error: "the chatd server rejected this workspace agent's token" };
  if (!response.ok) return { ok: false, error: `the chatd server answered HTTP ${response.status} for git credentials` };
  const parsed = gitAuthResponseSchema.safeParse(await response.json().catch(() => undefined));
  if (!parsed.success) return { ok: false, error: "the chatd server sent malformed git credentials" };
  return { ok: true, username: parsed.data.username, password: parsed.data.password };
}

async function answer(socket: Socket, options: AskpassOptions): Promise<void> {
  let reply: AskpassResponse;
  try {
    const request = askpassRequestSchema.safeParse(await readJsonLine(socket));
    if (!request.success) {
      reply = { ok: false, error: "malformed askpass request" };
    } else {
      options.log(`git asked for credentials for ${request.data.url}`);
      reply = await fetchGitCredentials(options, request.data);
      if (!reply.ok) options.log(`git credentials for ${request.data.url}: ${reply.error}`);
    }
  } catch (error) {
    reply = { ok: false, error: errorMessage(error) };
  }
  socket.end(`${JSON.stringify(reply)}\n`);
}

export async function startAskpass(options: AskpassOptions): Promise<AskpassService> {
  const directory = await mkdtemp(path.join(tmpdir(), "chatd-agent-"));
  await chmod(directory, 0o700);
  const scriptPath = path.join(directory, "askpass.sh");
  const socketPath = path.join(directory, "agent.sock");
  await writeFile(scriptPath, askpassScript(), { mode: 0o700 });

  const open = new Set<Socket>();
  const server: Server = createServer((socket) => {
    open.add(socket);
    socket.once("close", () => open.delete(socket));
    socket.setTimeout(SOCKET_IDLE_TIMEOUT_MS, () => socket.destroy());
    socket.on("error", () => undefined); // a client that went away mid-answer is not our problem
    void answer(socket, options);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(socketPath, () => {
      server.off("error", reject);
      resolve();
    });
  });
  server.unref();
  return {
    scriptPath,
    socketPath,
    close: async () => {
      for (const socket of open) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(directory, { recursive: true, force: true });
    },
  };
}
