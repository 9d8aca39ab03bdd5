/**
 * What a user sends into a chat (behavior.md section 3): `ChatInputPart`s (sdk/schemas/parts.ts)
 * validated into stored message parts, the fallback title of a new chat, and the initial messages
 * a chat starts with.
 *
 * The wire schema is deliberately loose (any `type` string, every field optional) so that the
 * checks below can answer with behavior.md's exact messages (`content[i]...`) instead of zod's.
 * No HTTP here: failures are `ChatInputError`s that the routes turn into 400s.
 */
import { renderFileReference } from "./parts.js";
import type { NewMessage } from "./store.js";
import { isUuid } from "../util/parse.js";
import type { ChatInputPart, ChatMessagePart } from "../sdk/schemas/parts.js";

/** A message is typed by a person; 100 parts is far beyond any real one and bounds the work per request. */
export const MAX_INPUT_PARTS = 100;
/** 1 MiB of text per part: a large paste or file excerpt fits, a runaway client does not. */
export const MAX_INPUT_TEXT_BYTES = 1024 * 1024;
/** File references name a path; no file system allows names near this long. */
export const MAX_FILE_REFERENCE_NAME_BYTES = 4096;

/** Title rule (behavior.md section 3): the first 6 words, at most 80 runes. */
export const TITLE_MAX_WORDS = 6;
export const TITLE_MAX_RUNES = 80;
export const DEFAULT_CHAT_TITLE = "New Chat";
const ELLIPSIS = "…";

/** A refused input: `message` and `detail` are what the API answers. */
export class ChatInputError extends Error {
  constructor(
    message: string,
    readonly detail: string,
  ) {
    super(message);
    this.name = "ChatInputError";
  }
}

const INVALID_PART = "Invalid input part.";

/** Finds a file the caller may attach; undefined when it does not exist or is not theirs. */
export type AttachableFileLookup = (fileId: string) => Promise<{ mediaType: string } | undefined>;

export interface ValidatedInput {
  parts: ChatMessagePart[];
  /** The text a fallback title is made from (text parts and rendered file references). */
  titleSource: string;
}

const byteLength = (text: string): number => Buffer.byteLength(text, "utf8");

/**
 * Checks every part and converts it to its stored form. The first problem wins, so the caller
 * always learns which part (`content[i]`) to fix.
 */
export async function validateInputParts(
  input: readonly ChatInputPart[] | undefined,
  lookupFile: AttachableFileLookup,
  field = "content",
): Promise<ValidatedInput> {
  if (!input || input.length === 0) throw new ChatInputError("Content is required.", "Content cannot be empty.");
  if (input.length > MAX_INPUT_PARTS) {
    throw new ChatInputError(INVALID_PART, `${field} has ${input.length} parts; at most ${MAX_INPUT_PARTS} are allowed.`);
  }
  const parts: ChatMessagePart[] = [];
  const texts: string[] = [];
  for (const [i, part] of input.entries()) {
    const at = `${field}[${i}]`;
    const type = part.type.trim().toLowerCase();
    switch (type) {
      case "text": {
        const text = (part.text ?? "").trim();
        if (text === "") throw new ChatInputError(INVALID_PART, `${at}.text cannot be empty.`);
        if (byteLength(text) > MAX_INPUT_TEXT_BYTES) {
          throw new ChatInputError(INVALID_PART, `${at}.text is longer than ${MAX_INPUT_TEXT_BYTES} bytes.`);
        }
        parts.push({ type: "text", text });
        texts.push(text);
        break;
      }
      case "file": {
        const fileId = (part.file_id ?? "").trim();
        if (fileId === "") throw new ChatInputError(INVALID_PART, `${at}.file_id is required for file parts.`);
        const file = isUuid(fileId) ? await lookupFile(fileId.toLowerCase()) : undefined;
        if (!file) throw new ChatInputError(INVALID_PART, `${at}.file_id references a file that does not exist.`);
        parts.push({ type: "file", file_id: fileId.toLowerCase(), media_type: file.mediaType });
        break;
      }
      case "file-reference": {
        const fileName = (part.file_name ?? "").trim();
        if (fileName === "") throw new ChatInputError(INVALID_PART, `${at}.file_name cannot be empty for file-reference.`);
        if (byteLength(fileName) > MAX_FILE_REFERENCE_NAME_BYTES) {
          throw new ChatInputError(INVALID_PART, `${at}.file_name is longer than ${MAX_FILE_REFERENCE_NAME_BYTES} bytes.`);
        }
        const content = part.content ?? "";
        if (byteLength(content) > MAX_INPUT_TEXT_BYTES) {
          throw new ChatInputError(INVALID_PART, `${at}.content is longer than ${MAX_INPUT_TEXT_BYTES} bytes.`);
        }
        const reference = { file_name: fileName, start_line: part.start_line ?? 0, end_line: part.end_line ?? 0, content };
        parts.push({ type: "file-reference", ...reference });
        texts.push(renderFileReference(reference));
        break;
      }
      default:
        throw new ChatInputError(INVALID_PART, `${at}.type ${JSON.stringify(part.type)} is not supported.`);
    }
  }
  return { parts, titleSource: texts.join(" ").trim() };
}

