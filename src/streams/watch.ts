/**
 * A user's chat-list watch (behavior.md section 4, `/watch`): one frame per event
 * `{kind, chat}` (ChatWatchEvent in sdk/schemas/streams.ts), where `chat` is the partial chat the
 * list needs. Hints are re-read from the database in order, so the payload is always the current
 * row.
 */
import { eq } from "drizzle-orm";
import type { Database } from "../db/client.js";
import { chats } from "../db/schema/index.js";
import type { Pubsub } from "../pubsub/pubsub.js";
import { ownerChannel, ownerHintSchema } from "../chats/hints.js";
import type { ChatRow } from "../chats/store.js";
import type { EventSocket } from "./socket.js";
import { loadDiffStatuses, toDiffStatus } from "../gitauth/diff-view.js";
import type { ChatWatchEvent, WatchChat } from "../sdk/schemas/streams.js";
import { safeJson } from "../util/parse.js";

function watchChat(row: ChatRow): Omit<WatchChat, "diff_status"> {
  return {
    id: row.id,
    owner_id: row.ownerId,
    title: row.title,
    status: row.status,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
    parent_chat_id: row.parentChatId,
    root_chat_id: row.rootChatId ?? row.id,
    workspace_id: row.workspaceId,
    archived: row.archived,
  };
}

export async function runWatch(deps: { db: Database; pubsub: Pubsub }, ownerId: string, socket: EventSocket<ChatWatchEvent>): Promise<void> {
  let chain: Promise<void> = Promise.resolve();
  const unsubscribe = await deps.pubsub.subscribe(ownerChannel(ownerId), (message) => {
    if (message.type !== "message") return;
    const hint = ownerHintSchema.safeParse(safeJson(message.payload));
    if (!hint.success) return;
    const { kind, chat_id: chatId } = hint.data;
    chain = chain
      .then(async () => {
        const [row] = await deps.db.select().from(chats).where(eq(chats.id, chatId));
        if (!row || row.ownerId !== ownerId) return;
        if (kind === "diff_status_change") {
          const diff = (await loadDiffStatuses(deps.db, [row.id])).get(row.id);
          socket.push({ kind, chat: { ...watchChat(row), diff_status: toDiffStatus(row.id, diff) } });
        } else {
          socket.push({ kind, chat: watchChat(row) });
        }
      })
      .catch(() => socket.fail("failed to read chat updates"));
  });
  socket.onClose(() => void unsubscribe().catch(() => undefined));
  // behavior.md: the first frame is a bare ping, so the client knows the watch is live.
  socket.sendPing();
}
