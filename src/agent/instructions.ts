/**
 * `instructions.read` (behavior.md section 5 item 5): the user's `~/.chatd/AGENTS.md`, then the
 * project's `<agent directory>/AGENTS.md`, in that order, for the server's workspace-context block.
 *
 * Invariants:
 * - Missing, unreadable and (after cleaning) empty files are skipped; the same file is never
 *   listed twice (when the agent directory is $HOME/.chatd).
 * - At most INSTRUCTIONS_MAX_BYTES of each file is read (`truncated: true` when cut), cut on a
 *   UTF-8 character boundary; CRLF becomes LF, HTML comments are removed, the text is trimmed.
 */
import { open } from "node:fs/promises";
import path from "node:path";
import { incompleteSuffixLength } from "./headtail.js";
import { homeDirectory } from "./paths.js";
import type { AgentInstructions } from "./protocol.js";

/** An instruction file rides along in every prompt; 64 KiB bounds what one file can cost. */
export const INSTRUCTIONS_MAX_BYTES = 64 * 1024;

/** Removes `<!-- … -->`; an unclosed comment (often cut off by the size cap) hides the rest. */
export function stripHtmlComments(text: string): string {
  return text.replace(/<!--[\s\S]*?(?:-->|$)/g, "");
}

export function cleanInstructions(text: string): string {
  return stripHtmlComments(text.replace(/\r\n/g, "\n")).trim();
}

async function readCapped(file: string): Promise<{ text: string; truncated: boolean } | undefined> {
  const handle = await open(file, "r").catch(() => undefined);
  if (!handle) return undefined;
  try {
    const buffer = Buffer.alloc(INSTRUCTIONS_MAX_BYTES + 1);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    const truncated = length > INSTRUCTIONS_MAX_BYTES;
    let data = buffer.subarray(0, Math.min(length, INSTRUCTIONS_MAX_BYTES));
    if (truncated) data = data.subarray(0, data.length - incompleteSuffixLength(data));
    return { text: data.toString("utf8"), truncated };
  } catch {
    return undefined; // a directory named AGENTS.md, or a read error: nothing to include
  } finally {
    await handle.close();
  }
}

export function instructionPaths(directory: string): string[] {
  const candidates = [path.join(homeDirectory(), ".chatd", "AGENTS.md"), path.join(directory, "AGENTS.md")];
  return candidates.filter((file, index) => candidates.indexOf(file) === index);
}

export async function readInstructions(directory: string): Promise<AgentInstructions> {
  const files: AgentInstructions["files"] = [];
  for (const file of instructionPaths(directory)) {
    const read = await readCapped(file);
    if (!read) continue;
    const content = cleanInstructions(read.text);
    if (content !== "") files.push({ path: file, content, truncated: read.truncated });
  }
  return { os: process.platform, directory, files };
}
