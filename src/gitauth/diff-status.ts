/**
 * Records what git was working on as a chat's diff status and marks it stale, so gitsync
 * refreshes it (behavior.md section 8, "Discovery"); the owner's chat lists hear
 * `diff_status_change`.
 */
import { and, eq, sql } from "drizzle-orm";
import type { Database } from "../db/client.js";
import { chatDiffStatuses, chats } from "../db/schema/index.js";
import type { ChatHints } from "../chats/hints.js";
import { transaction } from "../db/transaction.js";

export interface GitRef {
  branch: string;
  remoteOrigin: string;
}

/**
 * Upserts branch and origin (a stored PR url is kept) with `stale_at` one second in the past, for
 * `chatId` when given and attached to the workspace, else for every chat of `ownerId` on it.
 * Returns the chats it touched.
 */
export async function markDiffStatusStale(
  db: Database,
  hints: ChatHints,
  input: { workspaceId: string; ownerId: string; chatId?: string; ref: GitRef },
): Promise<string[]> {
  return transaction(db, async (tx) => {
    const conditions = [eq(chats.workspaceId, input.workspaceId), eq(chats.ownerId, input.ownerId)];
    if (input.chatId) conditions.push(eq(chats.id, input.chatId));
    const targets = await tx.select({ id: chats.id }).from(chats).where(and(...conditions));
    for (const target of targets) {
      const values = {
        chatId: target.id,
        gitBranch: input.ref.branch,
        gitRemoteOrigin: input.ref.remoteOrigin,
        staleAt: sql`now() - interval '1 second'`,
      };
      await tx
        .insert(chatDiffStatuses)
        .values(values)
        .onConflictDoUpdate({
          target: chatDiffStatuses.chatId,
          set: { gitBranch: values.gitBranch, gitRemoteOrigin: values.gitRemoteOrigin, staleAt: values.staleAt, updatedAt: sql`now()` },
        });
      await hints.owner(tx, input.ownerId, { kind: "diff_status_change", chat_id: target.id });
    }
    return targets.map((target) => target.id);
  });
}
