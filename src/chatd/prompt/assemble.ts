/**
 * Prompt assembly (behavior.md section 5, items 4 and 6): a chat's stored messages become the
 * `ModelMessage[]` one model call sends. Pure and deterministic: the same rows and options
 * always give the same prompt; files come in through the caller's resolver.
 *
 * Invariants of the result:
 * - Only non-deleted, model-visible (`model`/`both`) rows are used: every non-compressed system
 *   row, the LATEST compressed summary (visibility `model`, sent as a user message whatever its
 *   stored role), and the non-compressed rows after that summary, by ascending id. Other
 *   compressed rows (the `chat_summarized` call/result the UI shows) are never sent.
 * - Layout: every system message first (Gemini rejects system messages mid-conversation), then
 *   the extra system blocks (sub-agent instruction, `<workspace-context>`,
 *   `<user-instructions>`), then the conversation, whose first message is a user message.
 * - Every local tool call has exactly one result, in the tool message right after its
 *   assistant message: results are matched by (sanitized) id, a duplicate result is dropped
 *   (the first wins), an unanswered call gets a synthetic error result, and an orphan result
 *   gets a synthetic assistant tool call (input `{}`) placed before it.
 * - Provider-executed calls stay in their assistant message, each directly followed by its
 *   provider-executed result; orphan provider results and provider calls with no result are
 *   dropped (a provider rejects either on replay).
 * - Computer use only: tool-result screenshots beyond the newest few are replaced by a text, in
 *   chunks (screenshots.ts).
 * - Anthropic only: ephemeral cache control on the last system message and on the last two
 *   conversation messages (3 of Anthropic's 4 breakpoints); other providers get none.
 */
import type { ModelMessage, SystemModelMessage, ToolResultPart, UserModelMessage } from "ai";
import {
  assistantFilePart,
  createToolCallIdSanitizer,
  fileReferencePart,
  reasoningPart,
  textPart,
  toolCallPart,
  toolResultPart,
  UNKNOWN_TOOL_NAME,
  userFilePart,
  type AssistantPart,
  type FileResolver,
  type ProviderOptions,
} from "./convert.js";
import type { ChatMessagePart } from "../../sdk/schemas/parts.js";
import { omitOldScreenshots } from "./screenshots.js";
import type { ProviderName } from "../../sdk/schemas/llm.js";

export type { FileResolver, ResolvedFile } from "./convert.js";

/** A stored chat message as prompt assembly needs it (a `chat_messages` row, parts decoded). */
export interface PromptMessageRow {
  id: number;
  role: "system" | "user" | "assistant" | "tool";
  visibility: "user" | "model" | "both";
  compressed: boolean;
  deleted: boolean;
  parts: readonly ChatMessagePart[];
}

/** System blocks computed per run, never stored (behavior.md section 5, item 4). */
export interface ExtraSystem {
  /** Instruction for delegated (child) chats. */
  subagent?: string;
  /** AGENTS.md and environment of the chat's workspace. */
  workspaceContext?: string;
  /** The owner's custom prompt. */
  userInstructions?: string;
}

export interface AssembleOptions {
  provider: ProviderName;
  /** Computer use: keep only the newest tool-result screenshots (screenshots.ts). */
  omitOldScreenshots?: boolean;
  extraSystem?: ExtraSystem;
  resolveFile?: FileResolver;
}

/** The synthetic result of a local call that never got one (behavior.md section 5, item 4). */
export const INTERRUPTED_TOOL_RESULT = "tool call was interrupted and did not receive a result";

/**
 * Sent as the first user message when the selected conversation starts with something else
 * (its start was deleted or compacted away without a summary): providers require the
 * conversation to open with a user turn.
 */
export const MISSING_START_TEXT = "The beginning of this conversation is not available. Continue from the messages that follow.";

/** Anthropic: how many trailing conversation messages get a cache breakpoint. */
export const CACHED_TAIL_MESSAGES = 2;

const isModelVisible = (row: PromptMessageRow): boolean => !row.deleted && row.visibility !== "user";
const isSummary = (row: PromptMessageRow): boolean => row.compressed && row.visibility === "model";

export interface SelectedRows {
  /** Non-compressed system rows, by id. */
  system: PromptMessageRow[];
  /** The latest compressed summary, if the chat was ever compacted. */
  summary: PromptMessageRow | undefined;
  /** Non-compressed, non-system rows after the summary, by id. */
  conversation: PromptMessageRow[];
}

