/**
 * `chatd chat` as a user runs it: a child process talking to the real server over HTTP and
 * WebSocket, the model being the scripted mock LLM. Every CLI gets an empty config directory, so
 * a developer's own `chatd login` never leaks in.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { z } from "zod";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configureAnthropicModel, field, startTestServer, type TestServer, type TestUser } from "../helpers/server.js";
import { useMockLlm } from "../helpers/llm.js";
import { runChatd, type ChatdProcess } from "../helpers/process.js";
import { waitFor } from "../helpers/wait.js";
import { defineTool } from "../../src/chatd/tools/registry.js";
import type { MockTurn, RecordedRequest } from "../../src/llm/mock/index.js";
import { RESTART_MARKER } from "../../src/cli/transcript.js";

/** A CLI process compiles its sources with tsx first; on a loaded machine that takes seconds. */
const OUTPUT_TIMEOUT_MS = 30_000;
/** Title generation may try a few models; each attempt takes one queued turn. */
const SPARE_TURNS = 4;
/** How long the mock model "thinks" before each chunk, so its step starts after the previous step is stored. */
const THINKING_MS = 300;
/** 128 + SIGINT. */
const EXIT_INTERRUPTED = 130;

const mock = useMockLlm();
let configHome: string;

const echoTool = defineTool({
  name: "echo",
  description: "Echoes its text back",
  inputSchema: z.object({ text: z.string() }),
  execute: async ({ text }) => ({ result: { echoed: text } }),
});

/**
 * Queues answers for the next model requests: streamed requests (chat steps) take `steps` in
 * order; the others (title generation) get a title.
 */
function script(...steps: MockTurn[]): void {
  const queue = [...steps];
  const answer = (request: RecordedRequest): MockTurn =>
    request.stream ? (queue.shift() ?? { parts: [{ type: "text", text: "Nothing more." }] }) : { parts: [{ type: "text", text: "A title" }] };
  mock.enqueue(...Array.from({ length: steps.length + SPARE_TURNS }, () => answer));
}

/** A story that stops streaming after a few words and keeps the request open: a step in progress. */
const hangingStory: MockTurn = { parts: [{ type: "text", text: "Once upon a time in a land far away" }], fault: { type: "hang", afterChunks: 6 } };

async function waitForOutput(cli: ChatdProcess, stream: "stdout" | "stderr", text: string): Promise<void> {
  await waitFor(
    () => {
      if (cli[stream]().includes(text)) return true;
      if (cli.child.exitCode !== null) throw new Error(`chatd exited (${cli.child.exitCode}) before printing "${text}"\nstdout: ${cli.stdout()}\nstderr: ${cli.stderr()}`);
      return false;
    },
    { timeoutMs: OUTPUT_TIMEOUT_MS, message: `chatd to print "${text}" on ${stream}` },
  );
}

const count = (haystack: string, needle: string) => haystack.split(needle).length - 1;
const chatIdOf = (cli: ChatdProcess) => /chat ([0-9a-f-]{36})/.exec(cli.stderr())?.[1] ?? "";

/** Asserts the needles appear in this order, each once. */
function expectInOrder(text: string, needles: string[]): void {
  let at = -1;
  for (const needle of needles) {
    expect(count(text, needle), `"${needle}" once in:\n${text}`).toBe(1);
    const next = text.indexOf(needle);
    expect(next, `"${needle}" after the previous one in:\n${text}`).toBeGreaterThan(at);
    at = next;
  }
}

beforeAll(() => {
  configHome = fs.mkdtempSync(path.join(os.tmpdir(), "chatd-cli-home-"));
});
afterAll(() => {
  fs.rmSync(configHome, { recursive: true, force: true });
});

async function apiKeyFor(t: TestServer, user: TestUser): Promise<string> {
  const key = await t.request("/api/v2/users/me/keys", { method: "POST", token: user.token, body: { name: "cli" } });
  return String(field(key.body, "key"));
}

