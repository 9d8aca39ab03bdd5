/**
 * A user's chat-list watch (behavior.md section 4, `/watch`): one frame per event
 * `{kind, chat}`, where `chat` is the partial chat the list needs. Hints are re-read from the
 * database in order, so the payload is always the current row.
 */
import { eq } from "drizzle-orm";
import type { Database } from "../db/client.js";
import { chats } from "../db/schema/index.js";
import type { Pubsub } from "../pubsub/pubsub.js";
import { ownerChannel, ownerHintSchema, type OwnerHint } from "../chats/hints.js";
import type { EventSocket } from "./socket.js";
import { loadDiffStatuses, toDiffStatus, type ChatDiffStatus } from "../gitauth/diff-view.js";
import { safeJson } from "../util/parse.js";

export interface WatchEvent {
  kind: OwnerHint["kind"];
  chat: {
    id: string;
    owner_id: string;
    title: string;
    status: string;
    created_at: string;
    updated_at: string;
    parent_chat_id: string | null;
    root_chat_id: string;
    workspace_id: string | null;
    archived: boolean;
    /** Only on `diff_status_change` events. */
    diff_status?: ChatDiffStatus;
  };
}


export async function runWatch(deps: { db: Database; pubsub: Pubsub }, ownerId: string, socket: EventSocket<WatchEvent>): Promise<void> {
  let chain: Promise<void> = Promise.resolve();
  const unsubscribe = await deps.pubsub.subscribe(ownerChannel(ownerId), (message) => {
    if (message.type !== "message") return;
    const hint = ownerHintSchema.safeParse(safeJson(message.payload));
    if (!hint.success) return;
    chain = chain
      .then(async () => {
        const [row] = await deps.db.select().from(chats).where(eq(chats.id, hint.data.chat_id));
        if (!row || row.ownerId !== ownerId) return;
        const diff = hint.data.kind === "diff_status_change" ? (await loadDiffStatuses(deps.db, [row.id])).get(row.id) : undefined;
        socket.push({
          kind: hint.data.kind,
          chat: {
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
            ...(hint.data.kind === "diff_status_change" ? { diff_status: toDiffStatus(row.id, diff) } : {}),
          },
        });
      })
      .catch(() => socket.fail("failed to read chat updates"));
  });
  socket.onClose(() => void unsubscribe().catch(() => undefined));
  // behavior.md: the first frame is a bare ping, so the client knows the watch is live.
  socket.sendPing();
}
