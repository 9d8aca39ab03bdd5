/** The chat's model-visible history as prompt assembly reads it (one query, by id). */
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