describe("chatd chat", () => {
  let t: TestServer;
  let owner: TestUser;
  let env: Record<string, string> = {};
  const chat = (...args: string[]) => runChatd(["chat", ...args], env);

  beforeAll(async () => {
    t = await startTestServer({ chatTools: [echoTool] });
    owner = await t.createOwner();
    await configureAnthropicModel(t, owner, mock.baseUrls.anthropic, {
      model_config: { cost: { input_price_per_million_tokens: "3", output_price_per_million_tokens: "15" } },
    });
    env = { CHATD_URL: t.url, CHATD_TOKEN: await apiKeyFor(t, owner), XDG_CONFIG_HOME: configHome };
  });
  afterAll(async () => {
    await t.close();
  });

  it("creates a chat, prints it live, then the cost, and exits 0; --follow prints the same history in order", async () => {
    script({ parts: [{ type: "reasoning", text: "Think it over." }, { type: "text", text: "The answer is 42." }], usage: { input: 1000, output: 100 } });
    const cli = chat("What", "is", "the", "answer?");
    expect(await cli.exited).toBe(0);
    expectInOrder(cli.stdout(), ["> What is the answer?", "Think it over.", "The answer is 42."]);
    // 1,000 input tokens at $3/M plus 100 output tokens at $15/M.
    expect(cli.stderr()).toContain("cost: $0.004500");
    expect(cli.stderr()).not.toContain(env.CHATD_TOKEN);
    // Not a terminal: no colour codes anywhere.
    expect(cli.stdout() + cli.stderr()).not.toMatch(/\x1b/);

    const follow = chat("--follow", chatIdOf(cli));
    expect(await follow.exited).toBe(0);
    expectInOrder(follow.stdout(), ["> What is the answer?", "Think it over.", "The answer is 42."]);
  });

  // At once, the next step's preview tends to arrive before the tool step's stored messages; after
  // a moment (as with a real model), after them. Each order once printed the result twice.
  it.each([
    ["at once", 0],
    ["after a moment", THINKING_MS],
  ])("prints each tool call and each tool result once, live and when followed (next step %s)", async (_, delay) => {
    script(
      { parts: [{ type: "text", text: "Let me echo." }, { type: "tool-call", id: "toolu_echo_1", name: "echo", input: { text: "ping" } }] },
      { parts: [{ type: "text", text: "Echoed it." }], chunkDelayMs: delay },
    );
    const cli = chat("Echo", "ping");
    expect(await cli.exited, cli.stderr()).toBe(0);
    const order = ["> Echo ping", "Let me echo.", '→ echo({"text":"ping"})', '← echo: {"echoed":"ping"}', "Echoed it."];
    expectInOrder(cli.stdout(), order);

    const follow = chat("--follow", chatIdOf(cli));
    expect(await follow.exited).toBe(0);
    expectInOrder(follow.stdout(), order);
  });

  it("--follow prints the history before the step in progress; Ctrl-C interrupts the chat through the API", async () => {
    script(hangingStory);
    const cli = chat("Tell", "me", "a", "story");
    await waitForOutput(cli, "stdout", "Once upon");
    const chatId = chatIdOf(cli);

    // The stream's snapshot puts the live step first; the prompt must still come before it.
    const follow = chat("--follow", chatId);
    await waitForOutput(follow, "stdout", "Once upon");
    expectInOrder(follow.stdout(), ["> Tell me a story", "Once upon"]);

    cli.child.kill("SIGINT");
    await waitForOutput(cli, "stderr", "interrupting the chat; press Ctrl-C again to exit");
    expect(await cli.exited).toBe(EXIT_INTERRUPTED);
    const stored = await t.request(`/api/experimental/chats/${chatId}`, { token: owner.token });
    expect(field(stored.body, "status")).toBe("waiting");
    // The partial step is kept, and neither viewer prints it a second time.
    const messages = await t.request(`/api/experimental/chats/${chatId}/messages`, { token: owner.token });
    expect(JSON.stringify(messages.body)).toContain("Once upon");
    expect(await follow.exited).toBe(0);
    expect(count(follow.stdout(), "Once upon")).toBe(1);
    expect(count(cli.stdout(), "Once upon")).toBe(1);
  });

  it("reports a refused token and an unknown chat on one line each, and refuses without a token", async () => {
    const noToken = runChatd(["chat", "hi"], { CHATD_URL: t.url, XDG_CONFIG_HOME: configHome });
    expect(await noToken.exited).toBe(2);
    expect(noToken.stderr()).toMatch(/^chatd: no API token: run chatd login, or set CHATD_TOKEN.*\n$/);

    const unknown = chat("--follow", "00000000-0000-4000-8000-000000000000");
    expect(await unknown.exited).toBe(1);
    expect(unknown.stderr()).toMatch(/^chatd: [^\n]*not found[^\n]*\(HTTP 404\)\n$/i);

    const refused = runChatd(["chat", "hi"], { ...env, CHATD_TOKEN: "not-a-real-token" });
    expect(await refused.exited).toBe(1);
    expect(refused.stderr()).toMatch(/^chatd: [^\n]*\(HTTP 401\); run chatd login, or check CHATD_TOKEN\n$/);
  });

  it("--model takes provider:model or a model name; an unknown or ambiguous one is a one-line error listing the models", async () => {
    const haiku = await configureAnthropicModel(t, owner, mock.baseUrls.anthropic, { model: "claude-haiku-4-5" });
    const provider = await t.request("/api/experimental/chats/providers", {
      method: "POST",
      token: owner.token,
      body: { provider: "openai", api_key: "sk-test-0000000000", base_url: mock.baseUrls.openai },
    });
    expect(provider.status).toBe(201);
    const other = await t.request("/api/experimental/chats/model-configs", {
      method: "POST",
      token: owner.token,
      body: { provider: "openai", model: "claude-haiku-4-5", context_limit: 100_000 },
    });
    expect(other.status).toBe(201);

    script({ parts: [{ type: "text", text: "Haiku here." }] });
    const named = chat("Who", "are", "you?", "--model", "anthropic:claude-haiku-4-5");
    expect(await named.exited, named.stderr()).toBe(0);
    expect(named.stdout()).toContain("Haiku here.");
    const created = await t.request(`/api/experimental/chats/${chatIdOf(named)}`, { token: owner.token });
    expect(field(created.body, "last_model_config_id")).toBe(haiku);
    expect(mock.requests.some((request) => request.stream && request.format === "anthropic" && request.model === "claude-haiku-4-5")).toBe(true);

    const ambiguous = chat("hi", "--model", "claude-haiku-4-5");
    expect(await ambiguous.exited).toBe(2);
    expect(ambiguous.stderr()).toMatch(/^chatd: --model "claude-haiku-4-5" matches 2 models: anthropic:claude-haiku-4-5 \([^)]+\), openai:claude-haiku-4-5 \([^)]+\); say provider:model, or pass the config id\n$/);

    const unknown = chat("hi", "--model", "gpt-9");
    expect(await unknown.exited).toBe(2);
    expect(unknown.stderr()).toBe(
      'chatd: --model "gpt-9": no such model; available: anthropic:claude-haiku-4-5, anthropic:claude-sonnet-4-5, openai:claude-haiku-4-5\n',
    );
  });
});

