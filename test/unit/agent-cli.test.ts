/**
 * `chatd agent` as a real child process (`node bin/chatd.mjs agent --url … --token-stdin`), the
 * way a provisioner starts it, against the fake server.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, realpathSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeAgentServer, type AgentLink, type FakeAgentServer } from "../helpers/agent-server.js";
import { waitFor } from "../helpers/wait.js";
import { isGone } from "../helpers/process.js";

const CHATD_BIN = fileURLToPath(new URL("../../bin/chatd.mjs", import.meta.url));
const TOKEN = "abcdefghij-ABCDEFGHIJKLMNOPQRSTUV";
/** tsx compiles on start; a loaded machine can take a while. */
const START_TIMEOUT_MS = 20_000;
const WAIT_MS = 10_000;

interface AgentChild {
  child: ChildProcess;
  stderr(): string;
  exited: Promise<number | string>;
}

function spawnAgent(args: string[], env: Record<string, string> = {}): AgentChild {
  const base: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith("CHATD_")) base[name] = value;
  const child = spawn(process.execPath, [CHATD_BIN, "agent", ...args], { env: { ...base, ...env }, stdio: ["pipe", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | string>((resolve) => child.once("exit", (code, signal) => resolve(code ?? signal ?? "unknown")));
  return { child, stderr: () => stderr, exited };
}


async function run(link: AgentLink, command: string, env: Record<string, string> = {}) {
  const scope = { chat_id: "chat-cli" };
  const started = await link.rpc["process.start"]({ command, env }, scope);
  const output = await link.rpc["process.output"]({ id: started.id, wait_ms: WAIT_MS }, scope);
  return { id: started.id, ...output, text: Buffer.from(output.output_base64, "base64").toString("utf8") };
}

let dir: string;
let server: FakeAgentServer;
beforeAll(async () => {
  dir = realpathSync(await mkdtemp(path.join(tmpdir(), "chatd-agent-cli-")));
  server = await startFakeAgentServer({ token: TOKEN, credentials: { "https://github.com": { username: "x-access-token", password: "gh-secret" } } });
});
afterAll(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

describe("chatd agent (child process)", () => {
  it("takes its token from stdin, serves requests, and on SIGTERM kills its processes, cleans up and exits 0", async () => {
    const agent = spawnAgent(["--url", server.url, "--token-stdin", "--directory", dir], { CHATD_AGENT_TOKEN: "zzzzzzzzzz-notthetokennotthetokenno" });
    try {
      agent.child.stdin?.write(`${TOKEN}\n`); // stdin stays open, as a provisioner's pipe might
      const link = await server.nextLink(START_TIMEOUT_MS);
      expect(link.hello).toMatchObject({ type: "hello", os: "linux", directory: dir });

      const env = await run(link, 'echo "${CHATD_AGENT_TOKEN:-unset}|$GIT_ASKPASS"');
      const [token, askpass = ""] = env.text.trim().split("|");
      expect(token).toBe("unset");
      expect(existsSync(askpass)).toBe(true);

      const password = await run(link, `"$GIT_ASKPASS" "Password for 'https://github.com': "`, { CHATD_CHAT_ID: "chat-cli" });
      expect(password).toMatchObject({ exit_code: 0, text: "gh-secret\n" });
      expect(server.gitAuthRequests.at(-1)?.query.get("chat_id")).toBe("chat-cli");

      const sleeper = await link.rpc["process.start"]({ command: "echo $$; exec sleep 300", background: true }, { chat_id: "chat-cli" });
      let pid = 0;
      await waitFor(
        async () => {
          const output = await link.rpc["process.output"]({ id: sleeper.id }, { chat_id: "chat-cli" });
          pid = Number.parseInt(Buffer.from(output.output_base64, "base64").toString(), 10);
          return pid > 0;
        },
        { message: "the sleeper's pid" },
      );

      agent.child.kill("SIGTERM");
      expect(await agent.exited).toBe(0);
      await waitFor(() => isGone(pid), { message: "the agent's process group was killed" });
      expect(existsSync(path.dirname(askpass))).toBe(false);
      await link.closed;
      expect(agent.stderr()).not.toContain(TOKEN);
      expect(agent.stderr()).toContain("received SIGTERM");
    } finally {
      agent.child.kill("SIGKILL");
    }
  });

  it("exits 1 when the server keeps refusing its token", async () => {
    // URL and token from the environment, as the command provisioner's start command has them.
    const agent = spawnAgent([], { CHATD_AGENT_URL: server.url, CHATD_AGENT_TOKEN: "zzzzzzzzzz-wrongwrongwrongwrongwr" });
    try {
      expect(await agent.exited).toBe(1);
      expect(agent.stderr()).toContain("refused the agent token");
      expect(agent.stderr()).not.toContain("wrongwrong");
    } finally {
      agent.child.kill("SIGKILL");
    }
  });

  it("exits 2 on usage errors", async () => {
    const noUrl = spawnAgent([], { CHATD_AGENT_TOKEN: TOKEN });
    expect(await noUrl.exited).toBe(2);
    expect(noUrl.stderr()).toContain("--url");
    const noToken = spawnAgent(["--url", server.url]);
    expect(await noToken.exited).toBe(2);
    expect(noToken.stderr()).toContain("CHATD_AGENT_TOKEN");
    const badDir = spawnAgent(["--url", server.url, "--directory", path.join(dir, "missing")], { CHATD_AGENT_TOKEN: TOKEN });
    expect(await badDir.exited).toBe(2);
  });
});
