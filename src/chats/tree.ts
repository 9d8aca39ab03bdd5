/** Walking a chat's delegation tree (parent → root). */
import { eq } from "drizzle-orm";
import type { Queryable } from "../db/client.js";
import { chats } from "../db/schema/index.js";

/** A chat tree deeper than this is corrupt data (a parent cycle); the walk stops there. */
const MAX_ANCESTOR_DEPTH = 64;

/** The chat's parent, grandparent, … up to its root, nearest first. */
export async function ancestorChatIds(q: Queryable, parentChatId: string | null): Promise<string[]> {
  const ancestors: string[] = [];
  let next = parentChatId;
  while (next && ancestors.length < MAX_ANCESTOR_DEPTH && !ancestors.includes(next)) {
    ancestors.push(next);
    const [row] = await q.select({ parentChatId: chats.parentChatId }).from(chats).where(eq(chats.id, next));
    next = row?.parentChatId ?? null;
  }
  return ancestors;
}
