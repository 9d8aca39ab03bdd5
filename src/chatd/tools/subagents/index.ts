/**
 * The delegation tools, offered to root chats only (behavior.md section 6): `spawn_agent`,
 * `wait_agent`, `message_agent`, `close_agent`. A root chat creates child chats, talks to them
 * and waits for their reports.
 *
 * Invariants:
 * - A child has the parent's owner, workspace and model; parent_chat_id = caller and
 *   root_chat_id = caller's root (or the caller). It starts `pending` through the state module,
 *   with no system prompt: its instructions come from SUBAGENT_INSTRUCTION at prompt time (a
 *   computer-use child, spawned through `spawnChild` by ../computer-use, also stores its guidance).
 * - Every tool that names a chat first checks that it descends from the caller (parent-chain
 *   walk), so a chat can never reach another tree, even of the same owner.
 * - Status changes go through the state module only (createChat, sendMessage, interruptChat).
 * - rootOnly hides the tools from children; spawn_agent re-checks anyway, because a stored
 *   history may replay a call, and the documented error is what a child must get.
 */
import { eq } from "drizzle-orm";
import { z } from "zod";
import type { Database } from "../../../db/client.js";
import { chats } from "../../../db/schema/index.js";
import { pubsubHints, type ChatHints } from "../../../chats/hints.js";
import { sendMessage, QueueFullError } from "../../../chats/queue.js";
import { createChat, interruptChat } from "../../../chats/state.js";
import type { ChatRow, NewMessage } from "../../../chats/store.js";
import { ancestorChatIds } from "../../../chats/tree.js";
import type { Pubsub } from "../../../pubsub/pubsub.js";
import { defineTool, toolError, type ChatTool, type ToolOutput } from "../registry.js";
import { latestReport, waitForSettled } from "./wait.js";

/** wait_agent's default patience (reference: 300 s). */
export const DEFAULT_WAIT_TIMEOUT_SECONDS = 300;
/** An upper bound on one wait, so a model cannot park a run for days; an hour covers real work. */
const MAX_WAIT_TIMEOUT_SECONDS = 3_600;
/** Child titles: the prompt's first words, as the reference's spawn_agent (6 words, ≤ 80 runes). */
const CHILD_TITLE_WORDS = 6;
const CHILD_TITLE_RUNES = 80;
/** A title cap for `title` input; longer ones are cut to CHILD_TITLE_RUNES anyway. */
const TITLE_INPUT_MAX = 1_000;

export const PROMPT_REQUIRED = "prompt is required";
export const NESTED_SPAWN_ERROR = "delegated chats cannot create child subagents";
export const NOT_DESCENDANT_ERROR = "target chat is not a descendant of current chat";
export const WAIT_TIMEOUT_ERROR = "timed out waiting for delegated subagent completion";
export const CHILD_ERROR_FALLBACK = "agent reached error status";

/**
 * The extra system block of every delegated chat (behavior.md section 5, item 4): it works for
 * the parent agent, not a person, and its last message is the report the parent reads.
 */
export const SUBAGENT_INSTRUCTION = `You are running as a delegated sub-agent chat. Another agent (the parent chat) gave you the task in the first user message and will read your final message as your report; no person is watching this chat.
- Work on the task autonomously; do not ask questions back, make a reasonable choice and state it.
- Stay within the task you were given.
- End with a concise report: what you did, what you found or changed (files, commands, results), and anything left undone and why.`;

export interface SubagentToolDeps {
  db: Database;
  /** Wakes wait_agent on the child's stream channel; without it, wait_agent polls. */
  pubsub?: Pubsub;
  /** How state changes are announced; pubsub hints by default. */
  hints?: ChatHints;
}

/** `title` given, else the prompt's first CHILD_TITLE_WORDS words plus "..." when cut. */
export function childTitle(prompt: string, title: string | undefined): string {
  const given = title?.trim();
  const source = given ? given : prompt;
  const words = source.replaceAll("\u0000", "").split(/\s+/u).filter((word) => word !== "");
  const text = given ? words.join(" ") : words.slice(0, CHILD_TITLE_WORDS).join(" ") + (words.length > CHILD_TITLE_WORDS ? "..." : "");
  return Array.from(text).slice(0, CHILD_TITLE_RUNES).join("");
}

class SubagentError extends Error {}

export interface SpawnInput {
  prompt: string;
  title?: string | undefined;
  /** `computer_use` for spawn_computer_use_agent's child. */
  mode?: NonNullable<ChatRow["mode"]>;
  /** A system message stored first in the child, before its task (computer-use guidance). */
  systemPrompt?: (prompt: string) => string;
}

/**
 * Creates a child of `parentId` that starts on `input.prompt`: the body of spawn_agent and
 * spawn_computer_use_agent. Raises the documented errors for a child parent and an empty prompt.
 */
export async function spawnChild(
  deps: { db: Database; hints: ChatHints },
  parentId: string,
  input: SpawnInput,
): Promise<{ chat_id: string; title: string; status: ChatRow["status"] }> {
  const parent = await loadChat(deps.db, parentId);
  if (!parent) throw new SubagentError("current chat not found");
  if (parent.parentChatId !== null) throw new SubagentError(NESTED_SPAWN_ERROR);
  const prompt = input.prompt.trim();
  if (prompt === "") throw new SubagentError(PROMPT_REQUIRED);
  const task: NewMessage = { role: "user", parts: [{ type: "text", text: prompt }], visibility: "both", createdBy: parent.ownerId, modelConfigId: parent.lastModelConfigId };
  const system: NewMessage[] = input.systemPrompt ? [{ role: "system", parts: [{ type: "text", text: input.systemPrompt(prompt) }], visibility: "model" }] : [];
  const { chat } = await createChat(deps.db, deps.hints, {
    ownerId: parent.ownerId,
    title: childTitle(prompt, input.title),
    modelConfigId: parent.lastModelConfigId,
    workspaceId: parent.workspaceId,
    parentChatId: parent.id,
    rootChatId: parent.rootChatId ?? parent.id,
    ...(input.mode ? { mode: input.mode } : {}),
    messages: [...system, task],
  });
  return { chat_id: chat.id, title: chat.title, status: chat.status };
}

