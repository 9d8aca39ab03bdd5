/**
 * The tool contract (after opencode's `Tool.define`): a name, a description the model reads, a
 * zod input schema (validated before `execute` runs), and `execute` with an abort signal. Output
 * is capped so one tool cannot flood the context window or the database.
 *
 * Tool results follow behavior.md section 1: an error is `{error: message}` with `is_error`;
 * text output is kept if it is valid JSON, else wrapped as `{output: text}`.
 */
import { z } from "zod";

/** Default cap on a tool's output: 32 KiB, as the reference's execute tool. */
export const DEFAULT_OUTPUT_CAP_BYTES = 32 * 1024;

export interface ToolContext {
  chatId: string;
  ownerId: string;
  /** Aborted on interrupt or shutdown; long-running tools must stop promptly. */
  signal: AbortSignal;
}

export type ToolOutput = { result: unknown; isError?: boolean };

export interface ChatTool<S extends z.ZodType = z.ZodType> {
  name: string;
  description: string;
  inputSchema: S;
  outputCapBytes: number;
  /** Offered to root chats only (provisioning and delegation tools; behavior.md section 6). */
  rootOnly: boolean;
  execute(input: z.output<S>, context: ToolContext): Promise<ToolOutput>;
}

export function defineTool<S extends z.ZodType>(tool: {
  name: string;
  description: string;
  inputSchema: S;
  outputCapBytes?: number;
  rootOnly?: boolean;
  execute(input: z.output<S>, context: ToolContext): Promise<ToolOutput>;
}): ChatTool {
  const cap = tool.outputCapBytes ?? DEFAULT_OUTPUT_CAP_BYTES;
  return {
    name: tool.name,
    description: tool.description,
    inputSchema: tool.inputSchema,
    outputCapBytes: cap,
    rootOnly: tool.rootOnly ?? false,
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

function offeredTo(tool: ChatTool, chat: { parentChatId: string | null }): boolean {
  return !tool.rootOnly || chat.parentChatId === null;
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

  /** The tools a chat is offered: root-only ones are withheld from delegated (child) chats. */
  forChat(chat: { parentChatId: string | null }): ChatTool[] {
    return this.list().filter((tool) => offeredTo(tool, chat));
  }

  /** The tool named `name` if `chat` is offered it; a child naming a root-only tool gets none. */
  getForChat(name: string, chat: { parentChatId: string | null }): ChatTool | undefined {
    const tool = this.#tools.get(name);
    return tool && offeredTo(tool, chat) ? tool : undefined;
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
