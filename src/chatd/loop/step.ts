/**
 * One model call: streams it, turns the AI SDK's stream parts into chatd message parts (emitting
 * each delta to viewers as it arrives), and returns what the step produced. Local tool calls are
 * returned, not run (the loop runs them); provider-executed calls and their results stay in the
 * assistant message.
 */
import { streamText, type LanguageModel, type LanguageModelUsage, type ModelMessage, type ProviderMetadata, type ToolSet } from "ai";
import type { CallSettings } from "../../llm/factory.js";
import type { ChatMessagePart } from "../../sdk/schemas/parts.js";

export interface LocalToolCall {
  id: string;
  name: string;
  input: unknown;
}

export interface StepOutput {
  /** The assistant message, in stream order. */
  parts: ChatMessagePart[];
  localCalls: LocalToolCall[];
  usage: LanguageModelUsage | undefined;
  finishReason: string | undefined;
  providerMetadata: ProviderMetadata | undefined;
  /** True when the call was aborted mid-stream; `parts` then holds what had arrived. */
  aborted: boolean;
}

export interface StepInput {
  model: LanguageModel;
  settings: CallSettings;
  messages: ModelMessage[];
  tools: ToolSet;
  signal: AbortSignal;
  /** Called for every streamed delta, in order. */
  onPart: (role: "assistant" | "tool", part: ChatMessagePart) => void;
}

/** A provider error reported inside the stream; thrown so the retry policy can judge it. */
export class StreamError extends Error {
  constructor(readonly error: unknown) {
    super(error instanceof Error ? error.message : String(error), { cause: error });
    this.name = "StreamError";
  }
}

/**
 * The stream ended cleanly without the provider's final event (stop reason and usage): the
 * connection was cut between frames. The AI SDK reports this as a finished step with reason
 * "other" and no raw reason, which every provider only does when that event never came. The
 * text says "unexpected EOF" so the retry policy treats it like the cut it is.
 */
export class TruncatedStreamError extends Error {
  constructor() {
    super("the model's response stream ended before its final event (unexpected EOF)");
    this.name = "TruncatedStreamError";
  }
}

/** A provider-executed tool's error may be an Error, a string or a provider JSON object. */
function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === "string") return error;
  return JSON.stringify(error) ?? String(error);
}

function metadataRecord(metadata: ProviderMetadata | undefined): Record<string, unknown> | undefined {
  return metadata && Object.keys(metadata).length > 0 ? { ...metadata } : undefined;
}

export async function streamStep(input: StepInput): Promise<StepOutput> {
  const parts: ChatMessagePart[] = [];
  /** Open text/reasoning parts by the stream's block id. */
  const open = new Map<string, ChatMessagePart>();
  const localCalls: LocalToolCall[] = [];
  const output: StepOutput = { parts, localCalls, usage: undefined, finishReason: undefined, providerMetadata: undefined, aborted: false };
  let truncated = false;

  const result = streamText({
    model: input.model,
    messages: input.messages,
    tools: input.tools,
    abortSignal: input.signal,
    // chatd's system messages (stored prompt, workspace context) are part of `messages` by design.
    allowSystemInMessages: true,
    ...input.settings,
    // Errors are taken from the stream's error part; the default handler would only log them.
    onError: () => undefined,
  });

  for await (const part of result.fullStream) {
    switch (part.type) {
      case "text-start":
      case "reasoning-start": {
        const block: ChatMessagePart = { type: part.type === "text-start" ? "text" : "reasoning", text: "" };
        open.set(`${block.type}:${part.id}`, block);
        parts.push(block);
        break;
      }
      case "text-delta":
      case "reasoning-delta": {
        const type = part.type === "text-delta" ? "text" : "reasoning";
        let block = open.get(`${type}:${part.id}`);
        if (!block) {
          block = { type, text: "" };
          open.set(`${type}:${part.id}`, block);
          parts.push(block);
        }
        block.text = (block.text ?? "") + part.text;
        const metadata = metadataRecord(part.providerMetadata);
        // Anthropic's thinking signature arrives as metadata on an (empty) delta; it must be kept
        // so the reasoning can be replayed to the provider.
        if (metadata) block.provider_metadata = { ...block.provider_metadata, ...metadata };
        if (part.text !== "") input.onPart("assistant", { type, text: part.text });
        break;
      }
      case "tool-input-start":
        input.onPart("assistant", {
          type: "tool-call",
          tool_call_id: part.id,
          tool_name: part.toolName,
          args_delta: "",
          ...(part.providerExecuted ? { provider_executed: true } : {}),
        });
        break;
      case "tool-input-delta":
        input.onPart("assistant", { type: "tool-call", tool_call_id: part.id, args_delta: part.delta });
        break;
      case "tool-call": {
        const call: ChatMessagePart = {
          type: "tool-call",
          tool_call_id: part.toolCallId,
          tool_name: part.toolName,
          args: part.input,
          ...(part.providerExecuted ? { provider_executed: true } : {}),
        };
        const metadata = metadataRecord(part.providerMetadata);
        if (metadata) call.provider_metadata = metadata;
        parts.push(call);
        input.onPart("assistant", call);
        // Every call the provider did not run is the loop's to answer, including calls to a tool
        // chatd does not have ("Tool not found"): each call must get exactly one result.
        if (!part.providerExecuted) localCalls.push({ id: part.toolCallId, name: part.toolName, input: part.input });
        break;
      }
      case "tool-result":
      case "tool-error": {
        if (!part.providerExecuted) break;
        const isError = part.type === "tool-error";
        const resultPart: ChatMessagePart = {
          type: "tool-result",
          tool_call_id: part.toolCallId,
          tool_name: part.toolName,
          result: isError ? { error: errorMessage(part.error) } : part.output,
          provider_executed: true,
          ...(isError ? { is_error: true } : {}),
        };
        parts.push(resultPart);
        input.onPart("assistant", resultPart);
        break;
      }
      case "source":
        if (part.sourceType === "url") {
          const source: ChatMessagePart = { type: "source", source_id: part.id, url: part.url, ...(part.title ? { title: part.title } : {}) };
          parts.push(source);
          input.onPart("assistant", source);
        }
        break;
      case "finish-step":
        output.usage = part.usage;
        output.finishReason = part.finishReason;
        output.providerMetadata = part.providerMetadata;
        truncated = part.finishReason === "other" && part.rawFinishReason === undefined;
        break;
      case "error":
        throw new StreamError(part.error);
      case "abort":
        output.aborted = true;
        break;
      default:
        break;
    }
  }
  if (input.signal.aborted) output.aborted = true;
  // Stored as it stands, a cut stream would be a cut-off answer, or a tool call run and the loop
  // ended after it (its reason is not "tool-calls"): throw, so the step is retried whole.
  if (!output.aborted && (truncated || output.finishReason === undefined)) throw new TruncatedStreamError();
  // Drop empty text/reasoning blocks (a reasoning block may be only a signature: keep those).
  output.parts = parts.filter((p) => !((p.type === "text" || p.type === "reasoning") && (p.text ?? "") === "" && !p.provider_metadata));
  return output;
}
