/**
 * Turns durable messages and the live step into the rows the timeline renders: one row per user
 * message, one per assistant message (its text, thinking and tool calls, each call paired with
 * its result from the tool messages that follow), and one row for the step being streamed. Tool
 * messages whose results were paired are not rows of their own.
 */
import type { ChatMessageResponse, ChatMessagePart } from "../../../src/sdk/schemas/index.js";
import type { LiveBlock } from "./timeline-state.js";
import { splitMarkdownBlocks } from "./markdown-blocks.js";

/**
 * Markdown blocks (paragraphs, headings, code fences) per row at most. A long answer becomes
 * several rows, so the virtualized list keeps only the visible part of it in the DOM and a
 * streamed token re-lays out a short last row instead of the whole answer.
 */
export const MARKDOWN_BLOCKS_PER_ROW = 12;

export type RenderBlock =
  | { kind: "text"; text: string }
  | { kind: "reasoning"; text: string }
  | { kind: "tool"; toolCallId: string; toolName: string; argsText: string; args?: unknown; result?: ChatMessagePart }
  | { kind: "source"; part: ChatMessagePart }
  | { kind: "file"; part: ChatMessagePart };

export type TimelineItem =
  | { key: string; kind: "user"; message: ChatMessageResponse }
  | { key: string; kind: "assistant"; message: ChatMessageResponse; blocks: RenderBlock[]; continued?: boolean }
  | { key: string; kind: "live"; blocks: RenderBlock[]; continued?: boolean };

function blocksOf(parts: readonly ChatMessagePart[], results: ReadonlyMap<string, ChatMessagePart>): RenderBlock[] {
  const blocks: RenderBlock[] = [];
  for (const part of parts) {
    switch (part.type) {
      case "text":
        if (part.text?.trim()) blocks.push({ kind: "text", text: part.text });
        break;
      case "reasoning":
        if (part.text?.trim()) blocks.push({ kind: "reasoning", text: part.text });
        break;
      case "tool-call": {
        const id = part.tool_call_id ?? "";
        const result = results.get(id);
        blocks.push({
          kind: "tool",
          toolCallId: id,
          toolName: part.tool_name ?? "",
          argsText: part.args === undefined ? "" : JSON.stringify(part.args),
          args: part.args,
          ...(result ? { result } : {}),
        });
        break;
      }
      case "tool-result":
        blocks.push({ kind: "tool", toolCallId: part.tool_call_id ?? "", toolName: part.tool_name ?? "", argsText: "", result: part });
        break;
      case "source":
        blocks.push({ kind: "source", part });
        break;
      case "file":
      case "file-reference":
        blocks.push({ kind: "file", part });
        break;
    }
  }
  return blocks;
}

export function buildTimelineItems(messages: readonly ChatMessageResponse[], live: readonly LiveBlock[] = []): TimelineItem[] {
  const calls = new Set<string>();
  for (const message of messages) {
    for (const part of message.content) if (part.type === "tool-call" && part.tool_call_id) calls.add(part.tool_call_id);
  }
  const results = new Map<string, ChatMessagePart>();
  for (const message of messages) {
    for (const part of message.content) if (part.type === "tool-result" && part.tool_call_id) results.set(part.tool_call_id, part);
  }
  const items: TimelineItem[] = [];
  for (const message of messages) {
    if (message.role === "system") continue;
    if (message.role === "user") {
      items.push({ key: `m${message.id}`, kind: "user", message });
      continue;
    }
    if (message.role === "tool") {
      const orphans = message.content.filter((part) => part.type !== "tool-result" || !part.tool_call_id || !calls.has(part.tool_call_id));
      if (orphans.length === 0) continue;
      items.push({ key: `m${message.id}`, kind: "assistant", message, blocks: blocksOf(orphans, results) });
      continue;
    }
    const blocks = blocksOf(message.content, results);
    splitIntoRows(`m${message.id}`, blocks).forEach((row, index) => items.push({ key: row.key, kind: "assistant", message, blocks: row.blocks, ...(index > 0 ? { continued: true } : {}) }));
  }
  return [...items, ...buildLiveItems(live)];
}

/**
 * The rows of the step being streamed. Separate from the stored messages' rows so a streamed
 * token rebuilds only these, not the whole history's.
 */
export function buildLiveItems(live: readonly LiveBlock[]): TimelineItem[] {
  return splitIntoRows("live", live).map((row, index) => ({ key: row.key, kind: "live", blocks: row.blocks, ...(index > 0 ? { continued: true } : {}) }));
}

/**
 * One message's blocks as rows of at most MARKDOWN_BLOCKS_PER_ROW markdown blocks (a tool card
 * or image counts as one). Keys are stable while text grows: the first row keeps the message's
 * key, the next ones `<key>/<n>`, so rows already on screen are not re-created.
 */
export function splitIntoRows(key: string, blocks: readonly RenderBlock[]): Array<{ key: string; blocks: RenderBlock[] }> {
  const rows: Array<{ key: string; blocks: RenderBlock[] }> = [];
  let current: RenderBlock[] = [];
  let weight = 0;
  const close = () => {
    if (current.length === 0) return;
    rows.push({ key: rows.length === 0 ? key : `${key}/${rows.length}`, blocks: current });
    current = [];
    weight = 0;
  };
  for (const block of blocks) {
    if (block.kind !== "text") {
      if (weight >= MARKDOWN_BLOCKS_PER_ROW) close();
      current.push(block);
      weight += 1;
      continue;
    }
    let pieces = splitMarkdownBlocks(block.text);
    while (pieces.length > 0) {
      if (weight >= MARKDOWN_BLOCKS_PER_ROW) close();
      const take = pieces.slice(0, MARKDOWN_BLOCKS_PER_ROW - weight);
      pieces = pieces.slice(take.length);
      current.push({ kind: "text", text: take.join("\n\n") });
      weight += take.length;
    }
  }
  close();
  return rows;
}
