/**
 * The workspace agent end to end, in-process: a fake server (ws) on one side, the real agent
 * (connection, dispatcher, tools, askpass socket) on the other, every frame checked against
 * protocol.ts. The child-process variant is agent-cli.test.ts.
 */
import { existsSync, mkdirSync, realpathSync, writeFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAgent, type RunningAgent } from "../../src/agent/agent.js";
import { MAX_CONSECUTIVE_UNAUTHORIZED } from "../../src/agent/connection.js";
import { AGENT_PROTOCOL_VERSION, PROTOCOL_MISMATCH_CLOSE_CODE } from "../../src/agent/protocol.js";
import { VERSION } from "../../src/version.js";
import { git, initRepo, isolateGitConfig } from "../helpers/agent-git.js";
import { AgentCallError, startFakeAgentServer, type AgentLink, type FakeAgentServer, type Scope } from "../helpers/agent-server.js";

const TOKEN = "abcdefghij-ABCDEFGHIJKLMNOPQRSTUV";
const chatA: Scope = { chat_id: "chat-a", ancestor_chat_ids: ["root-chat"] };
const chatB: Scope = { chat_id: "chat-b" };
/** Waits inside the agent; generous for a loaded machine, far below the test timeout. */
const WAIT_MS = 10_000;

let dir: string;
let server: FakeAgentServer;
let agent: RunningAgent;
let link: AgentLink;
const logs: string[] = [];
const credentials: Record<string, { username: string; password: string }> = {
  "https://github.com": { username: "x-access-token", password: "gh-secret" },
};
/** Authorization headers the fake git remote received. */
const gitRemoteAuth: string[] = [];

/** A git smart-HTTP remote that insists on Basic auth and records what it got. */
function gitRemote(request: IncomingMessage, response: ServerResponse): boolean {
  if (!request.url?.startsWith("/repo.git/")) return false;
  const auth = request.headers.authorization;
  if (!auth) {
    response.writeHead(401, { "WWW-Authenticate": 'Basic realm="fake"' }).end();
    return true;
  }
  gitRemoteAuth.push(auth);
  response.writeHead(403).end();
  return true;
}

async function run(command: string, scope: Scope = chatA, extra: { workdir?: string; env?: Record<string, string> } = {}) {
  const started = await link.rpc["process.start"]({ command, ...extra }, scope);
  const output = await link.rpc["process.output"]({ id: started.id, wait_ms: WAIT_MS }, scope);
  return { id: started.id, ...output, text: Buffer.from(output.output_base64, "base64").toString("utf8") };
}

async function callError(promise: Promise<unknown>): Promise<AgentCallError> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof AgentCallError)) throw new Error(`expected an error response, got ${String(error)}`);
  return error;
}

let restoreGitConfig: () => void = () => undefined;
const savedHome = process.env.HOME;

beforeAll(async () => {
  restoreGitConfig = isolateGitConfig();
  dir = realpathSync(await mkdtemp(path.join(tmpdir(), "chatd-agent-proto-")));
  process.env.HOME = path.join(dir, "home");
  mkdirSync(process.env.HOME);
  process.env.CHATD_AGENT_TOKEN = TOKEN; // must not leak into children
  server = await startFakeAgentServer({ token: TOKEN, credentials, route: gitRemote });
  credentials[server.url] = { username: "remote-user", password: "remote-pass" };
  agent = await startAgent({ url: server.url, token: TOKEN, directory: dir, log: (line) => logs.push(line), gitWatch: { minIntervalMs: 100 }, pipeCloseWaitMs: 300 });
  link = await server.nextLink();
});

afterAll(async () => {
  expect(server.invalidFrames).toEqual([]);
  await agent?.stop();
  await server?.close();
  await rm(dir, { recursive: true, force: true });
  restoreGitConfig();
  process.env.HOME = savedHome;
  delete process.env.CHATD_AGENT_TOKEN;
});

