/**
 * gitsync's database side: leasing stale diff-status rows (any replica, never the same row twice
 * at once) and writing what a refresh learned, each write announcing `diff_status_change` to the
 * chat's owner inside its transaction.
 */
import { and, asc, eq, inArray, lte, ne, sql } from "drizzle-orm";
import type { Database } from "../db/client.js";
import { chatDiffStatuses, chats } from "../db/schema/index.js";
import { transaction } from "../db/transaction.js";
import type { ChatHints } from "../chats/hints.js";
import type { PullRequestColumns } from "./reviews.js";

/** behavior.md: a claimed row is leased for 5 min, longer than any refresh takes (tick timeout 30 s). */
export const LEASE_MS = 5 * 60_000;
/** behavior.md (`DiffStatusTTL`): a refreshed row is looked at again after 120 s. */
export const DIFF_STATUS_TTL_MS = 120_000;
/** behavior.md (`NoTokenBackoff`): without a token nothing can change until the user links one. */
export const NO_TOKEN_BACKOFF_MS = 10 * 60_000;

export interface ClaimedRow {
  chatId: string;
  ownerId: string;
  url: string | null;
  gitBranch: string;
  gitRemoteOrigin: string;
}

const claimable = () =>
  and(
    lte(chatDiffStatuses.staleAt, sql`now()`),
    ne(chatDiffStatuses.gitRemoteOrigin, ""),
    ne(chatDiffStatuses.gitBranch, ""),
    eq(chats.archived, false),
  );

const fromMs = (ms: number) => sql`now() + ${ms} * interval '1 millisecond'`;

/**
 * Leases up to `limit` stale rows, oldest first: SKIP LOCKED lets replicas claim at once without
 * waiting on each other, and the lease (stale_at pushed 5 min out) keeps the next tick, here or
 * elsewhere, from claiming them again while they are refreshed. `chatId` restricts the claim to
 * one chat (the synchronous refresh of GET /chats/{chat}).
 */
export async function claimStaleRows(db: Database, limit: number, chatId?: string): Promise<ClaimedRow[]> {
  if (limit <= 0) return [];
  return transaction(db, async (tx) => {
    const candidates = await tx
      .select({ chatId: chatDiffStatuses.chatId, ownerId: chats.ownerId })
      .from(chatDiffStatuses)
      .innerJoin(chats, eq(chats.id, chatDiffStatuses.chatId))
      .where(chatId ? and(claimable(), eq(chatDiffStatuses.chatId, chatId)) : claimable())
      .orderBy(asc(chatDiffStatuses.staleAt), asc(chatDiffStatuses.chatId))
      .limit(limit)
      .for("update", { of: chatDiffStatuses, skipLocked: true });
    if (candidates.length === 0) return [];
    const owners = new Map(candidates.map((row) => [row.chatId, row.ownerId]));
    const leased = await tx
      .update(chatDiffStatuses)
      .set({ staleAt: fromMs(LEASE_MS) })
      .where(inArray(chatDiffStatuses.chatId, [...owners.keys()]))
      .returning({ chatId: chatDiffStatuses.chatId, url: chatDiffStatuses.url, gitBranch: chatDiffStatuses.gitBranch, gitRemoteOrigin: chatDiffStatuses.gitRemoteOrigin });
    return leased.flatMap((row) => {
      const ownerId = owners.get(row.chatId);
      return ownerId ? [{ ...row, ownerId }] : [];
    });
  });
}

/** A successful refresh: every PR field, refreshed now, looked at again after the TTL. */
export async function writeRefreshed(db: Database, hints: ChatHints, row: ClaimedRow, columns: PullRequestColumns): Promise<void> {
  await transaction(db, async (tx) => {
    await tx
      .update(chatDiffStatuses)
      .set({ ...columns, refreshedAt: sql`now()`, staleAt: fromMs(DIFF_STATUS_TTL_MS), updatedAt: sql`now()` })
      .where(eq(chatDiffStatuses.chatId, row.chatId));
    await hints.owner(tx, row.ownerId, { kind: "diff_status_change", chat_id: row.chatId });
  });
}

/** Nothing to refresh or a failure: try again at `retryInMs` (no announcement, nothing changed). */
export async function postpone(db: Database, chatIds: readonly string[], retryInMs: number): Promise<void> {
  if (chatIds.length === 0) return;
  await db.update(chatDiffStatuses).set({ staleAt: fromMs(retryInMs) }).where(inArray(chatDiffStatuses.chatId, [...chatIds]));
}

/** A rate limit: the group waits until GitHub's reset (padding already added). */
export async function postponeUntil(db: Database, chatIds: readonly string[], at: Date): Promise<void> {
  if (chatIds.length === 0) return;
  await db.update(chatDiffStatuses).set({ staleAt: at }).where(inArray(chatDiffStatuses.chatId, [...chatIds]));
}

/**
 * A newly found (or changed) PR for the branch: record its URL and make the row stale now, so the
 * refresh that follows reads it. Announced, since the chat's link changed. Compared in SQL, not
 * against the caller's earlier read: a refresh that stored the same URL meanwhile (another
 * replica's worker) must not be undone and repeated. A row whose stale_at is further out than the
 * TTL is leased (a refresh is running somewhere) or backing off: it keeps its stale_at, or the
 * lease would be broken and two replicas would refresh it at once.
 */
export async function recordPullRequestUrl(db: Database, hints: ChatHints, chatId: string, ownerId: string, url: string): Promise<void> {
  await transaction(db, async (tx) => {
    const changed = await tx
      .update(chatDiffStatuses)
      .set({
        url,
        staleAt: sql`CASE WHEN ${chatDiffStatuses.staleAt} > ${fromMs(DIFF_STATUS_TTL_MS)} THEN ${chatDiffStatuses.staleAt} ELSE now() - interval '1 second' END`,
        updatedAt: sql`now()`,
      })
      .where(and(eq(chatDiffStatuses.chatId, chatId), sql`${chatDiffStatuses.url} IS DISTINCT FROM ${url}`))
      .returning({ chatId: chatDiffStatuses.chatId });
    if (changed.length > 0) await hints.owner(tx, ownerId, { kind: "diff_status_change", chat_id: chatId });
  });
}
