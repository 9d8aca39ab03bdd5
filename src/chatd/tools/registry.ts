/**
 * The tool contract (after opencode's `Tool.define`): a name, a description the model reads, a
 * zod input schema (validated before `execute` runs), and `execute` with an abort signal. Output
 * is capped so one tool cannot flood the context window or the database.
 *
 * Tool results follow behavior.md section 1: an error is `{error: message}` with `is_error`;
 * text output is kept if it is valid JSON, else wrapped as `{output: text}`.
 */
import type { Tool } from "ai";
import { z } from "zod";
import type { ChatRow } from "../../chats/store.js";

/** Default cap on a tool's output: 32 KiB, as the reference's execute tool. */
export const DEFAULT_OUTPUT_CAP_BYTES = 32 * 1024;

export interface ToolContext {
  chatId: string;
  ownerId: string;
  /** Aborted on interrupt or shutdown; long-running tools must stop promptly. */
  signal: AbortSignal;
}

export type ToolOutput = { result: unknown; isError?: boolean };

/** What decides whether a chat is offered a tool. */
export type ToolAudience = Pick<ChatRow, "parentChatId" | "mode">;

export interface ChatTool<S extends z.ZodType = z.ZodType> {
  name: string;
  description: string;
  inputSchema: S;
  outputCapBytes: number;
  /** Offered to root chats only (provisioning and delegation tools; behavior.md section 6). */
  rootOnly: boolean;
  /** Offered only to chats of this mode (the `computer` tool); absent: to chats of every mode. */
  onlyInMode: ChatRow["mode"] | undefined;
  /**
   * A deployment-wide condition checked when a run starts (e.g. "the desktop is enabled and
   * Anthropic has a key"); absent: always offered.
   */
  offeredWhen: (() => Promise<boolean>) | undefined;
  /**
   * The declaration the model receives, when it is a provider-defined tool (Anthropic's
   * `computer`) rather than a function built from `inputSchema`. The loop still runs the call.
   */
  providerDefinition: Tool | undefined;
  execute(input: z.output<S>, context: ToolContext): Promise<ToolOutput>;
}

export function defineTool<S extends z.ZodType>(tool: {
  name: string;
  description: string;
  inputSchema: S;
  outputCapBytes?: number;
  rootOnly?: boolean;
  onlyInMode?: NonNullable<ChatRow["mode"]>;
  offeredWhen?: () => Promise<boolean>;
  providerDefinition?: Tool;
  execute(input: z.output<S>, context: ToolContext): Promise<ToolOutput>;
}): ChatTool {
  const cap = tool.outputCapBytes ?? DEFAULT_OUTPUT_CAP_BYTES;
  return {
    name: tool.name,
    description: tool.description,
    inputSchema: tool.inputSchema,
    outputCapBytes: cap,
    rootOnly: tool.rootOnly ?? false,
    onlyInMode: tool.onlyInMode,
    offeredWhen: tool.offeredWhen,
    providerDefinition: tool.providerDefinition,
    // Erases the input type once, here: the loop validates input with the same schema.
    execute: async (input, context) => {
      const parsed = tool.inputSchema.safeParse(input);
      if (!parsed.success) {
        return { result: { error: `invalid input: ${z.prettifyError(parsed.error)}` }, isError: true };
      }
      return tool.execute(parsed.data, context);
    },
  };
}

/** The static part of the offer: root-only tools for roots, mode-bound tools for that mode. */
function offeredTo(tool: ChatTool, chat: ToolAudience): boolean {
  if (tool.rootOnly && chat.parentChatId !== null) return false;
  return tool.onlyInMode === undefined || tool.onlyInMode === chat.mode;
}

export class ToolRegistry {
  readonly #tools = new Map<string, ChatTool>();

  constructor(tools: readonly ChatTool[] = []) {
    for (const tool of tools) this.add(tool);
  }

  add(tool: ChatTool): void {
    if (this.#tools.has(tool.name)) throw new Error(`tool ${tool.name} is registered twice`);
    this.#tools.set(tool.name, tool);
  }

  get(name: string): ChatTool | undefined {
    return this.#tools.get(name);
  }

  list(): ChatTool[] {
    return [...this.#tools.values()];
  }

  /**
   * The tools a chat may be offered, before deployment conditions: root-only ones are withheld
   * from delegated (child) chats, mode-bound ones from chats of another mode.
   */
  forChat(chat: ToolAudience): ChatTool[] {
    return this.list().filter((tool) => offeredTo(tool, chat));
  }

  /**
   * The tools a run offers, by name: `forChat` narrowed by each tool's `offeredWhen`, checked
   * once per run so the tool list the model sees and the tools the loop will run agree.
   */
  async offerFor(chat: ToolAudience): Promise<Map<string, ChatTool>> {
    const candidates = this.forChat(chat);
    const offered = await Promise.all(candidates.map(async (tool) => (tool.offeredWhen ? tool.offeredWhen() : true)));
    return new Map(candidates.filter((_, index) => offered[index]).map((tool) => [tool.name, tool]));
  }
}

/** A failed tool call as the model sees it: `{error: message}`, flagged as an error. */
export function toolError(message: string): ToolOutput {
  return { result: { error: message }, isError: true };
}

/** Caps a JSON-serializable result at `capBytes` of its JSON text, saying so in the result. */
export function capOutput(result: unknown, capBytes: number): unknown {
  const text = JSON.stringify(result) ?? "null";
  if (Buffer.byteLength(text, "utf8") <= capBytes) return result;
  const truncated = Buffer.from(text, "utf8").subarray(0, capBytes).toString("utf8").replace(/\uFFFD$/, "");
  return { output: truncated, truncated: true, original_bytes: Buffer.byteLength(text, "utf8") };
}
