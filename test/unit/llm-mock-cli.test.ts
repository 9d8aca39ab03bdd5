/**
 * Script-file validation and the `npm run mock-llm` command, run as a real child process.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseScript } from "../../src/llm/mock/index.js";

const CLI = "src/llm/mock/cli.ts";
const DEADLINE_MS = 15_000;

describe("parseScript", () => {
  it("accepts a bare array or {turns}, filling defaults", () => {
    const turn = { parts: [{ type: "tool-call", id: "c1", name: "t", input: { a: 1 } }] };
    expect(parseScript(JSON.stringify([turn]))).toMatchObject([{ parts: [{ chunks: 3 }] }]);
    expect(parseScript(JSON.stringify({ turns: [turn, {}] }))).toHaveLength(2);
  });

  it("names the file, the turn and the field of a mistake", () => {
    const bad = JSON.stringify([{}, { parts: [{ type: "tool-call", id: "c1", name: "t" }] }]);
    expect(() => parseScript(bad, "demo.json")).toThrow(/demo\.json: invalid mock script[\s\S]*\[1\]\.parts\[0\]\.input/);
    expect(() => parseScript(JSON.stringify([{ fault: { type: "http", status: 418 } }]))).toThrow(/\[0\]\.fault\.status/);
    expect(() => parseScript(JSON.stringify([{ colour: "red" }]))).toThrow(/colour/);
    expect(() => parseScript("[{", "broken.json")).toThrow(/broken\.json: not valid JSON/);
  });
});

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "mock-llm-cli-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function startCli(args: string[]) {
  const child = spawn(process.execPath, ["--import", "tsx", CLI, ...args], { cwd: process.cwd() });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return { child, output: () => ({ stdout, stderr }) };
}

function exited(child: ChildProcessWithoutNullStreams): Promise<number | null> {
  return new Promise((resolve, reject) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    const timer = setTimeout(() => reject(new Error("CLI did not exit in time")), DEADLINE_MS);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

/** Resolves with the first match of `pattern` in stdout, failing at the deadline or on exit. */
function waitForStdout(child: ChildProcessWithoutNullStreams, read: () => { stdout: string }, pattern: RegExp) {
  return new Promise<RegExpMatchArray>((resolve, reject) => {
    const check = () => {
      const found = read().stdout.match(pattern);
      if (!found) return;
      cleanup();
      resolve(found);
    };
    const onExit = () => {
      cleanup();
      reject(new Error(`CLI exited before printing ${pattern}: ${read().stdout}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no ${pattern} within ${DEADLINE_MS} ms: ${read().stdout}`));
    }, DEADLINE_MS);
    const cleanup = () => {
      clearTimeout(timer);
      child.stdout.off("data", check);
      child.off("exit", onExit);
    };
    child.stdout.on("data", check);
    child.once("exit", onExit);
    check();
  });
}

describe("mock-llm CLI", () => {
  it("serves the script, then echoes, logs without keys, and stops on SIGTERM", async () => {
    const script = join(dir, "script.json");
    await writeFile(script, JSON.stringify({ turns: [{ parts: [{ type: "text", text: "scripted hello" }] }] }));
    const { child, output } = startCli(["--port", "0", "--delay-ms", "0", "--script", script]);
    try {
      const [, url] = await waitForStdout(child, output, /listening on (http:\/\/127\.0\.0\.1:\d+)/);
      expect(output().stdout).toContain(`anthropic      ${url}/v1 `);
      expect(output().stdout).toContain(`google         ${url}/v1beta `);

      const ask = async (text: string, stream: boolean) => {
        const response = await fetch(`${url}/v1/chat/completions`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: "Bearer sk-cli-secret-key" },
          body: JSON.stringify({ model: "gpt-cli", stream, messages: [{ role: "user", content: text }] }),
        });
        return response.text();
      };
      // A non-streamed request (a title) is echoed and leaves the scripted turn for the chat step.
      expect(await ask("title me", false)).toContain('"content":"title me"');
      expect(await ask("first", true)).toContain('"scripted');
      expect(await ask("echo me", false)).toContain('"content":"echo me"');
      await waitForStdout(child, output, /openai-chat gpt-cli json -> default/);
      expect(output().stdout).toMatch(/openai-chat gpt-cli stream -> script \(0 left\)/);
      expect(output().stdout).not.toContain("sk-cli-secret-key");

      child.kill("SIGTERM");
      expect(await exited(child)).toBe(0);
      expect(output().stdout).toContain("SIGTERM, stopping");
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });

  it("refuses an invalid script with exit code 2 and says where the mistake is", async () => {
    const script = join(dir, "bad.json");
    await writeFile(script, JSON.stringify([{ parts: [{ type: "text" }] }]));
    const { child, output } = startCli(["--port", "0", "--script", script]);
    expect(await exited(child)).toBe(2);
    expect(output().stderr).toMatch(/invalid mock script[\s\S]*\[0\]\.parts\[0\]\.text/);
  });

  it("refuses unknown flags and bad numbers with exit code 2", async () => {
    const unknown = startCli(["--nope"]);
    expect(await exited(unknown.child)).toBe(2);
    expect(unknown.output().stderr).toContain("--nope");
    const badPort = startCli(["--port", "abc"]);
    expect(await exited(badPort.child)).toBe(2);
    expect(badPort.output().stderr).toContain("--port must be a non-negative integer");
  });
});

describe("scripts run by hand", () => {
  it("the README's example script parses, and its tool names are chatd's workspace tools", async () => {
    const { readFile } = await import("node:fs/promises");
    const turns = parseScript(await readFile("examples/mock-tools.json", "utf8"), "examples/mock-tools.json");
    const calls = turns.flatMap((turn) => (turn.parts ?? []).flatMap((part) => (part.type === "tool-call" ? [part.name] : [])));
    expect(calls).toEqual(["create_workspace", "write_file", "execute"]);
  });

  it("streamedTurnsOnly: a title request (not streamed) is echoed and leaves the scripted step for the chat", async () => {
    const { startMockLlm } = await import("../../src/llm/mock/index.js");
    const mock = await startMockLlm({ streamedTurnsOnly: true, turns: [{ parts: [{ type: "text", text: "scripted step" }] }] });
    try {
      const post = (stream: boolean) =>
        fetch(`${mock.baseUrls.anthropic}/messages`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ model: "m", max_tokens: 16, stream, messages: [{ role: "user", content: "title this" }] }),
        });
      const title = await (await post(false)).text();
      expect(title).toContain("title this");
      expect(mock.pendingTurns).toBe(1);
      expect(await (await post(true)).text()).toContain('"scripted');
      expect(mock.pendingTurns).toBe(0);
      expect(mock.requests.map((r) => r.answeredBy)).toEqual(["default", "script"]);
    } finally {
      await mock.close();
    }
  });
});