describe("chatd chat across a server restart", () => {
  let first: TestServer;
  let current: TestServer | undefined;
  let port = "";
  let env: Record<string, string> = {};

  /** The same database, data directory and port: what a restarted `chatd server` is. */
  const restart = () => startTestServer({ database: first.database, flags: { listen: `127.0.0.1:${port}`, "data-dir": first.database.location.dataDir } });
  const stop = async () => {
    await current?.server.close();
    current = undefined;
  };

  beforeAll(async () => {
    first = await startTestServer();
    current = first;
    port = new URL(first.url).port;
    const owner = await first.createOwner();
    await configureAnthropicModel(first, owner, mock.baseUrls.anthropic);
    env = { CHATD_URL: first.url, CHATD_TOKEN: await apiKeyFor(first, owner), XDG_CONFIG_HOME: configHome };
  });
  afterAll(async () => {
    await stop();
    await first.database.destroy();
  });

  it("reconnects without printing anything twice, and marks the step the new server runs again", async () => {
    script(hangingStory, { parts: [{ type: "text", text: "The end, told again." }] });
    const cli = runChatd(["chat", "Survive", "a", "restart"], env);
    await waitForOutput(cli, "stdout", "Once upon");
    await stop();
    await waitForOutput(cli, "stderr", "[reconnecting");
    current = await restart();
    expect(await cli.exited, cli.stderr()).toBe(0);
    // The story was cut off by the restart: the new server asks the model again, from the start.
    expectInOrder(cli.stdout(), ["> Survive a restart", "Once upon", RESTART_MARKER, "The end, told again."]);
  }, 60_000);

  it("exits at the second Ctrl-C when the first cannot reach the server", async () => {
    current ??= await restart();
    script(hangingStory);
    const cli = runChatd(["chat", "Hang", "on"], env);
    await waitForOutput(cli, "stdout", "Once upon");
    await stop();
    await waitForOutput(cli, "stderr", "[reconnecting");
    cli.child.kill("SIGINT");
    await waitForOutput(cli, "stderr", "could not interrupt the chat (cannot reach the chatd server");
    cli.child.kill("SIGINT");
    expect(await cli.exited).toBe(EXIT_INTERRUPTED);
    expect(cli.stderr()).toContain("exiting; the chat may still be running");
  }, 60_000);
});
