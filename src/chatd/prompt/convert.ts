/**
 * Part conversion for prompt assembly: one stored `ChatMessagePart` (behavior.md section 1) to
 * the AI SDK v6 prompt part it stands for, plus the JSON guards and the tool-call id sanitizer
 * the assembler shares. Pure: no I/O, no clock, no randomness.
 *
 * Invariants:
 * - Nothing here downloads: a file part becomes bytes only through the caller's resolver (by
 *   `file_id`) or its own inline base64 `data`; a bare `url` is never handed to the SDK, which
 *   would fetch it server-side.
 * - `provider_metadata` is replayed as `providerOptions` (what the AI SDK itself does with a
 *   response's `providerMetadata`), keeping only provider entries that are JSON objects, so
 *   Anthropic thinking signatures, OpenAI item ids and Gemini thought signatures survive.
 * - Tool-call ids only ever contain `[a-zA-Z0-9_-]`, are never empty, and one sanitizer maps
 *   one original id to one sanitized id (distinct originals never collide), so a call and its
 *   result stay paired.
 */
import type { AssistantContent, FilePart, ImagePart, JSONValue, ModelMessage, TextPart, ToolResultPart } from "ai";
import { renderFileReference } from "../../chats/parts.js";
import type { ChatMessagePart } from "../../sdk/schemas/parts.js";

/** The AI SDK's `ProviderOptions` (not re-exported by `ai` 6). */
export type ProviderOptions = NonNullable<ModelMessage["providerOptions"]>;
export type ToolResultOutput = ToolResultPart["output"];
export type AssistantPart = Exclude<AssistantContent, string>[number];
export type JsonObject = { [key: string]: JSONValue };

export interface ResolvedFile {
  mediaType: string;
  data: Uint8Array;
}
/** Looks up an uploaded file (`chat_files`) by id; undefined when it is gone or unreadable. */
export type FileResolver = (fileId: string) => ResolvedFile | undefined;

/** Media type for file bytes whose type nobody recorded. */
const UNKNOWN_MEDIA_TYPE = "application/octet-stream";
/** What an id that sanitizes to nothing becomes (providers reject empty ids). */
const EMPTY_ID_REPLACEMENT = "call";
/** Tool name for a call or result stored without one (providers reject empty names). */
export const UNKNOWN_TOOL_NAME = "unknown_tool";