/**
 * The title a chat gets before (or instead of) a generated one: the first TITLE_MAX_WORDS words,
 * "…" when there were more, cut to TITLE_MAX_RUNES code points; "New Chat" when there is no text
 * (a message of images only). NUL is dropped: the title column is text, which cannot hold it.
 */
export function fallbackTitle(source: string): string {
  const words = source.replaceAll("\u0000", "").split(/\s+/u).filter((word) => word !== "");
  if (words.length === 0) return DEFAULT_CHAT_TITLE;
  const truncated = words.length > TITLE_MAX_WORDS;
  const title = words.slice(0, TITLE_MAX_WORDS).join(" ") + (truncated ? ELLIPSIS : "");
  const runes = Array.from(title);
  return runes.length <= TITLE_MAX_RUNES ? title : runes.slice(0, TITLE_MAX_RUNES).join("");
}

/**
 * The built-in system prompt, used while the site prompt (`agents_chat_system_prompt`) is blank.
 * It states how the agent should work; which tools exist is told by the tool definitions.
 */
export const DEFAULT_SYSTEM_PROMPT = `You are a coding agent working for a software team through chatd. You work inside a workspace: a machine with a shell, a file system and git, reached through your tools.

How to work:
- Understand before you change. Read the relevant code, configuration and tests first; look for the project's own conventions (README, contributing notes, existing patterns) and follow them.
- Make the smallest change that fully solves the task. Do not reformat, rename or refactor unrelated code.
- Verify your work: build, run the tests or reproduce the problem, and read the output. Never claim something works without having checked it; if you could not check it, say so.
- When a command fails, read the error and fix the cause rather than retrying blindly.
- Never run destructive commands (deleting data, force-pushing, rewriting published history, dropping databases) unless the user explicitly asked for exactly that.
- Never print, copy or commit secrets such as API keys, tokens or passwords.
- Ask the user when the request is ambiguous in a way that changes the outcome; otherwise make a reasonable choice and state it.

How to answer:
- Be concise and concrete. Lead with the result, then what you changed (files and why) and how you verified it.
- Quote file paths, commands and short code excerpts exactly; use Markdown code blocks for code.
- If you stop before the task is done, say what is left and why.`;

/** Told to the model when a chat has no workspace yet (behavior.md, create). */
export const NO_WORKSPACE_MESSAGE =
  "There is no workspace associated with this chat yet. Create one using the create_workspace tool before using workspace tools like execute, read_file, write_file, etc.";
/** Told to the model when the chat starts attached to a workspace. */
export const WORKSPACE_ATTACHED_MESSAGE =
  "This chat is attached to a workspace. Use the workspace tools like execute, read_file, write_file, etc. to work in it.";

export interface InitialMessagesInput {
  /** The site prompt; blank means DEFAULT_SYSTEM_PROMPT. */
  sitePrompt: string;
  hasWorkspace: boolean;
  userParts: readonly ChatMessagePart[];
  ownerId: string;
  modelConfigId: string;
}

/** A new chat's history: system prompt and workspace awareness (model only), then the user's message. */
export function initialMessages(input: InitialMessagesInput): NewMessage[] {
  const systemPrompt = input.sitePrompt.trim() === "" ? DEFAULT_SYSTEM_PROMPT : input.sitePrompt;
  const awareness = input.hasWorkspace ? WORKSPACE_ATTACHED_MESSAGE : NO_WORKSPACE_MESSAGE;
  return [
    { role: "system", parts: [{ type: "text", text: systemPrompt }], visibility: "model" },
    { role: "system", parts: [{ type: "text", text: awareness }], visibility: "model" },
    { role: "user", parts: input.userParts, visibility: "both", createdBy: input.ownerId, modelConfigId: input.modelConfigId },
  ];
}