/** Which stored rows a prompt is made of (the rule of `GetChatMessagesForPromptByChatID`). */
export function selectPromptRows(rows: readonly PromptMessageRow[]): SelectedRows {
  const visible = rows.filter(isModelVisible).sort((a, b) => a.id - b.id);
  const summary = visible.filter(isSummary).at(-1);
  const after = summary?.id ?? Number.NEGATIVE_INFINITY;
  return {
    system: visible.filter((row) => !row.compressed && row.role === "system"),
    summary,
    conversation: visible.filter((row) => !row.compressed && row.role !== "system" && row.id > after),
  };
}

/** The extra system messages, in their fixed order; blank ones are left out. */
export function extraSystemMessages(extra: ExtraSystem | undefined): SystemModelMessage[] {
  const blocks: string[] = [];
  const subagent = extra?.subagent?.trim();
  if (subagent) blocks.push(subagent);
  const workspace = extra?.workspaceContext?.trim();
  if (workspace) blocks.push(`<workspace-context>\n${workspace}\n</workspace-context>`);
  const instructions = extra?.userInstructions?.trim();
  if (instructions) blocks.push(`<user-instructions>\n${instructions}\n</user-instructions>`);
  return blocks.map((content) => ({ role: "system", content }));
}

function systemMessage(row: PromptMessageRow): SystemModelMessage | undefined {
  const texts = row.parts.filter((part) => part.type === "text" && (part.text ?? "").trim() !== "").map((part) => part.text ?? "");
  return texts.length === 0 ? undefined : { role: "system", content: texts.join("\n\n") };
}

function userMessage(parts: readonly ChatMessagePart[], resolveFile: FileResolver | undefined): UserModelMessage | undefined {
  const content: Exclude<UserModelMessage["content"], string> = [];
  for (const part of parts) {
    let converted: (typeof content)[number] | undefined;
    switch (part.type) {
      case "text":
        converted = textPart(part);
        break;
      case "file":
        converted = userFilePart(part, resolveFile);
        break;
      case "file-reference":
        converted = fileReferencePart(part);
        break;
      default:
        // Reasoning, sources and tool parts have no place in a user turn.
        break;
    }
    if (converted) content.push(converted);
  }
  return content.length === 0 ? undefined : { role: "user", content };
}

type TurnItem = { kind: "part"; part: AssistantPart } | { kind: "provider-call"; id: string; part: AssistantPart };

/** One assistant message and the results that answer it, until the next user/assistant row. */
interface Turn {
  items: TurnItem[];
  /** Local calls of the assistant message, id → tool name, in call order. */
  localCalls: Map<string, string>;
  results: Map<string, ToolResultPart>;
  providerCalls: Set<string>;
  providerResults: Map<string, ToolResultPart>;
  orphans: ToolResultPart[];
}

const newTurn = (): Turn => ({
  items: [],
  localCalls: new Map(),
  results: new Map(),
  providerCalls: new Set(),
  providerResults: new Map(),
  orphans: [],
});

function interruptedResult(toolCallId: string, toolName: string): ToolResultPart {
  return { type: "tool-result", toolCallId, toolName, output: { type: "error-text", value: INTERRUPTED_TOOL_RESULT } };
}

/** Walks the conversation rows in order, pairing tool calls and results (see the header). */
class ConversationBuilder {
  private readonly out: ModelMessage[] = [];
  private readonly sanitize = createToolCallIdSanitizer();
  /** Every call id (sanitized) already placed in the prompt, synthetic ones included. */
  private readonly callIds = new Set<string>();
  private turn: Turn | undefined;

  constructor(private readonly resolveFile: FileResolver | undefined) {}

  addUser(parts: readonly ChatMessagePart[]): void {
    this.closeTurn();
    const message = userMessage(parts, this.resolveFile);
    if (message) this.out.push(message);
  }