function isPlainRecord(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Strict JSON: finite numbers, plain objects, no `undefined` anywhere. */
export function isJsonValue(value: unknown): value is JSONValue {
  if (value === null || typeof value === "string" || typeof value === "boolean") return true;
  if (typeof value === "number") return Number.isFinite(value);
  if (Array.isArray(value)) return value.every(isJsonValue);
  if (isPlainRecord(value)) return Object.values(value).every(isJsonValue);
  return false;
}

export function isJsonObject(value: unknown): value is JsonObject {
  return isPlainRecord(value) && isJsonValue(value);
}

/** Stored provider metadata as provider options; undefined when nothing usable is left. */
export function providerOptionsFrom(metadata: Record<string, unknown> | undefined): ProviderOptions | undefined {
  if (!metadata) return undefined;
  const options: ProviderOptions = {};
  let kept = false;
  for (const [provider, value] of Object.entries(metadata)) {
    if (!isJsonObject(value)) continue;
    options[provider] = value;
    kept = true;
  }
  return kept ? options : undefined;
}

/** `{ providerOptions }` to spread into a part, or nothing. */
function withOptions(part: ChatMessagePart): { providerOptions?: ProviderOptions } {
  const providerOptions = providerOptionsFrom(part.provider_metadata);
  return providerOptions ? { providerOptions } : {};
}

/** One id, sanitized: every code point outside `[a-zA-Z0-9_-]` becomes `_`. */
export function sanitizeToolCallId(id: string): string {
  const sanitized = id.replace(/[^a-zA-Z0-9_-]/gu, "_");
  return sanitized === "" ? EMPTY_ID_REPLACEMENT : sanitized;
}

/**
 * A stateful sanitizer for one prompt: the same original id always gives the same result, and
 * two different originals that sanitize alike (`a.b`, `a:b`) get distinct ids (`a_b`, `a_b_2`).
 */
export function createToolCallIdSanitizer(): (original: string | undefined) => string {
  const byOriginal = new Map<string, string>();
  const used = new Set<string>();
  return (original) => {
    const key = original ?? "";
    const known = byOriginal.get(key);
    if (known !== undefined) return known;
    const base = sanitizeToolCallId(key);
    let candidate = base;
    for (let n = 2; used.has(candidate); n++) candidate = `${base}_${n}`;
    byOriginal.set(key, candidate);
    used.add(candidate);
    return candidate;
  };
}

const isBlank = (text: string | undefined): boolean => (text ?? "").trim() === "";

/** A text part, or undefined when blank (providers reject empty text blocks). */
export function textPart(part: ChatMessagePart): TextPart | undefined {
  if (part.text === undefined || isBlank(part.text)) return undefined;
  return { type: "text", text: part.text, ...withOptions(part) };
}

/**
 * A reasoning part. Blank reasoning is dropped unless it carries provider data: an Anthropic
 * redacted-thinking block or an OpenAI encrypted reasoning item has no text but must replay.
 */
export function reasoningPart(part: ChatMessagePart): AssistantPart | undefined {
  const options = withOptions(part);
  if (isBlank(part.text) && !options.providerOptions) return undefined;
  return { type: "reasoning", text: part.text ?? "", ...options };
}

export { renderFileReference };

export function fileReferencePart(part: ChatMessagePart): TextPart {
  return { type: "text", text: renderFileReference(part) };
}

/** A file part's bytes and media type: by file id through the resolver, else inline base64. */
function fileBytes(part: ChatMessagePart, resolveFile: FileResolver | undefined): { data: Uint8Array | string; mediaType: string } | undefined {
  if (part.file_id !== undefined && resolveFile) {
    const resolved = resolveFile(part.file_id);
    if (resolved) return { data: resolved.data, mediaType: resolved.mediaType || part.media_type || UNKNOWN_MEDIA_TYPE };
  }
  if (part.data !== undefined && part.data !== "") return { data: part.data, mediaType: part.media_type || UNKNOWN_MEDIA_TYPE };
  return undefined;
}

/**
 * A file part for a user message: images as image parts, anything else as a file part;
 * undefined when the bytes cannot be found.
 */
export function userFilePart(part: ChatMessagePart, resolveFile: FileResolver | undefined): ImagePart | FilePart | undefined {
  const bytes = fileBytes(part, resolveFile);
  if (!bytes) return undefined;
  if (bytes.mediaType.startsWith("image/")) return { type: "image", image: bytes.data, mediaType: bytes.mediaType };
  return { type: "file", data: bytes.data, mediaType: bytes.mediaType, ...(part.file_name ? { filename: part.file_name } : {}) };
}

/** A file part for an assistant message (which has no image parts in the SDK's model). */
export function assistantFilePart(part: ChatMessagePart, resolveFile: FileResolver | undefined): FilePart | undefined {
  const bytes = fileBytes(part, resolveFile);
  if (!bytes) return undefined;
  return { type: "file", data: bytes.data, mediaType: bytes.mediaType, ...(part.file_name ? { filename: part.file_name } : {}) };
}

/**
 * A tool call's input. Tool inputs are JSON objects; stored args are the parsed object, but a
 * JSON string holding an object is accepted too. Anything else (missing, malformed) is `{}`,
 * which every provider accepts.
 */
export function toolInput(args: unknown): JsonObject {
  if (isJsonObject(args)) return args;
  if (typeof args === "string") {
    try {
      const parsed: unknown = JSON.parse(args);
      if (isJsonObject(parsed)) return parsed;
    } catch {
      // Not JSON: fall through to the empty input.
    }
  }
  return {};
}

/** An image result (`{data, mime_type, text}`, behavior.md section 1) from e.g. a screenshot. */
function imageResult(result: unknown): { data: string; mediaType: string; text: string } | undefined {
  if (!isPlainRecord(result)) return undefined;
  const { data, mime_type: mimeType, text } = result;
  if (typeof data !== "string" || data === "" || typeof mimeType !== "string" || !mimeType.startsWith("image/")) return undefined;
  return { data, mediaType: mimeType, text: typeof text === "string" ? text : "" };
}

/**
 * A stored tool result as SDK output. Local errors (`is_error`, stored as `{error: message}`)
 * become `error-text` with the message; provider-executed errors stay `error-json`, the only
 * error shape a provider replays (Anthropic turns it into `web_search_tool_result_error`);
 * image results become content the model can see; any other JSON is `json`. A value that is
 * not JSON (cannot come from the database) is sent as text.
 */
export function toolResultOutput(part: ChatMessagePart): ToolResultOutput {
  const result = part.result;
  if (part.is_error) {
    if (part.provider_executed && isJsonValue(result)) return { type: "error-json", value: result };
    if (typeof result === "string") return { type: "error-text", value: result };
    if (isPlainRecord(result) && typeof result.error === "string") return { type: "error-text", value: result.error };
    if (isJsonValue(result)) return { type: "error-json", value: result };
    return { type: "error-text", value: String(result) };
  }
  const image = imageResult(result);
  if (image) {
    const value: Extract<ToolResultOutput, { type: "content" }>["value"] = [];
    if (image.text !== "") value.push({ type: "text", text: image.text });
    value.push({ type: "image-data", data: image.data, mediaType: image.mediaType });
    return { type: "content", value };
  }
  if (result === undefined) return { type: "json", value: null };
  if (isJsonValue(result)) return { type: "json", value: result };
  return { type: "text", value: String(result) };
}

/** A tool result part (local or provider-executed) under an already sanitized id. */
export function toolResultPart(part: ChatMessagePart, toolCallId: string, toolName: string): ToolResultPart {
  return { type: "tool-result", toolCallId, toolName, output: toolResultOutput(part), ...withOptions(part) };
}

/** A tool call part under an already sanitized id. */
export function toolCallPart(part: ChatMessagePart, toolCallId: string): AssistantPart {
  return {
    type: "tool-call",
    toolCallId,
    toolName: part.tool_name || UNKNOWN_TOOL_NAME,
    input: toolInput(part.args),
    ...(part.provider_executed ? { providerExecuted: true } : {}),
    ...withOptions(part),
  };
}