async function loadChat(db: Database, chatId: string): Promise<ChatRow | undefined> {
  const [row] = await db.select().from(chats).where(eq(chats.id, chatId));
  return row;
}

/** The target, if it descends from the caller; otherwise the documented error. */
async function descendant(db: Database, callerId: string, targetId: string): Promise<ChatRow> {
  const target = z.uuid().safeParse(targetId).success ? await loadChat(db, targetId) : undefined;
  if (!target || !(await ancestorChatIds(db, target.parentChatId)).includes(callerId)) throw new SubagentError(NOT_DESCENDANT_ERROR);
  return target;
}

/** Runs a tool body: a SubagentError becomes the documented tool error; anything else fails the call. */
export async function subagentOutput(body: () => Promise<unknown>): Promise<ToolOutput> {
  try {
    return { result: await body() };
  } catch (error) {
    if (error instanceof SubagentError) return toolError(error.message);
    if (error instanceof QueueFullError) return toolError(error.message);
    throw error;
  }
}

const chatIdField = z.string().min(1).describe("The sub-agent's chat_id (from spawn_agent).");

export function subagentTools(deps: SubagentToolDeps): ChatTool[] {
  const { db } = deps;
  const hints = deps.hints ?? (deps.pubsub ? pubsubHints(deps.pubsub) : undefined);
  if (!hints) throw new Error("subagentTools needs hints or a pubsub");

  const spawnAgent = defineTool({
    name: "spawn_agent",
    description:
      "Delegate a task to a new sub-agent: a child chat with this chat's workspace and model that starts working on `prompt` right away. Returns its chat_id; use wait_agent to get its report.",
    inputSchema: z.object({
      prompt: z.string().describe("The complete task for the sub-agent; it sees nothing else of this conversation."),
      title: z.string().max(TITLE_INPUT_MAX).optional().describe("A short title for the sub-agent's chat."),
    }),
    rootOnly: true,
    execute: (input, context) => subagentOutput(() => spawnChild({ db, hints }, context.chatId, input)),
  });

  const waitAgent = defineTool({
    name: "wait_agent",
    description: "Wait until a sub-agent finishes its current work and return its report (its latest message).",
    inputSchema: z.object({
      chat_id: chatIdField,
      timeout_seconds: z.number().positive().max(MAX_WAIT_TIMEOUT_SECONDS).optional().describe(`How long to wait (default ${DEFAULT_WAIT_TIMEOUT_SECONDS}).`),
    }),
    rootOnly: true,
    execute: (input, context) =>
      subagentOutput(async () => {
        const target = await descendant(db, context.chatId, input.chat_id);
        const timeoutMs = (input.timeout_seconds ?? DEFAULT_WAIT_TIMEOUT_SECONDS) * 1000;
        const outcome = await waitForSettled({ db, pubsub: deps.pubsub }, target.id, { timeoutMs, signal: context.signal });
        switch (outcome.kind) {
          case "timeout":
            throw new SubagentError(WAIT_TIMEOUT_ERROR);
          case "aborted":
            // The run is being interrupted or handed back; the loop records the interruption.
            throw new Error("wait_agent was interrupted");
          case "gone":
            throw new SubagentError(NOT_DESCENDANT_ERROR);
          case "settled": {
            const report = await latestReport(db, target.id);
            if (outcome.chat.status === "error") throw new SubagentError(report || CHILD_ERROR_FALLBACK);
            return { chat_id: target.id, title: outcome.chat.title, report, status: outcome.chat.status };
          }
        }
      }),
  });

  const messageAgent = defineTool({
    name: "message_agent",
    description:
      "Send a follow-up message to a sub-agent. It is queued if the sub-agent is busy; with interrupt: true the sub-agent stops its current work and reads the message next.",
    inputSchema: z.object({
      chat_id: chatIdField,
      message: z.string().min(1).describe("The message to send."),
      interrupt: z.boolean().optional().describe("Stop the sub-agent's current work first (default false)."),
    }),
    rootOnly: true,
    execute: (input, context) =>
      subagentOutput(async () => {
        const target = await descendant(db, context.chatId, input.chat_id);
        const interrupt = input.interrupt ?? false;
        const sent = await sendMessage(db, hints, {
          chatId: target.id,
          parts: [{ type: "text", text: input.message }],
          createdBy: target.ownerId,
          behavior: interrupt ? "interrupt" : "queue",
        });
        return { chat_id: target.id, title: sent.chat.title, status: sent.chat.status, interrupted: interrupt };
      }),
  });

  const closeAgent = defineTool({
    name: "close_agent",
    description: "Stop a sub-agent: its current work is interrupted and it goes idle.",
    inputSchema: z.object({ chat_id: chatIdField }),
    rootOnly: true,
    execute: (input, context) =>
      subagentOutput(async () => {
        const target = await descendant(db, context.chatId, input.chat_id);
        const chat = await interruptChat(db, hints, target.id);
        return { chat_id: chat.id, title: chat.title, terminated: true, status: chat.status };
      }),
  });

  return [spawnAgent, waitAgent, messageAgent, closeAgent];
}
