/**
 * The chat's model-visible history as prompt assembly reads it (one query, by id), and what it
 * says about where a run stands.
 */
import { and, asc, eq, inArray } from "drizzle-orm";
import type { Database } from "../../db/client.js";
import { chatMessages } from "../../db/schema/index.js";
import { decodeParts } from "../../chats/parts.js";
import type { HistoryMessage } from "./types.js";

export async function loadHistory(db: Database, chatId: string): Promise<HistoryMessage[]> {
  const rows = await db
    .select()
    .from(chatMessages)
    .where(and(eq(chatMessages.chatId, chatId), eq(chatMessages.deleted, false), inArray(chatMessages.visibility, ["model", "both"])))
    .orderBy(asc(chatMessages.id));
  return rows.map((row) => ({
    id: row.id,
    role: row.role,
    visibility: row.visibility,
    compressed: row.compressed,
    deleted: row.deleted,
    parts: decodeParts(row.content),
  }));
}


/**
 * Whether the history already ends with the model's final answer: an assistant message that
 * asked for no local tool. A run always starts from a user message or a tool result, so such a
 * history means an earlier run persisted its last step and never finished the chat (its replica
 * died between that commit and finishRun, or a shutdown handed the finished chat back as
 * pending). Asking the model again would store a second answer.
 */
export function endsWithAnswer(history: readonly HistoryMessage[]): boolean {
  const last = history.at(-1);
  if (last?.role !== "assistant") return false;
  return !last.parts.some((part) => part.type === "tool-call" && !part.provider_executed);
}
