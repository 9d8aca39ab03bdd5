/**
 * Computer use end to end (both databases): a root chat in a Local workspace, scripted through
 * the mock Anthropic server, spawns a computer-use sub-agent; the sub-agent runs on
 * claude-opus-4-6 with Anthropic's `computer` tool against the agent's real Xvfb desktop. It
 * takes a screenshot, starts an xterm with `execute`, clicks into it and types; every action
 * answers with a PNG that goes back to the model, and the test decodes those PNGs from the
 * requests the mock received to see the typed text change the screen.
 *
 * The parent's and the child's requests reach the mock in no fixed order, so one router picks each
 * turn from the request: the child's requests name the computer-use model.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { eq } from "drizzle-orm";
import { chats } from "../../src/db/schema/index.js";
import { messageParts } from "../../src/chats/store.js";
import { COMPUTER_USE_GUIDANCE, COMPUTER_USE_UNAVAILABLE } from "../../src/chatd/tools/computer-use/index.js";
import { COMPUTER_USE_MODEL } from "../../src/llm/resolve.js";
import { startMockLlm, type MockLlm, type MockTurn, type RecordedRequest } from "../../src/llm/mock/index.js";
import { configureAnthropicModel, field, startTestServer, type TestServer, type TestUser } from "../helpers/server.js";
import { liveMessages, reloadChat } from "../helpers/chats.js";
import { createChatViaApi, localTemplateId } from "../helpers/workspace-chat.js";
import { decodePng, differingPixels, type DecodedPng } from "../helpers/png.js";
import { waitFor } from "../helpers/wait.js";

function installed(program: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${program}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
/** Where tests keep artifacts for people to look at (as the browser tests do). */
const RESULTS_DIR = path.resolve(import.meta.dirname, "../../test-results");
const HAS_DESKTOP = ["Xvfb", "x11vnc", "xdotool", "import", "xterm"].every(installed);
if (!HAS_DESKTOP) console.warn("computer-use tests skipped: the desktop packages are missing (apt-get install -y xvfb x11vnc xdotool imagemagick xterm)");

/** What the router reads of an Anthropic Messages request. */
const requestBody = z.object({
  model: z.string(),
  system: z.unknown().optional(),
  messages: z.array(z.object({ role: z.string(), content: z.unknown() })),
  tools: z.array(z.looseObject({ name: z.string(), type: z.string().optional() })).optional(),
});
type RequestBody = z.infer<typeof requestBody>;
const imageBlock = z.object({ type: z.literal("image"), source: z.object({ type: z.literal("base64"), media_type: z.string(), data: z.string() }) });
const toolResultBlock = z.object({ type: z.literal("tool_result"), tool_use_id: z.string(), content: z.array(z.unknown()).optional() });

interface Conversation {
  isChild: boolean;
  step: number;
  text: string;
  body: RequestBody;
}

const say = (text: string): MockTurn => ({ parts: [{ type: "text", text }], usage: { input: 1, output: 1 } });
const call = (id: string, name: string, input: Record<string, unknown>): MockTurn => ({ parts: [{ type: "tool-call", id, name, input }], usage: { input: 1, output: 1 } });

function conversationOf(request: RecordedRequest): Conversation {
  const body = requestBody.parse(request.body);
  return {
    isChild: body.model === COMPUTER_USE_MODEL,
    step: body.messages.filter((message) => message.role === "assistant").length,
    text: JSON.stringify(body.messages),
    body,
  };
}

/** Screenshots the request returns to the model, by tool_use id, in message order. */
function screenshotsIn(body: RequestBody): Map<string, DecodedPng> {
  const shots = new Map<string, DecodedPng>();
  for (const message of body.messages) {
    if (!Array.isArray(message.content)) continue;
    for (const block of message.content) {
      const result = toolResultBlock.safeParse(block);
      if (!result.success) continue;
      for (const item of result.data.content ?? []) {
        const image = imageBlock.safeParse(item);
        if (image.success && image.data.source.media_type === "image/png") shots.set(result.data.tool_use_id, decodePng(Buffer.from(image.data.source.data, "base64")));
      }
    }
  }
  return shots;
}

