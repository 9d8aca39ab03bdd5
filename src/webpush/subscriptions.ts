/**
 * The `webpush_subscriptions` rows: one per browser profile (the endpoint is unique), owned by
 * the user who subscribed it last. Queries only; validation is the caller's (encoding.ts).
 */
import { and, eq } from "drizzle-orm";
import type { Queryable } from "../db/client.js";
import { webpushSubscriptions } from "../db/schema/index.js";

export type SubscriptionRow = typeof webpushSubscriptions.$inferSelect;

export interface SubscriptionInput {
  endpoint: string;
  authKey: string;
  p256dhKey: string;
}

/**
 * Stores the subscription for `userId`. The endpoint names one browser profile, so subscribing
 * it again replaces its keys and moves it to whoever subscribed it last (a shared machine where
 * another person signed in): the previous user must stop getting pushes there.
 */
export async function upsertSubscription(q: Queryable, userId: string, input: SubscriptionInput): Promise<void> {
  await q
    .insert(webpushSubscriptions)
    .values({ userId, endpoint: input.endpoint, authKey: input.authKey, p256dhKey: input.p256dhKey })
    .onConflictDoUpdate({
      target: webpushSubscriptions.endpoint,
      set: { userId, authKey: input.authKey, p256dhKey: input.p256dhKey },
    });
}

/** Deletes the user's subscription at `endpoint`; false when the user has none there. */
export async function deleteUserSubscription(q: Queryable, userId: string, endpoint: string): Promise<boolean> {
  const deleted = await q
    .delete(webpushSubscriptions)
    .where(and(eq(webpushSubscriptions.userId, userId), eq(webpushSubscriptions.endpoint, endpoint)))
    .returning({ id: webpushSubscriptions.id });
  return deleted.length > 0;
}

export async function listUserSubscriptions(q: Queryable, userId: string): Promise<SubscriptionRow[]> {
  return q.select().from(webpushSubscriptions).where(eq(webpushSubscriptions.userId, userId));
}

/**
 * Deletes a subscription the push service said is gone (404/410), only as it was when the push
 * was sent: if the browser re-subscribed meanwhile (the upsert gave the row new keys or another
 * owner), that newer subscription is valid and stays.
 */
export async function deleteExpiredSubscription(q: Queryable, row: SubscriptionRow): Promise<void> {
  await q
    .delete(webpushSubscriptions)
    .where(
      and(
        eq(webpushSubscriptions.id, row.id),
        eq(webpushSubscriptions.userId, row.userId),
        eq(webpushSubscriptions.authKey, row.authKey),
        eq(webpushSubscriptions.p256dhKey, row.p256dhKey),
      ),
    );
}
