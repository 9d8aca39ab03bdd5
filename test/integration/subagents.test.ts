/**
 * The delegation tools end to end on the real server (both databases): a root chat scripted
 * through the mock LLM spawns a child chat, waits for it, messages it, closes it. The parent's and
 * the child's requests reach the mock in no fixed order, so one router picks each turn from the
 * request itself: whose conversation it is (the child's system prompt carries the sub-agent
 * instruction) and how far that conversation has got.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { eq } from "drizzle-orm";
import { createChat } from "../../src/chats/state.js";
import { messageParts } from "../../src/chats/store.js";
import { chats } from "../../src/db/schema/index.js";
import { defineTool } from "../../src/chatd/tools/registry.js";
import { SUBAGENT_INSTRUCTION } from "../../src/chatd/tools/subagents/index.js";
import { startMockLlm, type MockLlm, type MockTurn, type RecordedRequest } from "../../src/llm/mock/index.js";
import { configureAnthropicModel, startTestServer, type TestServer, type TestUser } from "../helpers/server.js";
import { liveMessages, reloadChat } from "../helpers/chats.js";
import { waitFor } from "../helpers/wait.js";

/** What the router reads of an Anthropic Messages request. */
const requestBody = z.object({
  system: z.unknown().optional(),
  messages: z.array(z.object({ role: z.string(), content: z.unknown() })),
  tools: z.array(z.object({ name: z.string() })).optional(),
});
type RequestBody = z.infer<typeof requestBody>;

interface Conversation {
  isChild: boolean;
  /** Assistant turns so far: 0 on the first request. */
  step: number;
  /** The whole request as text, to find ids and results in. */
  text: string;
  body: RequestBody;
}

type Router = (conversation: Conversation) => MockTurn;

const say = (text: string): MockTurn => ({ parts: [{ type: "text", text }], usage: { input: 1, output: 1 } });
const call = (id: string, name: string, input: Record<string, unknown>): MockTurn => ({
  parts: [{ type: "tool-call", id, name, input }],
  usage: { input: 1, output: 1 },
});
/** Streams long enough (20 s) that only an interrupt ends it while a test acts. */
const SLOW_ANSWER: MockTurn = { parts: [{ type: "text", text: "partial ".repeat(2000) }], chunkDelayMs: 10, usage: { input: 1, output: 1 } };

let router: Router = () => say("unscripted");
/** Text deltas the child must have streamed before the gate opens. */
const STREAMED_PARTS_BEFORE_INTERRUPT = 3;

function conversationOf(request: RecordedRequest): Conversation {
  const body = requestBody.parse(request.body);
  return {
    isChild: JSON.stringify(body.system ?? "").includes("delegated sub-agent"),
    step: body.messages.filter((message) => message.role === "assistant").length,
    text: JSON.stringify(body.messages),
    body,
  };
}

/** The child's id, read from the spawn_agent result the parent's request carries. */
function childIdIn(conversation: Conversation): string {
  const match = /chat_id\\*"\s*:\s*\\*"([0-9a-f-]{36})/.exec(conversation.text);
  if (!match?.[1]) throw new Error(`no chat_id in ${conversation.text}`);
  return match[1];
}

let mock: MockLlm;
let t: TestServer;
let owner: TestUser;
let modelConfigId = "";

/**
 * A parent-side test tool that holds the parent's run until its child's model call has streamed
 * some text, so an interrupt that follows meets a running child with a partial answer to keep.
 */
const gateTool = defineTool({
  name: "gate",
  description: "Waits for the test",
  inputSchema: z.object({}),
  execute: async (_input, { chatId }) => {
    const [child] = await childrenOf(chatId);
    if (!child) return { result: { error: "no child" }, isError: true };
    await waitFor(() => t.server.daemon.hub.bufferedParts(child.id).length >= STREAMED_PARTS_BEFORE_INTERRUPT, {
      timeoutMs: 15_000,
      message: "child streaming",
    });
    return { result: { open: true } };
  },
});

beforeAll(async () => {
  mock = await startMockLlm({
    // Titles and summaries are not streamed: they get a plain text and never take a scripted turn.
    fallback: (request) => (request.stream ? router(conversationOf(request)) : say("A title")),
  });
  t = await startTestServer({ chatTools: [gateTool] });
  owner = await t.createOwner();
  modelConfigId = await configureAnthropicModel(t, owner, mock.baseUrls.anthropic);
});
afterAll(async () => {
  await t?.close();
  await mock?.close();
});
beforeEach(() => {
  mock.reset();
});

const db = () => t.server.database.db;