describe("workspace agent over the protocol", () => {
  it("says hello first: protocol, version, os, directory", () => {
    expect(link.hello).toEqual({ type: "hello", protocol: AGENT_PROTOCOL_VERSION, version: VERSION, os: "linux", directory: dir });
  });

  it("answers ping, unknown methods, bad params and malformed frames", async () => {
    expect(await link.rpc.ping({})).toEqual({});
    expect(await link.request("no.such.method", {})).toMatchObject({ ok: false, error: { code: "unknown_method" } });
    const bad = await link.request("file.read", { path: 42 });
    expect(bad).toMatchObject({ ok: false, error: { code: "bad_request" } });
    expect(bad.ok ? "" : bad.error.message).toContain("path");
    const before = link.frames.length;
    link.sendText('{"type":"request","id":77}');
    link.sendText("not json at all");
    await link.rpc.ping({});
    expect(link.frames.slice(before)).toContainEqual({ type: "response", id: 77, ok: false, error: { code: "bad_request", message: "malformed request frame" } });
    // The helper flags the answer to the hand-written request 77; nothing else may be off-protocol.
    expect(server.invalidFrames.splice(0)).toEqual(["response to unknown request 77"]);
  });

  it("runs processes: start, output, list, signal, scoped to the chat", async () => {
    const quick = await run("echo hi; echo oops >&2; exit 4");
    expect(quick).toMatchObject({ running: false, exit_code: 4 });
    expect(quick.text).toContain("hi\n");
    expect(quick.text).toContain("oops\n");

    const started = await link.rpc["process.start"]({ command: "echo started; sleep 300", background: true }, chatA);
    expect(started.started_at_unix).toBeGreaterThan(1_700_000_000);
    const snapshot = await link.rpc["process.output"]({ id: started.id }, chatA);
    expect(snapshot.running).toBe(true);
    const listed = await link.rpc["process.list"]({}, chatA);
    expect(listed.processes[0]).toMatchObject({ id: started.id, running: true, background: true, workdir: dir });

    expect((await link.rpc["process.list"]({}, chatB)).processes).toEqual([]);
    expect((await callError(link.rpc["process.output"]({ id: started.id }, chatB))).code).toBe("not_found");
    expect((await callError(link.rpc["process.signal"]({ id: started.id, signal: "kill" }, chatB))).code).toBe("not_found");

    expect((await link.rpc["process.signal"]({ id: started.id, signal: "terminate" }, chatA)).message).toContain("SIGTERM");
    const done = await link.rpc["process.output"]({ id: started.id, wait_ms: WAIT_MS }, chatA);
    expect(done).toMatchObject({ running: false, exit_code: 143 });
    expect(Buffer.from(done.output_base64, "base64").toString()).toBe("started\n");
  });

  it("gives children the askpass variables and never the agent token", async () => {
    const result = await run('echo "${CHATD_AGENT_TOKEN:-unset}|$GIT_ASKPASS|$CHATD_AGENT_SOCKET"');
    const [token, askpass, socket] = result.text.trim().split("|");
    expect(token).toBe("unset");
    expect(askpass && existsSync(askpass)).toBe(true);
    expect(socket && existsSync(socket)).toBe(true);
    expect(logs.join("\n")).not.toContain(TOKEN);
  });

  it("reads, writes and edits files relative to the agent directory", async () => {
    expect(await link.rpc["file.write"]({ path: "notes/todo.md", content: "one\ntwo\n" }, chatA)).toEqual({ ok: true });
    expect(await readFile(path.join(dir, "notes", "todo.md"), "utf8")).toBe("one\ntwo\n");
    expect(await link.rpc["file.read"]({ path: "notes/todo.md", offset: 2 }, chatA)).toEqual({
      content: "     2\ttwo\n",
      file_size: 8,
      total_lines: 2,
      lines_read: 1,
    });
    expect(await link.rpc["file.edit"]({ files: [{ path: "notes/todo.md", edits: [{ search: "two", replace: "2" }] }] }, chatA)).toEqual({ ok: true });
    expect(await readFile(path.join(dir, "notes", "todo.md"), "utf8")).toBe("one\n2\n");
    const missing = await callError(link.rpc["file.read"]({ path: "nope.txt" }, chatA));
    expect(missing.code).toBe("not_found");
    const ambiguous = await callError(link.rpc["file.edit"]({ files: [{ path: "notes/todo.md", edits: [{ search: "\n", replace: "" }] }] }, chatA));
    expect(ambiguous.code).toBe("bad_request");
  });

  it("reads instruction files", async () => {
    writeFileSync(path.join(dir, "AGENTS.md"), "<!-- internal -->\r\nUse pnpm.\r\n");
    expect(await link.rpc["instructions.read"]({}, chatA)).toEqual({
      os: "linux",
      directory: dir,
      files: [{ path: path.join(dir, "AGENTS.md"), content: "Use pnpm.", truncated: false }],
    });
  });

  it("watches the repositories a chat touched and pushes changes only when they change", async () => {
    const repo = path.join(dir, "repo");
    mkdirSync(repo);
    initRepo(repo);
    const chat: Scope = { chat_id: "chat-git" };
    await link.rpc["file.write"]({ path: "repo/new.txt", content: "fresh\n" }, chat);
    await link.rpc["git.watch.start"]({ stream_id: "w1" }, chat);
    const [first] = await link.waitForStream("w1", 1, "the first scan");
    expect(first).toMatchObject({ type: "changes", repositories: [{ repo_root: repo, branch: "main" }] });
    expect(first?.type === "changes" ? first.repositories[0]?.unified_diff : "").toContain("+fresh");

    await link.rpc["git.watch.refresh"]({ stream_id: "w1" }, chat);
    expect(link.stream("w1")).toHaveLength(1);

    // A process of the chat that changes the tree and exits triggers a scan without a refresh.
    await run("echo more >> README.md", chat, { workdir: "repo" });
    const messages = await link.waitForStream("w1", 2, "a scan after the process exited");
    const second = messages[1];
    expect(second?.type === "changes" ? second.repositories[0]?.unified_diff : "").toContain("+more");

    await link.rpc["git.watch.stop"]({ stream_id: "w1" }, chat);
    expect((await callError(link.rpc["git.watch.refresh"]({ stream_id: "w1" }, chat))).code).toBe("not_found");
    expect((await callError(link.rpc["git.watch.start"]({ stream_id: "w2" }, {}))).code).toBe("bad_request");
  });

  it("answers git credential prompts through the askpass script and the server", async () => {
    const askpass = (prompt: string, chatId: string) => run(`"$GIT_ASKPASS" "${prompt}"`, { chat_id: chatId }, { env: { CHATD_CHAT_ID: chatId } });
    const password = await askpass("Password for 'https://x-access-token@github.com': ", "chat-ask");
    expect(password).toMatchObject({ exit_code: 0, text: "gh-secret\n" });
    expect((await askpass("Username for 'https://github.com': ", "chat-ask")).text).toBe("x-access-token\n");
    const asked = server.gitAuthRequests.at(-1);
    expect(asked?.authorization).toBe(`Bearer ${TOKEN}`);
    expect(asked?.query.get("url")).toBe("https://github.com");
    expect(asked?.query.get("chat_id")).toBe("chat-ask");

    const unknown = await askpass("Password for 'https://gitlab.example.com': ", "chat-ask");
    expect(unknown.exit_code).toBe(1);
    expect(unknown.text).toContain("no git credentials for https://gitlab.example.com");
  });

  it("lets real git authenticate with credentials from the server", async () => {
    const repo = path.join(dir, "clone-src");
    mkdirSync(repo);
    initRepo(repo);
    git(repo, "remote", "add", "origin", `${server.url}/repo.git`);
    const result = await run("git ls-remote origin", { chat_id: "chat-git-auth" }, { workdir: "clone-src", env: { CHATD_CHAT_ID: "chat-git-auth", GIT_TERMINAL_PROMPT: "0" } });
    expect(result.exit_code).not.toBe(0); // the fake remote refuses after checking credentials
    expect(gitRemoteAuth).toContain(`Basic ${Buffer.from("remote-user:remote-pass").toString("base64")}`);
    const asked = server.gitAuthRequests.filter((request) => request.query.get("chat_id") === "chat-git-auth");
    expect(asked.length).toBeGreaterThanOrEqual(1);
    expect(asked[0]?.query.get("url")).toBe(server.url);
    expect(asked[0]?.query.get("git_branch")).toBe("main");
    expect(asked[0]?.query.get("git_remote_origin")).toBe(`${server.url}/repo.git`);
  });

  it("redials after the server drops the socket; streams of the old socket end", async () => {
    const chat: Scope = { chat_id: "chat-drop" };
    await link.rpc["git.watch.start"]({ stream_id: "old" }, chat);
    link.terminate();
    await link.closed;
    link = await server.nextLink();
    expect(link.hello.directory).toBe(dir);
    expect(await link.rpc.ping({})).toEqual({});
    expect((await callError(link.rpc["git.watch.refresh"]({ stream_id: "old" }, chat))).code).toBe("not_found");
    expect(logs.some((line) => line.includes("reconnecting in"))).toBe(true);
  });
});

