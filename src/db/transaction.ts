/**
 * The transaction helper. `transaction(db, fn)` runs `fn` in one database transaction and, only
 * after COMMIT, the callbacks registered with `afterCommit(tx, cb)`. A rollback (fn throws) drops
 * them. Pubsub's in-memory implementation uses this to deliver after commit, like NOTIFY does.
 */
import type { Database, Queryable, Transaction } from "./client.js";

const pendingCallbacks = new WeakMap<object, Array<() => void>>();

export async function transaction<T>(db: Database, fn: (tx: Transaction) => Promise<T>): Promise<T> {
  const callbacks: Array<() => void> = [];
  const result = await db.transaction(async (tx) => {
    pendingCallbacks.set(tx, callbacks);
    try {
      return await fn(tx);
    } finally {
      pendingCallbacks.delete(tx);
    }
  });
  for (const callback of callbacks) callback();
  return result;
}

/** True when `q` is a transaction opened by `transaction()`. */
export function isTransaction(q: Queryable): q is Transaction {
  return pendingCallbacks.has(q);
}

/** Runs `callback` after `tx` commits; throws if `tx` is not a live `transaction()` transaction. */
export function afterCommit(tx: Transaction, callback: () => void): void {
  const callbacks = pendingCallbacks.get(tx);
  if (!callbacks) throw new Error("afterCommit: not inside a transaction opened by transaction()");
  callbacks.push(callback);
}