async function startParent(text: string) {
  const { chat } = await createChat(db(), t.server.daemon.hints, {
    ownerId: owner.id,
    title: `test: ${text}`,
    modelConfigId,
    messages: [{ role: "user", parts: [{ type: "text", text }], createdBy: owner.id }],
  });
  return chat;
}

async function settled(chatId: string, statuses: readonly string[] = ["waiting", "error"]) {
  await waitFor(async () => statuses.includes((await reloadChat(db(), chatId)).status), {
    timeoutMs: 20_000,
    intervalMs: 10,
    message: `chat ${chatId} to reach ${statuses.join("/")}`,
  });
  return reloadChat(db(), chatId);
}

/** The result of the parent's tool call `callId`, with its error flag. */
async function toolResult(chatId: string, callId: string) {
  for (const row of await liveMessages(db(), chatId)) {
    const part = messageParts(row).find((p) => p.type === "tool-result" && p.tool_call_id === callId);
    if (part) return { result: part.result, isError: part.is_error === true };
  }
  throw new Error(`no result for ${callId}`);
}

async function childrenOf(chatId: string) {
  return db().select().from(chats).where(eq(chats.parentChatId, chatId));
}

const childRequests = () => mock.requests.filter((r) => r.stream && conversationOf(r).isChild);

describe("spawn_agent and wait_agent", () => {
  it("spawns a child with the parent's owner and model, waits for it and returns its report", async () => {
    router = (c) => {
      if (c.isChild) return say("child report: 42 files");
      if (c.step === 0) return call("toolu_spawn", "spawn_agent", { prompt: "count the files in the src directory and report" });
      if (c.step === 1) return call("toolu_wait", "wait_agent", { chat_id: childIdIn(c) });
      return say("parent done");
    };
    const parent = await startParent("delegate counting");
    expect((await settled(parent.id)).status).toBe("waiting");

    const [child] = await childrenOf(parent.id);
    expect(child).toMatchObject({
      ownerId: owner.id,
      lastModelConfigId: modelConfigId,
      parentChatId: parent.id,
      rootChatId: parent.id,
      workspaceId: null,
      title: "count the files in the src...",
      status: "waiting",
    });
    expect(await toolResult(parent.id, "toolu_spawn")).toMatchObject({
      result: { chat_id: child?.id, title: "count the files in the src...", status: "pending" },
      isError: false,
    });
    expect(await toolResult(parent.id, "toolu_wait")).toEqual({
      result: { chat_id: child?.id, title: "count the files in the src...", report: "child report: 42 files", status: "waiting" },
      isError: false,
    });
    // The child's prompt: the sub-agent instruction as a system block, the task as the only user
    // message, and none of the root-only tools.
    const [childRequest] = childRequests();
    const body = requestBody.parse(childRequest?.body);
    expect(JSON.stringify(body.system)).toContain(JSON.stringify(SUBAGENT_INSTRUCTION).slice(1, 60));
    expect(body.messages).toHaveLength(1);
    const childTools = (body.tools ?? []).map((tool) => tool.name);
    const rootOnly = ["spawn_agent", "wait_agent", "message_agent", "close_agent", "list_templates", "read_template", "create_workspace", "start_workspace"];
    expect(childTools.filter((name) => rootOnly.includes(name))).toEqual([]);
    expect(childTools).toContain("execute");
    const parentRequest = mock.requests.find((r) => r.stream && !conversationOf(r).isChild);
    const parentTools = requestBody.parse(parentRequest?.body).tools?.map((tool) => tool.name) ?? [];
    expect(parentTools).toEqual(expect.arrayContaining(rootOnly));
    // The parent's own prompt has no sub-agent instruction.
    expect(JSON.stringify(requestBody.parse(parentRequest?.body).system ?? "")).not.toContain("delegated sub-agent");
  });

  it("archiving the parent through the API archives the children it spawned", async () => {
    router = (c) => (c.isChild ? say("child done") : c.step === 0 ? call("toolu_spawn", "spawn_agent", { prompt: "a task" }) : say("parent done"));
    const parent = await startParent("spawn then archive");
    await settled(parent.id);
    const [child] = await childrenOf(parent.id);
    if (!child) throw new Error("no child");
    await settled(child.id);
    const archived = await t.request(`/api/experimental/chats/${parent.id}`, { method: "PATCH", token: owner.token, body: { archived: true } });
    expect(archived.status).toBe(204);
    expect((await reloadChat(db(), parent.id)).archived).toBe(true);
    expect((await reloadChat(db(), child.id)).archived).toBe(true);
    const response = await t.request(`/api/experimental/chats/${child.id}`, { token: owner.token });
    expect(response.body).toMatchObject({ archived: true, parent_chat_id: parent.id, root_chat_id: parent.id });
  });

  it("refuses an empty prompt and a given title is kept", async () => {
    router = (c) => {
      if (c.isChild) return say("ok");
      if (c.step === 0) return call("toolu_empty", "spawn_agent", { prompt: "   " });
      if (c.step === 1) return call("toolu_titled", "spawn_agent", { prompt: "do it", title: "My helper" });
      return say("done");
    };
    const parent = await startParent("spawn twice");
    await settled(parent.id);
    expect(await toolResult(parent.id, "toolu_empty")).toEqual({ result: { error: "prompt is required" }, isError: true });
    expect(await toolResult(parent.id, "toolu_titled")).toMatchObject({ result: { title: "My helper" }, isError: false });
  });

  it("a child in error fails wait_agent with its last assistant text", async () => {
    router = (c) => {
      if (c.isChild && c.step === 0) return { parts: [{ type: "text", text: "found half of it" }, { type: "tool-call", id: "toolu_x", name: "no_such_tool", input: {} }], usage: { input: 1, output: 1 } };
      if (c.isChild) return { fault: { type: "http", status: 401, message: "invalid x-api-key" } };
      if (c.step === 0) return call("toolu_spawn", "spawn_agent", { prompt: "fail please" });
      if (c.step === 1) return call("toolu_wait", "wait_agent", { chat_id: childIdIn(c) });
      return say("saw the error");
    };
    const parent = await startParent("delegate a failure");
    await settled(parent.id);
    const [child] = await childrenOf(parent.id);
    expect(child?.status).toBe("error");
    expect(await toolResult(parent.id, "toolu_wait")).toEqual({ result: { error: "found half of it" }, isError: true });
  });

  it("a child in error with no assistant text fails wait_agent with the fallback text", async () => {
    router = (c) => {
      if (c.isChild) return { fault: { type: "http", status: 401, message: "invalid x-api-key" } };
      if (c.step === 0) return call("toolu_spawn", "spawn_agent", { prompt: "fail please" });
      if (c.step === 1) return call("toolu_wait", "wait_agent", { chat_id: childIdIn(c) });
      return say("saw the error");
    };
    const parent = await startParent("delegate a silent failure");
    await settled(parent.id);
    expect(await toolResult(parent.id, "toolu_wait")).toEqual({ result: { error: "agent reached error status" }, isError: true });
  });

  it("times out while the child is still working", async () => {
    router = (c) => {
      if (c.isChild) return SLOW_ANSWER;
      if (c.step === 0) return call("toolu_spawn", "spawn_agent", { prompt: "work slowly" });
      if (c.step === 1) return call("toolu_wait", "wait_agent", { chat_id: childIdIn(c), timeout_seconds: 0.3 });
      if (c.step === 2) return call("toolu_close", "close_agent", { chat_id: childIdIn(c) });
      return say("gave up");
    };
    const parent = await startParent("delegate slow work");
    await settled(parent.id);
    expect(await toolResult(parent.id, "toolu_wait")).toEqual({ result: { error: "timed out waiting for delegated subagent completion" }, isError: true });
  });
});

