/**
 * The chat metrics on /metrics move as chats run (issue 16), on both databases: time to running
 * and to first output once per run, terminal statuses, retries by reason, step and tool-call
 * durations, open streams, the queue depth and agent round trips. Values are read from the
 * Prometheus text, so the names the dashboard uses are checked as they are exported.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { z } from "zod";
import { defineTool } from "../../src/chatd/tools/registry.js";
import { startMockLlm, type MockLlm, type MockTurn, type RecordedRequest } from "../../src/llm/mock/index.js";
import { configureAnthropicModel, field, startTestServer, type TestServer, type TestUser } from "../helpers/server.js";
import { reloadChat } from "../helpers/chats.js";
import { waitFor } from "../helpers/wait.js";

const CHATS = "/api/experimental/chats";
let mock: MockLlm;
let t: TestServer;
let owner: TestUser;
let turns: MockTurn[] = [];

const echoTool = defineTool({ name: "echo", description: "Echoes", inputSchema: z.object({ text: z.string() }), execute: async (input) => ({ result: { echoed: input.text } }) });

beforeAll(async () => {
  mock = await startMockLlm({
    fallback: (request: RecordedRequest) => (request.stream ? (turns.shift() ?? { parts: [{ type: "text", text: "ok" }] }) : { parts: [{ type: "text", text: "A title" }] }),
  });
  t = await startTestServer({ chatTools: [echoTool] });
  owner = await t.createOwner();
  await configureAnthropicModel(t, owner, mock.baseUrls.anthropic);
});
afterAll(async () => {
  await t?.close();
  await mock?.close();
});

/** One sample's value from the exposition text; 0 when the series is absent. */
async function sample(name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = (await t.request("/metrics")).text;
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const labelText = line.startsWith(`${name}{`) ? line.slice(name.length + 1, line.indexOf("}")) : "";
    if (wanted.every((pair) => labelText.split(",").includes(pair))) return Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return 0;
}

async function runChat(text: string): Promise<string> {
  const created = await t.request(CHATS, { method: "POST", token: owner.token, body: { content: [{ type: "text", text }] } });
  const id = String(field(created.body, "id"));
  await waitFor(async () => (await reloadChat(t.server.database.db, id)).status === "waiting", { timeoutMs: 20_000, intervalMs: 10, message: "chat finished" });
  return id;
}

describe("chat metrics", () => {
  it("observe time to running, first output and the terminal status once per run", async () => {
    const before = {
      running: await sample("chatd_chat_time_to_running_seconds_count"),
      firstOutput: await sample("chatd_chat_time_to_first_output_seconds_count"),
      waiting: await sample("chatd_chat_terminal_status_total", { status: "waiting" }),
    };
    await runChat("one");
    await runChat("two");
    // The terminal status is counted after the status write a test waits for: wait on the metric.
    await waitFor(async () => (await sample("chatd_chat_terminal_status_total", { status: "waiting" })) === before.waiting + 2, { timeoutMs: 5_000, message: "terminal status counted" });
    expect(await sample("chatd_chat_time_to_running_seconds_count")).toBe(before.running + 2);
    expect(await sample("chatd_chat_time_to_first_output_seconds_count")).toBe(before.firstOutput + 2);
  });

  it("count retries by reason", async () => {
    const before = await sample("chatd_chat_retry_events_total", { reason: "rate_limited" });
    turns = [{ fault: { type: "http", status: 429, retryAfterSeconds: 0 } }, { parts: [{ type: "text", text: "after the retry" }] }];
    await runChat("retry me");
    expect(await sample("chatd_chat_retry_events_total", { reason: "rate_limited" })).toBe(before + 1);
  });

  it("observe step and tool-call durations by tool", async () => {
    const steps = await sample("chatd_chat_step_duration_seconds_count");
    const echoes = await sample("chatd_chat_tool_call_duration_seconds_count", { tool: "echo", outcome: "ok" });
    turns = [{ parts: [{ type: "tool-call", id: "toolu_m1", name: "echo", input: { text: "hi" } }] }, { parts: [{ type: "text", text: "done" }] }];
    await runChat("use the tool");
    expect(await sample("chatd_chat_tool_call_duration_seconds_count", { tool: "echo", outcome: "ok" })).toBe(echoes + 1);
    expect(await sample("chatd_chat_step_duration_seconds_count")).toBe(steps + 2);
  });

  it("gauge open chat streams and the queue", async () => {
    const chatId = await runChat("watch me");
    const base = await sample("chatd_active_chat_streams");
    const ws = new WebSocket(`${t.url.replace(/^http/, "ws")}${CHATS}/${chatId}/stream`, { headers: { Authorization: `Bearer ${owner.token}` } });
    await new Promise<void>((resolve, reject) => {
      ws.once("message", () => resolve());
      ws.once("error", reject);
    });
    expect(await sample("chatd_active_chat_streams")).toBe(base + 1);
    const closed = new Promise<void>((resolve) => ws.once("close", () => resolve()));
    ws.close();
    await closed;
    await waitFor(async () => (await sample("chatd_active_chat_streams")) === base, { timeoutMs: 5_000, message: "stream gauge back down" });
    const text = (await t.request("/metrics")).text;
    expect(text).toMatch(/^chatd_chat_queue_depth \d+$/m);
    expect(text).toMatch(/^chatd_chats_running \d+$/m);
    expect(text).toMatch(/^# TYPE chatd_chat_lease_losses_total counter$/m);
    expect(text).toMatch(/^# TYPE chatd_agent_call_duration_seconds histogram$/m);
  });
});
