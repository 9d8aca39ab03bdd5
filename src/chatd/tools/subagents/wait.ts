/**
 * Waiting for a delegated (child) chat to settle, for `wait_agent` (behavior.md section 6).
 *
 * A child is settled once its status is neither `pending` nor `running`. The waiter subscribes to
 * the child's stream channel BEFORE reading its status, so a status change committed between the
 * read and the wait cannot be missed; every notification (or `missed`) just triggers a re-read,
 * because hints are pointers and the database is the truth. The fallback poll covers a lost
 * notification; it is the only polling there is.
 *
 * A `waiting` child with queued messages is not settled yet: message_agent with interrupt leaves
 * it `waiting` with the new message queued until its worker's end-of-run promotes that message
 * (→ `pending`). Treating that moment as done would return the interrupted, stale answer.
 *
 * Invariants: the subscription is always released; the wait ends on settle, timeout or abort,
 * whichever comes first, and never leaves a timer behind.
 */
import { and, desc, eq, ne } from "drizzle-orm";
import type { Database } from "../../../db/client.js";
import { chatMessages, chatQueuedMessages, chats } from "../../../db/schema/index.js";
import { streamChannel } from "../../../chats/hints.js";
import { decodeParts } from "../../../chats/parts.js";
import type { ChatRow } from "../../../chats/store.js";
import type { Pubsub } from "../../../pubsub/pubsub.js";

/** Re-read interval when pubsub delivers hints: only a safety net for a lost notification (reference: 5 s). */
export const WAIT_FALLBACK_POLL_MS = 5_000;
/** Without pubsub nothing wakes the waiter, so it polls (reference: 200 ms). */
export const WAIT_POLL_WITHOUT_PUBSUB_MS = 200;

const BUSY_STATUSES: ReadonlySet<string> = new Set(["pending", "running"]);

async function isSettled(db: Database, chat: ChatRow): Promise<boolean> {
  if (BUSY_STATUSES.has(chat.status)) return false;
  if (chat.status !== "waiting") return true;
  const queued = await db.select({ id: chatQueuedMessages.id }).from(chatQueuedMessages).where(eq(chatQueuedMessages.chatId, chat.id)).limit(1);
  return queued.length === 0;
}

export type WaitOutcome = { kind: "settled"; chat: ChatRow } | { kind: "timeout" } | { kind: "aborted" } | { kind: "gone" };

async function readChat(db: Database, chatId: string): Promise<ChatRow | undefined> {
  const [row] = await db.select().from(chats).where(eq(chats.id, chatId));
  return row;
}

/** Resolves when `chatId` settles, `timeoutMs` passes or `signal` aborts. */
export async function waitForSettled(
  deps: { db: Database; pubsub?: Pubsub | undefined },
  chatId: string,
  options: { timeoutMs: number; signal: AbortSignal },
): Promise<WaitOutcome> {
  if (options.signal.aborted) return { kind: "aborted" };
  let wake: (() => void) | undefined;
  const unsubscribe = deps.pubsub ? await deps.pubsub.subscribe(streamChannel(chatId), () => wake?.()) : undefined;
  const pollMs = deps.pubsub ? WAIT_FALLBACK_POLL_MS : WAIT_POLL_WITHOUT_PUBSUB_MS;
  const deadline = Date.now() + options.timeoutMs;
  try {
    for (;;) {
      const chat = await readChat(deps.db, chatId);
      if (!chat) return { kind: "gone" };
      if (await isSettled(deps.db, chat)) return { kind: "settled", chat };
      if (options.signal.aborted) return { kind: "aborted" };
      const remaining = deadline - Date.now();
      if (remaining <= 0) return { kind: "timeout" };
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          options.signal.removeEventListener("abort", done);
          wake = undefined;
          resolve();
        };
        const timer = setTimeout(done, Math.min(pollMs, remaining));
        options.signal.addEventListener("abort", done, { once: true });
        wake = done;
      });
    }
  } finally {
    await unsubscribe?.().catch(() => undefined);
  }
}

/**
 * The child's report: the text of its latest assistant message the user can see (visibility
 * `user` or `both`, not deleted). Model-only rows (compaction summaries) are not reports.
 */
export async function latestReport(db: Database, chatId: string): Promise<string> {
  const rows = await db
    .select({ content: chatMessages.content })
    .from(chatMessages)
    .where(and(eq(chatMessages.chatId, chatId), eq(chatMessages.role, "assistant"), eq(chatMessages.deleted, false), ne(chatMessages.visibility, "model")))
    .orderBy(desc(chatMessages.id));
  for (const row of rows) {
    const text = decodeParts(row.content)
      .flatMap((part) => (part.type === "text" && part.text ? [part.text] : []))
      .join("")
      .trim();
    if (text !== "") return text;
  }
  return "";
}
