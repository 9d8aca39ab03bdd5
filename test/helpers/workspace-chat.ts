/**
 * Driving chats that use the workspace tools against the mock provider: a script of model steps
 * (each a list of tool calls, or a final text), the tool results the chat stored, and the local
 * template's id.
 */
import type { MockLlm, MockTurn, RecordedRequest } from "../../src/llm/mock/index.js";
import { messageParts } from "../../src/chats/store.js";
import { liveMessages, reloadChat } from "./chats.js";
import { field, type TestServer, type TestUser } from "./server.js";
import { waitFor } from "./wait.js";
import type { ChatMessagePart } from "../../src/sdk/schemas/parts.js";

export type ToolCall = { name: string; input: Record<string, unknown> };
export type Step = ToolCall[] | string;

let callCounter = 0;

/**
 * Queues `steps` as the chat's model turns. Title requests (not streamed) get a title and do not
 * consume a step, whenever they arrive.
 */
export function scriptChat(mock: MockLlm, steps: readonly Step[]): void {
  let next = 0;
  const route = (request: RecordedRequest): MockTurn => {
    if (!request.stream) return { parts: [{ type: "text", text: "Workspace task" }] };
    const step = steps[next++] ?? "done";
    if (typeof step === "string") return { parts: [{ type: "text", text: step }], usage: { input: 10, output: 2 } };
    return {
      parts: step.map((call) => ({ type: "tool-call" as const, id: `toolu_${++callCounter}`, name: call.name, input: call.input })),
      usage: { input: 10, output: 2 },
    };
  };
  // One extra for the title request.
  mock.enqueue(...Array.from({ length: steps.length + 1 }, () => route));
}

export type ToolResultPart = ChatMessagePart;

/** Waits for the chat to finish its run, then returns its tool results in order. */
export async function finishedToolResults(t: TestServer, chatId: string, timeoutMs = 60_000): Promise<ToolResultPart[]> {
  await waitFor(async () => (await reloadChat(t.server.database.db, chatId)).status === "waiting", { timeoutMs, intervalMs: 20, message: `chat ${chatId} finished` });
  const messages = await liveMessages(t.server.database.db, chatId);
  return messages.flatMap((message) => messageParts(message).flatMap((part) => (part.type === "tool-result" ? [part] : [])));
}

export async function localTemplateId(t: TestServer, user: TestUser): Promise<string> {
  const listed = await t.request("/api/v2/templates", { token: user.token });
  const templates = Array.isArray(listed.body) ? listed.body : field(listed.body, "templates");
  if (!Array.isArray(templates)) throw new Error(`unexpected template listing: ${listed.text}`);
  const local = templates.find((template: unknown) => field(template, "name") === "local");
  const id = field(local, "id");
  if (typeof id !== "string") throw new Error("no local template");
  return id;
}

export async function createChatViaApi(t: TestServer, user: TestUser, text: string, workspaceId?: string): Promise<string> {
  const created = await t.request("/api/experimental/chats", {
    method: "POST",
    token: user.token,
    body: { content: [{ type: "text", text }], ...(workspaceId ? { workspace_id: workspaceId } : {}) },
  });
  const id = field(created.body, "id");
  if (created.status !== 201 || typeof id !== "string") throw new Error(`chat create failed: ${created.status} ${created.text}`);
  return id;
}

/** A tool result's `result` object (results are JSON objects for every workspace tool). */
export function resultOf(part: ToolResultPart | undefined): Record<string, unknown> {
  const result = part?.result;
  if (typeof result !== "object" || result === null || Array.isArray(result)) throw new Error(`not an object result: ${JSON.stringify(part)}`);
  return Object.fromEntries(Object.entries(result));
}
