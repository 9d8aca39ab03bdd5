/**
 * File tools on the agent (behavior.md section 6): read with line numbers, atomic write, and
 * search/replace edits.
 *
 * Invariants:
 * - Paths arrive already resolved (paths.ts); every error is an AgentError with a message a model
 *   can act on (which path, what to do instead).
 * - Writes are atomic: a temp file in the same directory, then rename. A reader never sees half
 *   a file, and a failed edit leaves the file as it was.
 * - file.edit is atomic per file, not across files: files before a failing one stay written.
 * - read results never exceed READ_MAX_CONTENT_BYTES, and lines_read says exactly how many lines
 *   the content holds.
 */
import { randomBytes } from "node:crypto";
import { chmod, mkdir, readFile, realpath, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { AgentError, badRequest, errnoCode, errorMessage, notFound } from "./errors.js";
import { incompleteSuffixLength } from "./headtail.js";
import type { AgentResult } from "./protocol.js";

/** Larger files are read with execute (head, sed -n, grep): loading them whole would bloat the agent and the context. */
export const READ_MAX_FILE_BYTES = 1024 * 1024;
/** A minified line is useless to a model; behavior.md caps each line at 1024 bytes. */
export const READ_MAX_LINE_BYTES = 1024;
/** The whole content stays under 32 KiB, the same budget as a command's output. */
export const READ_MAX_CONTENT_BYTES = 32 * 1024;
export const READ_LINE_TRUNCATED_MARKER = "... [line truncated]";
/** cat -n's layout: the number right-aligned in six columns, then a tab. */
const LINE_NUMBER_WIDTH = 6;
/** Search text quoted in an error is shortened to this many characters. */
const QUOTED_SEARCH_CHARS = 80;

function describeFsError(error: unknown, file: string): AgentError {
  switch (errnoCode(error)) {
    case "ENOENT":
      return notFound(`file not found: ${file}`);
    case "EISDIR":
      return badRequest(`${file} is a directory, not a file`);
    case "EACCES":
    case "EPERM":
      return badRequest(`permission denied: ${file}`);
    case "ENOTDIR":
      return badRequest(`a parent of ${file} is not a directory`);
    default:
      return new AgentError("internal", `${file}: ${errorMessage(error)}`);
  }
}

/** Cuts a line to READ_MAX_LINE_BYTES without splitting a UTF-8 character. */
function clipLine(line: Buffer): string {
  if (line.length <= READ_MAX_LINE_BYTES) return line.toString("utf8");
  const head = line.subarray(0, READ_MAX_LINE_BYTES);
  return `${head.subarray(0, head.length - incompleteSuffixLength(head)).toString("utf8")}${READ_LINE_TRUNCATED_MARKER}`;
}

function splitLines(data: Buffer): Buffer[] {
  const lines: Buffer[] = [];
  let start = 0;
  while (start < data.length) {
    const newline = data.indexOf(0x0a, start);
    if (newline === -1) {
      lines.push(data.subarray(start));
      break;
    }
    lines.push(data.subarray(start, newline));
    start = newline + 1;
  }
  return lines;
}

export async function readFileLines(file: string, params: { offset: number; limit: number }): Promise<AgentResult<"file.read">> {
  const info = await stat(file).catch((error: unknown) => {
    throw describeFsError(error, file);
  });
  if (info.isDirectory()) throw badRequest(`${file} is a directory; list it with execute (ls) instead`);
  if (info.size > READ_MAX_FILE_BYTES) {
    throw badRequest(
      `${file} is ${info.size} bytes, over read_file's ${READ_MAX_FILE_BYTES}-byte limit; ` +
        `read parts of it with execute instead (sed -n '100,200p', head, tail, grep -n)`,
    );
  }
  const data = await readFile(file).catch((error: unknown) => {
    throw describeFsError(error, file);
  });
  const lines = splitLines(data);
  const first = params.offset - 1;
  const parts: string[] = [];
  let bytes = 0;
  for (let index = first; index < lines.length && parts.length < params.limit; index++) {
    const line = lines[index];
    if (line === undefined) break;
    const numbered = `${String(index + 1).padStart(LINE_NUMBER_WIDTH)}\t${clipLine(line)}\n`;
    const size = Buffer.byteLength(numbered);
    if (bytes + size > READ_MAX_CONTENT_BYTES) break;
    parts.push(numbered);
    bytes += size;
  }
  return { content: parts.join(""), file_size: info.size, total_lines: lines.length, lines_read: parts.length };
}

/** Writes through a temp file in the same directory and a rename; a symlink's target is what changes. */
export async function writeFileAtomic(file: string, content: string): Promise<void> {
  const target = await realpath(file).catch(() => file);
  const directory = path.dirname(target);
  await mkdir(directory, { recursive: true }).catch((error: unknown) => {
    throw describeFsError(error, directory);
  });
  const existing = await stat(target).catch(() => undefined);
  if (existing?.isDirectory()) throw badRequest(`${target} is a directory, not a file`);
  const temp = path.join(directory, `.${path.basename(target)}.${randomBytes(6).toString("hex")}.chatd-tmp`);
  try {
    await writeFile(temp, content, { flag: "wx" });
    // Keep an existing file's permissions (an executable script stays executable).
    if (existing) await chmod(temp, existing.mode & 0o7777);
    await rename(temp, target);
  } catch (error) {
    await rm(temp, { force: true });
    throw describeFsError(error, target);
  }
}

function quote(search: string): string {
  const flat = search.replace(/\s+/g, " ").trim();
  return JSON.stringify(flat.length > QUOTED_SEARCH_CHARS ? `${flat.slice(0, QUOTED_SEARCH_CHARS - 1)}…` : flat);
}

function countOccurrences(haystack: string, needle: string): number {
  let count = 0;
  for (let at = haystack.indexOf(needle); at !== -1; at = haystack.indexOf(needle, at + needle.length)) count++;
  return count;
}

type Edit = { search: string; replace: string; replace_all?: boolean | undefined };

/** Applies edits in order to one file's text; throws (naming the file) at the first that cannot apply. */
export function applyEdits(file: string, text: string, edits: readonly Edit[]): string {
  let result = text;
  edits.forEach((edit, index) => {
    const which = edits.length > 1 ? ` (edit ${index + 1} of ${edits.length})` : "";
    if (edit.search === "") throw badRequest(`${file}${which}: search text is empty; give the exact text to replace`);
    const count = countOccurrences(result, edit.search);
    if (count === 0) {
      throw badRequest(`${file}${which}: search text not found: ${quote(edit.search)}; read the file and copy the text exactly`);
    }
    if (count > 1 && !edit.replace_all) {
      throw badRequest(
        `${file}${which}: search text ${quote(edit.search)} matches ${count} times; ` +
          `include more surrounding lines to make it unique, or set replace_all`,
      );
    }
    // split/join, not String.replace: a replacement containing "$&" or "$1" must stay literal.
    result = result.split(edit.search).join(edit.replace);
  });
  return result;
}

export async function editFiles(files: readonly { path: string; edits: readonly Edit[] }[]): Promise<void> {
  for (const entry of files) {
    const data = await readFile(entry.path).catch((error: unknown) => {
      throw describeFsError(error, entry.path);
    });
    const text = data.toString("utf8");
    // Decoding replaced invalid bytes with U+FFFD; writing that back would corrupt the file.
    if (!Buffer.from(text, "utf8").equals(data)) throw badRequest(`${entry.path} is not UTF-8 text; change it with execute instead`);
    await writeFileAtomic(entry.path, applyEdits(entry.path, text, entry.edits));
  }
}
