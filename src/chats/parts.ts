/**
 * How message parts (`ChatMessagePart`, defined with the wire schemas in sdk/schemas/parts.ts) are
 * stored and shown: a message's content is an array of parts, stored as `content_version = 1` JSON.
 *
 * jsonb rejects U+0000, yet tool output (binary files, `cat` of anything) contains it. Strings are
 * stored with NUL as U+E000 U+E001 and a literal U+E000 as U+E000 U+E000, and decoded on read,
 * so every string round-trips exactly.
 */
import { chatMessagePartSchema, type ChatMessagePart } from "../sdk/schemas/parts.js";

export const CONTENT_VERSION = 1;

const NUL = "\u0000";
const ESCAPE = "\uE000";
const ESCAPED_NUL = "\uE000\uE001";
const ESCAPED_ESCAPE = "\uE000\uE000";

export function encodeNul(text: string): string {
  if (!text.includes(NUL) && !text.includes(ESCAPE)) return text;
  return text.replaceAll(ESCAPE, ESCAPED_ESCAPE).replaceAll(NUL, ESCAPED_NUL);
}

export function decodeNul(text: string): string {
  if (!text.includes(ESCAPE)) return text;
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === ESCAPE && i + 1 < text.length) {
      const next = text[i + 1];
      if (next === "\uE001") {
        out += NUL;
        i++;
        continue;
      }
      if (next === ESCAPE) {
        out += ESCAPE;
        i++;
        continue;
      }
    }
    out += ch;
  }
  return out;
}

/** Applies `fn` to every string (keys included) of a JSON value. */
function mapStrings(value: unknown, fn: (text: string) => string): unknown {
  if (typeof value === "string") return fn(value);
  if (Array.isArray(value)) return value.map((item) => mapStrings(item, fn));
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [fn(key), mapStrings(item, fn)]));
  }
  return value;
}

/** Parts as stored in `chat_messages.content`. */
export function encodeParts(parts: readonly ChatMessagePart[]): unknown {
  return mapStrings(parts, encodeNul);
}

/** Parts read back from `chat_messages.content`; unreadable parts are dropped, not fatal. */
export function decodeParts(stored: unknown): ChatMessagePart[] {
  const decoded = mapStrings(stored, decodeNul);
  if (!Array.isArray(decoded)) return [];
  const parts: ChatMessagePart[] = [];
  for (const item of decoded) {
    const parsed = chatMessagePartSchema.safeParse(item);
    if (parsed.success) parts.push(parsed.data);
  }
  return parts;
}

/** What the API and stream show: no provider metadata; no inline bytes when a file id exists. */
export function publicPart(part: ChatMessagePart): ChatMessagePart {
  const { provider_metadata: _internal, ...rest } = part;
  if (rest.file_id !== undefined) delete rest.data;
  return rest;
}

/** A fence no line of `content` can close early: one backtick longer than its longest run. */
function fenceFor(content: string): string {
  let longest = 0;
  for (const run of content.match(/`+/g) ?? []) longest = Math.max(longest, run.length);
  return "`".repeat(Math.max(3, longest + 1));
}

/**
 * How a file reference (a diff comment) reads as text, for the model and for titles:
 * `[file-reference] name:start[-end]`, then the referenced lines in a fenced block.
 */
export function renderFileReference(part: Pick<ChatMessagePart, "file_name" | "start_line" | "end_line" | "content">): string {
  let location = part.file_name ?? "";
  if (part.start_line !== undefined) {
    location += `:${part.start_line}`;
    if (part.end_line !== undefined && part.end_line !== part.start_line) location += `-${part.end_line}`;
  }
  const header = `[file-reference] ${location}`;
  const content = (part.content ?? "").replace(/^\n+|\n+$/g, "");
  if (content.trim() === "") return header;
  const fence = fenceFor(content);
  return `${header}\n${fence}\n${content}\n${fence}`;
}

/** The text of a message as a person reads it: its text parts and rendered file references. */
export function readableText(parts: readonly ChatMessagePart[]): string {
  return parts
    .flatMap((part) => {
      if (part.type === "text") return [(part.text ?? "").trim()];
      if (part.type === "file-reference") return [renderFileReference(part)];
      return [];
    })
    .filter((text) => text !== "")
    .join(" ");
}