/** The raw PNG bytes of one tool result's image, to keep as a test artifact. */
function toolResultImage(body: RequestBody, toolUseId: string): Buffer | undefined {
  for (const message of body.messages) {
    if (!Array.isArray(message.content)) continue;
    for (const block of message.content) {
      const result = toolResultBlock.safeParse(block);
      if (!result.success || result.data.tool_use_id !== toolUseId) continue;
      const image = (result.data.content ?? []).map((item) => imageBlock.safeParse(item)).find((parsed) => parsed.success);
      if (image?.success) return Buffer.from(image.data.source.data, "base64");
    }
  }
  return undefined;
}

function childIdIn(conversation: Conversation): string {
  const match = /chat_id\\*"\s*:\s*\\*"([0-9a-f-]{36})/.exec(conversation.text);
  if (!match?.[1]) throw new Error(`no chat_id in ${conversation.text}`);
  return match[1];
}

/** The xterm the child starts: top-left, white, running `cat` so typed text is echoed. */
const XTERM = "xterm -geometry 60x12+0+0 -bg white -fg black -e cat";
/** A point inside that xterm. */
const XTERM_POINT = [120, 60];
const TYPED = "hello from computer use";
/** The text must show up within this many short waits after typing (rendering is asynchronous). */
const MAX_RENDER_WAITS = 40;
/** Pixels that differ once the typed text is drawn: a line of glyphs is hundreds. */
const MIN_CHANGED_PIXELS = 50;

let router: (conversation: Conversation) => MockTurn | Promise<MockTurn> = () => say("unscripted");
let mock: MockLlm;
let t: TestServer;
let owner: TestUser;
let workspaceId = "";

beforeAll(async () => {
  mock = await startMockLlm({ fallback: (request) => (request.stream ? router(conversationOf(request)) : say("A title")) });
  t = await startTestServer();
  owner = await t.createOwner();
  await configureAnthropicModel(t, owner, mock.baseUrls.anthropic);
  const created = await t.request("/api/v2/workspaces", { method: "POST", token: owner.token, body: { template_id: await localTemplateId(t, owner), name: "desktop-ws" } });
  workspaceId = String(field(created.body, "id"));
  expect(created.status).toBe(201);
  await waitFor(
    async () => {
      const workspace = await t.request(`/api/v2/workspaces/${workspaceId}`, { token: owner.token });
      return field(workspace.body, "status") === "running" && field(field(workspace.body, "agent"), "status") === "connected";
    },
    { timeoutMs: 60_000, intervalMs: 100, message: "workspace ready" },
  );
}, 90_000);
afterAll(async () => {
  await t?.close();
  await mock?.close();
});
beforeEach(() => {
  mock.reset();
});

async function setDesktop(enabled: boolean): Promise<void> {
  const response = await t.request("/api/experimental/chats/config/desktop-enabled", { method: "PUT", token: owner.token, body: { enable_desktop: enabled } });
  expect(response.status).toBe(204);
}

async function settled(chatId: string, timeoutMs = 60_000) {
  await waitFor(async () => ["waiting", "error"].includes((await reloadChat(t.server.database.db, chatId)).status), {
    timeoutMs,
    intervalMs: 20,
    message: `chat ${chatId} settles`,
  });
  return reloadChat(t.server.database.db, chatId);
}

async function toolResult(chatId: string, callId: string) {
  for (const row of await liveMessages(t.server.database.db, chatId)) {
    const part = messageParts(row).find((p) => p.type === "tool-result" && p.tool_call_id === callId);
    if (part) return { result: part.result, isError: part.is_error === true };
  }
  throw new Error(`no result for ${callId}`);
}