describe("the descendant check", () => {
  it("wait_agent, message_agent and close_agent refuse a chat outside the caller's tree", async () => {
    const stranger = await startParent("another root chat");
    await settled(stranger.id);
    router = (c) => {
      if (c.step === 0) return call("toolu_w", "wait_agent", { chat_id: stranger.id });
      if (c.step === 1) return call("toolu_m", "message_agent", { chat_id: stranger.id, message: "hi" });
      if (c.step === 2) return call("toolu_c", "close_agent", { chat_id: stranger.id });
      if (c.step === 3) return call("toolu_bad", "wait_agent", { chat_id: "not-a-uuid" });
      return say("refused");
    };
    const parent = await startParent("reach into another tree");
    await settled(parent.id);
    const refused = { result: { error: "target chat is not a descendant of current chat" }, isError: true };
    for (const id of ["toolu_w", "toolu_m", "toolu_c", "toolu_bad"]) expect(await toolResult(parent.id, id)).toEqual(refused);
    expect((await liveMessages(db(), stranger.id)).filter((m) => m.role === "user")).toHaveLength(1);
  });

  it("a child calling spawn_agent gets no such tool", async () => {
    router = (c) => {
      if (c.isChild && c.step === 0) return call("toolu_nested", "spawn_agent", { prompt: "grandchild" });
      if (c.isChild) return say("could not delegate");
      if (c.step === 0) return call("toolu_spawn", "spawn_agent", { prompt: "try to delegate further" });
      if (c.step === 1) return call("toolu_wait", "wait_agent", { chat_id: childIdIn(c) });
      return say("done");
    };
    const parent = await startParent("nested delegation");
    await settled(parent.id);
    const [child] = await childrenOf(parent.id);
    if (!child) throw new Error("no child");
    expect(await toolResult(child.id, "toolu_nested")).toEqual({ result: { error: "Tool not found: spawn_agent" }, isError: true });
    expect(await childrenOf(child.id)).toEqual([]);
    expect(await toolResult(parent.id, "toolu_wait")).toMatchObject({ result: { report: "could not delegate" } });
  });
});

