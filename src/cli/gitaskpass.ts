/**
 * `chatd gitaskpass "<prompt>"`: what git runs as GIT_ASKPASS inside a workspace. It asks the
 * workspace agent (over CHATD_AGENT_SOCKET) for the chat owner's credentials for the host in the
 * prompt and prints the username or the password, as the prompt asks. Exit 0 with the answer on
 * stdout, or 1 with one clear line on stderr (git then reports the authentication failure).
 *
 * Loads nothing but the socket protocol: git may run it twice per push.
 */
import { execFile } from "node:child_process";
import { connect } from "node:net";
import {
  AGENT_SOCKET_ENV,
  askpassResponseSchema,
  CHAT_ID_ENV,
  promptUrl,
  readJsonLine,
  type AskpassRequest,
  type AskpassResponse,
} from "../agent/askpass-protocol.js";

/** The agent waits up to 30 s for the server; a little more here so its answer, not ours, wins. */
const ANSWER_TIMEOUT_MS = 40_000;
/** Branch and origin are context for the server, not essential: a slow git is skipped. */
const GIT_CONTEXT_TIMEOUT_MS = 5_000;

function fail(message: string): number {
  process.stderr.write(`chatd gitaskpass: ${message}\n`);
  return 1;
}

/** One line of git output in the current directory, or undefined (not a repository, no origin). */
function gitContext(args: string[]): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile("git", args, { timeout: GIT_CONTEXT_TIMEOUT_MS }, (error, stdout) => {
      const line = String(stdout).trim();
      resolve(error || line === "" ? undefined : line);
    });
  });
}

function ask(socketPath: string, request: AskpassRequest): Promise<AskpassResponse> {
  return new Promise<AskpassResponse>((resolve, reject) => {
    const socket = connect(socketPath);
    socket.setTimeout(ANSWER_TIMEOUT_MS, () => socket.destroy(new Error("the workspace agent did not answer in time")));
    socket.once("error", reject);
    socket.once("connect", () => {
      socket.write(`${JSON.stringify(request)}\n`);
      readJsonLine(socket).then((raw) => {
        socket.destroy();
        const parsed = askpassResponseSchema.safeParse(raw);
        if (parsed.success) resolve(parsed.data);
        else reject(new Error("the workspace agent sent a malformed answer"));
      }, reject);
    });
  });
}

export async function runGitAskpass(args: string[]): Promise<number> {
  const prompt = args.join(" ");
  const kind = /^\s*username/i.test(prompt) ? "username" : /^\s*password/i.test(prompt) ? "password" : undefined;
  if (!kind) return fail(`cannot answer ${JSON.stringify(prompt)}: only git's Username/Password prompts are supported`);
  const socketPath = process.env[AGENT_SOCKET_ENV];
  if (!socketPath) return fail(`${AGENT_SOCKET_ENV} is not set; gitaskpass runs as GIT_ASKPASS under a chatd workspace agent`);
  const url = promptUrl(prompt);
  if (!url) return fail(`no URL in git's prompt ${JSON.stringify(prompt)}`);

  const chatId = process.env[CHAT_ID_ENV];
  // symbolic-ref also names an unborn branch (a fresh repository's first push); rev-parse does not.
  const [branch, origin] = await Promise.all([
    gitContext(["symbolic-ref", "--short", "-q", "HEAD"]).then((name) => name ?? gitContext(["rev-parse", "--abbrev-ref", "HEAD"])),
    gitContext(["config", "--get", "remote.origin.url"]),
  ]);
  const request: AskpassRequest = {
    prompt,
    url,
    ...(chatId ? { chat_id: chatId } : {}),
    ...(branch ? { git_branch: branch } : {}),
    ...(origin ? { git_remote_origin: origin } : {}),
  };
  let answer: AskpassResponse;
  try {
    answer = await ask(socketPath, request);
  } catch (error) {
    return fail(`could not reach the workspace agent at ${socketPath}: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!answer.ok) return fail(answer.error);
  process.stdout.write(`${kind === "username" ? answer.username : answer.password}\n`);
  return 0;
}