describe("agent connection edge cases", () => {
  it("redials when the server stays silent past the silence timeout", async () => {
    const quiet = await startFakeAgentServer({ token: TOKEN });
    const silent = await startAgent({ url: quiet.url, token: TOKEN, directory: dir, log: () => undefined, silenceTimeoutMs: 200 });
    try {
      const first = await quiet.nextLink();
      await first.closed;
      const second = await quiet.nextLink();
      expect(await second.rpc.ping({})).toEqual({});
    } finally {
      await silent.stop();
      await quiet.close();
    }
  });

  it("gives up at once when the server refuses its protocol version", async () => {
    const server = await startFakeAgentServer({ token: TOKEN });
    const agent = await startAgent({ url: server.url, token: TOKEN, directory: dir, log: () => undefined });
    try {
      const link = await server.nextLink();
      link.closeWith(PROTOCOL_MISMATCH_CLOSE_CODE, "unsupported agent protocol 1; this server speaks 2");
      expect(await agent.fatal).toContain("unsupported agent protocol 1");
      expect(server.links).toHaveLength(1);
    } finally {
      await agent.stop();
      await server.close();
    }
  });

  it("gives up after repeated 401s: the token is dead", async () => {
    const strict = await startFakeAgentServer({ token: TOKEN });
    const lines: string[] = [];
    const refused = await startAgent({ url: strict.url, token: "zzzzzzzzzz-wrongwrongwrongwrongwr", directory: dir, log: (line) => lines.push(line) });
    try {
      expect(await refused.fatal).toContain("refused the agent token");
      expect(strict.refusedUpgrades).toBe(MAX_CONSECUTIVE_UNAUTHORIZED);
      expect(strict.links).toEqual([]);
      expect(lines.join("\n")).not.toContain("wrongwrong");
    } finally {
      await refused.stop();
      await strict.close();
    }
  });
});