  addAssistant(parts: readonly ChatMessagePart[]): void {
    this.closeTurn();
    const turn = newTurn();
    this.turn = turn;
    const results: ChatMessagePart[] = [];
    for (const part of parts) {
      let converted: AssistantPart | undefined;
      switch (part.type) {
        case "text":
          converted = textPart(part);
          break;
        case "reasoning":
          converted = reasoningPart(part);
          break;
        case "file":
          converted = assistantFilePart(part, this.resolveFile);
          break;
        case "file-reference":
          converted = fileReferencePart(part);
          break;
        case "tool-call": {
          const id = this.sanitize(part.tool_call_id);
          // A repeated call id cannot be paired unambiguously: the first call keeps it.
          if (this.callIds.has(id)) break;
          this.callIds.add(id);
          if (part.provider_executed) {
            turn.providerCalls.add(id);
            turn.items.push({ kind: "provider-call", id, part: toolCallPart(part, id) });
          } else {
            turn.localCalls.set(id, part.tool_name || UNKNOWN_TOOL_NAME);
            converted = toolCallPart(part, id);
          }
          break;
        }
        case "tool-result":
          // Matched once every call of this message is known.
          results.push(part);
          break;
        case "source":
          break;
      }
      if (converted) turn.items.push({ kind: "part", part: converted });
    }
    for (const part of results) this.addResult(part);
  }

  addResult(part: ChatMessagePart): void {
    const id = this.sanitize(part.tool_call_id);
    const turn = this.turn;
    if (part.provider_executed) {
      const name = part.tool_name || UNKNOWN_TOOL_NAME;
      if (turn?.providerCalls.has(id) && !turn.providerResults.has(id)) turn.providerResults.set(id, toolResultPart(part, id, name));
      return;
    }
    const callName = turn?.localCalls.get(id);
    if (turn && callName !== undefined) {
      if (!turn.results.has(id)) turn.results.set(id, toolResultPart(part, id, callName));
      return;
    }
    // A result for a call already answered (or answered synthetically) in an earlier turn.
    if (this.callIds.has(id)) return;
    this.callIds.add(id);
    const orphanTurn = turn ?? newTurn();
    this.turn = orphanTurn;
    orphanTurn.orphans.push(toolResultPart(part, id, part.tool_name || UNKNOWN_TOOL_NAME));
  }

  finish(): ModelMessage[] {
    this.closeTurn();
    return this.out;
  }

  private closeTurn(): void {
    const turn = this.turn;
    if (!turn) return;
    this.turn = undefined;
    const content: AssistantPart[] = [];
    for (const item of turn.items) {
      if (item.kind === "part") {
        content.push(item.part);
        continue;
      }
      const result = turn.providerResults.get(item.id);
      if (result) content.push(item.part, result);
    }
    if (content.length > 0) this.out.push({ role: "assistant", content });
    if (turn.localCalls.size > 0) {
      const results = [...turn.localCalls].map(([id, name]) => turn.results.get(id) ?? interruptedResult(id, name));
      this.out.push({ role: "tool", content: results });
    }
    if (turn.orphans.length > 0) {
      this.out.push({
        role: "assistant",
        content: turn.orphans.map((result) => ({ type: "tool-call", toolCallId: result.toolCallId, toolName: result.toolName, input: {} })),
      });
      this.out.push({ role: "tool", content: turn.orphans });
    }
  }
}

function withCacheControl(message: ModelMessage): ModelMessage {
  const providerOptions: ProviderOptions = {
    ...message.providerOptions,
    anthropic: { ...message.providerOptions?.anthropic, cacheControl: { type: "ephemeral" } },
  };
  return { ...message, providerOptions };
}

/** The prompt for one model call; see the header for every rule. */
export function assemblePrompt(rows: readonly PromptMessageRow[], options: AssembleOptions): ModelMessage[] {
  const selected = selectPromptRows(rows);
  const system: ModelMessage[] = selected.system.map(systemMessage).filter((message) => message !== undefined);
  system.push(...extraSystemMessages(options.extraSystem));

  const builder = new ConversationBuilder(options.resolveFile);
  if (selected.summary) builder.addUser(selected.summary.parts);
  for (const row of selected.conversation) {
    if (row.role === "user") builder.addUser(row.parts);
    else if (row.role === "assistant") builder.addAssistant(row.parts);
    else if (row.role === "tool") for (const part of row.parts) if (part.type === "tool-result") builder.addResult(part);
  }
  const built = builder.finish();
  const conversation = options.omitOldScreenshots ? omitOldScreenshots(built) : built;
  if (conversation.length > 0 && conversation[0]?.role !== "user") {
    conversation.unshift({ role: "user", content: [{ type: "text", text: MISSING_START_TEXT }] });
  }

  if (options.provider !== "anthropic") return [...system, ...conversation];
  const tailStart = conversation.length - CACHED_TAIL_MESSAGES;
  return [
    ...system.map((message, index) => (index === system.length - 1 ? withCacheControl(message) : message)),
    ...conversation.map((message, index) => (index >= tailStart ? withCacheControl(message) : message)),
  ];
}