describe("message_agent and close_agent", () => {
  it("message_agent to an idle child starts it on the message; wait_agent returns the new report", async () => {
    router = (c) => {
      if (c.isChild) return say(c.text.includes("second question") ? "second answer" : "first answer");
      if (c.step === 0) return call("toolu_spawn", "spawn_agent", { prompt: "first question" });
      if (c.step === 1) return call("toolu_wait1", "wait_agent", { chat_id: childIdIn(c) });
      if (c.step === 2) return call("toolu_msg", "message_agent", { chat_id: childIdIn(c), message: "second question" });
      if (c.step === 3) return call("toolu_wait2", "wait_agent", { chat_id: childIdIn(c) });
      return say("done");
    };
    const parent = await startParent("talk to a child");
    await settled(parent.id);
    const [child] = await childrenOf(parent.id);
    expect(await toolResult(parent.id, "toolu_wait1")).toMatchObject({ result: { report: "first answer" } });
    expect(await toolResult(parent.id, "toolu_msg")).toEqual({
      result: { chat_id: child?.id, title: child?.title, status: "pending", interrupted: false },
      isError: false,
    });
    expect(await toolResult(parent.id, "toolu_wait2")).toMatchObject({ result: { report: "second answer", status: "waiting" } });
  });

  it("message_agent with interrupt stops the running child, which then answers the message", async () => {
    router = (c) => {
      if (c.isChild) return c.text.includes("change of plan") ? say("new plan done") : SLOW_ANSWER;
      if (c.step === 0) return call("toolu_spawn", "spawn_agent", { prompt: "long task" });
      if (c.step === 1) return call("toolu_gate", "gate", {});
      if (c.step === 2) return call("toolu_msg", "message_agent", { chat_id: childIdIn(c), message: "change of plan", interrupt: true });
      if (c.step === 3) return call("toolu_wait", "wait_agent", { chat_id: childIdIn(c) });
      return say("done");
    };
    const parent = await startParent("interrupt a child");
    await settled(parent.id);
    const [child] = await childrenOf(parent.id);
    expect(await toolResult(parent.id, "toolu_msg")).toEqual({
      result: { chat_id: child?.id, title: child?.title, status: "waiting", interrupted: true },
      isError: false,
    });
    expect(await toolResult(parent.id, "toolu_wait")).toMatchObject({ result: { report: "new plan done", status: "waiting" } });
    if (!child) throw new Error("no child");
    // History in order: the task, the interrupted partial answer, the message, the new answer.
    const history = (await liveMessages(db(), child.id)).filter((m) => m.role === "user" || m.role === "assistant");
    expect(history.map((m) => m.role)).toEqual(["user", "assistant", "user", "assistant"]);
    const partial = history[1];
    expect(partial && messageParts(partial)[0]?.text).toMatch(/^partial /);
  });

  it("close_agent interrupts a running child to waiting", async () => {
    router = (c) => {
      if (c.isChild) return SLOW_ANSWER;
      if (c.step === 0) return call("toolu_spawn", "spawn_agent", { prompt: "long task" });
      if (c.step === 1) return call("toolu_gate", "gate", {});
      if (c.step === 2) return call("toolu_close", "close_agent", { chat_id: childIdIn(c) });
      if (c.step === 3) return call("toolu_wait", "wait_agent", { chat_id: childIdIn(c) });
      return say("done");
    };
    const parent = await startParent("close a child");
    await settled(parent.id);
    const [child] = await childrenOf(parent.id);
    expect(await toolResult(parent.id, "toolu_close")).toEqual({
      result: { chat_id: child?.id, title: child?.title, terminated: true, status: "waiting" },
      isError: false,
    });
    const wait = await toolResult(parent.id, "toolu_wait");
    expect(wait).toMatchObject({ result: { status: "waiting" }, isError: false });
    expect(JSON.stringify(wait.result)).toMatch(/"report":"partial/);
    expect(childRequests()).toHaveLength(1);
  });
});