const toolNames = (request: RecordedRequest | undefined) => requestBody.parse(request?.body).tools?.map((tool) => tool.name) ?? [];

describe.skipIf(!HAS_DESKTOP)("computer use", () => {
  it("is offered only while the desktop is enabled", async () => {
    await setDesktop(false);
    router = () => say("nothing to do");
    const chatId = await createChatViaApi(t, owner, "anything", workspaceId);
    await settled(chatId);
    const [first] = mock.requests.filter((r) => r.stream);
    expect(toolNames(first)).toContain("spawn_agent");
    expect(toolNames(first)).not.toContain("spawn_computer_use_agent");
    expect(toolNames(first)).not.toContain("computer");
  });

  it("answers a call to a tool the run did not offer as unknown", async () => {
    await setDesktop(false);
    router = (c) => (c.step === 0 ? call("toolu_cu_off", "spawn_computer_use_agent", { prompt: "open the browser" }) : say("ok"));
    const chatId = await createChatViaApi(t, owner, "replay", workspaceId);
    await settled(chatId);
    expect(await toolResult(chatId, "toolu_cu_off")).toEqual({ result: { error: "Tool not found: spawn_computer_use_agent" }, isError: true });
    expect(await t.server.database.db.select().from(chats).where(eq(chats.parentChatId, chatId))).toEqual([]);
  });

  it("refuses the spawn when the desktop was disabled after the run offered it", async () => {
    await setDesktop(true);
    router = async (c) => {
      if (c.step > 0) return say("ok");
      // The admin turns the desktop off while the model is deciding.
      await setDesktop(false);
      return call("toolu_cu_late", "spawn_computer_use_agent", { prompt: "open the browser" });
    };
    const chatId = await createChatViaApi(t, owner, "late switch", workspaceId);
    await settled(chatId);
    expect(await toolResult(chatId, "toolu_cu_late")).toEqual({ result: { error: COMPUTER_USE_UNAVAILABLE }, isError: true });
    expect(await t.server.database.db.select().from(chats).where(eq(chats.parentChatId, chatId))).toEqual([]);
  });

  it("runs a sub-agent on claude-opus-4-6 that clicks into a real xterm and types; the screenshots show it", async () => {
    await setDesktop(true);
    let renderWaits = 0;
    let changed = 0;
    router = (c) => {
      if (!c.isChild) {
        if (c.step === 0) return call("toolu_cu_spawn", "spawn_computer_use_agent", { prompt: `Type "${TYPED}" into a terminal on the desktop.`, title: "Desktop typing" });
        if (c.step === 1) return call("toolu_cu_wait", "wait_agent", { chat_id: childIdIn(c), timeout_seconds: 120 });
        return say("The sub-agent typed the text.");
      }
      const shots = screenshotsIn(c.body);
      switch (c.step) {
        case 0:
          return call("toolu_shot_0", "computer", { action: "screenshot" });
        case 1:
          return call("toolu_xterm", "execute", { command: XTERM, run_in_background: true });
        case 2:
          // The window exists and is mapped before anything clicks at it.
          return call("toolu_xterm_wait", "execute", { command: "xdotool search --sync --onlyvisible --class xterm" });
        case 3:
          return call("toolu_click", "computer", { action: "left_click", coordinate: XTERM_POINT });
        case 4:
          return call("toolu_type", "computer", { action: "type", text: TYPED });
        default: {
          const clicked = shots.get("toolu_click");
          const latest = [...shots.values()].at(-1);
          if (!clicked || !latest) throw new Error("the child's request carries no screenshots");
          changed = differingPixels(clicked, latest);
          if (changed >= MIN_CHANGED_PIXELS || renderWaits >= MAX_RENDER_WAITS) return say(`Typed it (${changed} pixels changed).`);
          renderWaits++;
          return call(`toolu_wait_${renderWaits}`, "computer", { action: "wait", duration: 100 });
        }
      }
    };
    const parentId = await createChatViaApi(t, owner, "Use the desktop", workspaceId);
    const parent = await settled(parentId, 120_000);
    expect(parent.status).toBe("waiting");

    const [child] = await t.server.database.db.select().from(chats).where(eq(chats.parentChatId, parentId));
    if (!child) throw new Error("no child chat");
    expect(child).toMatchObject({ mode: "computer_use", workspaceId, rootChatId: parentId, title: "Desktop typing", status: "waiting" });
    const childView = await t.request(`/api/experimental/chats/${child.id}`, { token: owner.token });
    expect(field(childView.body, "mode")).toBe("computer_use");

    // The typed text changed the screen, as the screenshots the model received show.
    expect(changed).toBeGreaterThanOrEqual(MIN_CHANGED_PIXELS);
    const childRequests = mock.requests.filter((r) => r.stream && conversationOf(r).isChild);
    const last = requestBody.parse(childRequests.at(-1)?.body);
    const shots = screenshotsIn(last);
    expect([...shots.keys()].slice(0, 3)).toEqual(["toolu_shot_0", "toolu_click", "toolu_type"]);
    for (const shot of shots.values()) expect({ width: shot.width, height: shot.height }).toEqual({ width: 1280, height: 720 });
    // The first screenshot is the empty desktop; by the click the xterm is on it.
    const first = shots.get("toolu_shot_0");
    const clicked = shots.get("toolu_click");
    if (!first || !clicked) throw new Error("missing screenshots");
    expect(differingPixels(first, clicked)).toBeGreaterThan(1_000);

    // The child's requests: the computer-use model, the computer tool with the declared display
    // (and Anthropic's beta header), the guidance before its task, no root-only tools.
    const firstChild = childRequests[0];
    const firstBody = requestBody.parse(firstChild?.body);
    expect(firstBody.model).toBe("claude-opus-4-6");
    expect(firstBody.tools?.find((tool) => tool.name === "computer")).toMatchObject({ type: "computer_20251124", display_width_px: 1280, display_height_px: 720 });
    expect(firstChild?.headers["anthropic-beta"]).toContain("computer-use-2025-11-24");
    const childTools = toolNames(firstChild);
    expect(childTools).toContain("execute");
    expect(childTools.filter((name) => name.startsWith("spawn_") || name.endsWith("_agent"))).toEqual([]);
    const system = JSON.stringify(firstBody.system);
    expect(system).toContain(JSON.stringify(COMPUTER_USE_GUIDANCE.split("\n")[0]).slice(1, -1));
    expect(system).toContain(TYPED);
    expect(firstBody.messages).toHaveLength(1);

    // The parent was offered the tool (Anthropic has a key, the desktop is on), and got the report.
    const parentRequest = mock.requests.find((r) => r.stream && !conversationOf(r).isChild);
    expect(toolNames(parentRequest)).toContain("spawn_computer_use_agent");
    expect(toolNames(parentRequest)).not.toContain("computer");
    expect(await toolResult(parentId, "toolu_cu_wait")).toMatchObject({
      result: { chat_id: child.id, report: expect.stringMatching(/^Typed it/), status: "waiting" },
      isError: false,
    });
    // The screenshot results are stored as images, not cut by the 32 KiB tool-output cap.
    const stored = await toolResult(child.id, "toolu_type");
    expect(stored.result).toMatchObject({ mime_type: "image/png", data: expect.any(String) });
    console.log(`computer-use: ${changed} pixels changed after typing, ${renderWaits} render waits`);
    const lastShot = toolResultImage(last, [...shots.keys()].at(-1) ?? "");
    fs.mkdirSync(RESULTS_DIR, { recursive: true });
    if (lastShot) fs.writeFileSync(path.join(RESULTS_DIR, `computer-use-typed-${t.server.database.kind}.png`), lastShot);
  }, 150_000);
});
