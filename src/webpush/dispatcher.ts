/**
 * Sends web push notifications (RFC 8030 with VAPID, RFC 8292, and aes128gcm payloads, RFC 8291):
 * the "agent finished" push for a root chat's run, and the test push a user asks for.
 *
 * Invariants:
 * - `runFinished` never throws and never blocks: the push (summary included) runs detached, so it
 *   can neither delay nor fail the run. `drain` (shutdown) cuts summaries short, lets the sends in
 *   flight finish within PUSH_SEND_TIMEOUT_MS, and resolves when nothing is in flight.
 * - A run is pushed only if it ended `waiting` or `error` on a root chat and was not interrupted;
 *   pending (handed back or re-queued) and lost runs are not. Each run notice settles exactly once
 *   (`onSettled`), pushed or not, after every send for it has ended.
 * - A subscription answered 404 or 410 is deleted (the browser unsubscribed or the push service
 *   expired it); any other failure is logged in one line and the subscription is kept.
 * - Logs name a subscription by id and the endpoint's origin only: the endpoint's path is the
 *   capability to push to that browser, and the keys decrypt what was sent.
 * - web-push builds the request (VAPID JWT, encryption); it is sent with fetch, which also speaks
 *   plain http for the loopback endpoints encoding.ts allows (web-push's own sender is https only).
 */
import { setMaxListeners } from "node:events";
import webpush from "web-push";
import { z } from "zod";
import type { Database } from "../db/client.js";
import type { Logger } from "../observability/logger.js";
import type { SecretCipher } from "../secrets/cipher.js";
import type { ChatRow } from "../chats/store.js";
import type { EnvProviderKeys } from "../llm/providers.js";
import { describeError } from "../llm/retry.js";
import { endpointOrigin } from "./encoding.js";
import type { VapidKeys } from "./keys.js";
import { errorBody, finishedBody } from "./summary.js";
import { deleteExpiredSubscription, listUserSubscriptions, type SubscriptionRow } from "./subscriptions.js";

/** One push request's deadline: a push service that does not answer by then will not. */
export const PUSH_SEND_TIMEOUT_MS = 10_000;
/**
 * How long the push service keeps a notification for a browser that is offline. A day: someone
 * who left their machine still learns the agent finished when they come back, but not a week later.
 */
const PUSH_TTL_SECONDS = 24 * 60 * 60;
/** Upstream's icon (the web UI serves it). */
const NOTIFICATION_ICON = "/favicon.ico";
/** Used when the access URL is not https (web-push accepts only https: and mailto: subjects). */
export const DEFAULT_VAPID_SUBJECT = "mailto:chatd@localhost";

/** What the service worker receives (upstream's shape). */
export const pushMessageSchema = z.object({
  title: z.string(),
  body: z.string(),
  icon: z.string(),
  data: z.object({ url: z.string() }),
});
export type PushMessage = z.infer<typeof pushMessageSchema>;

/** Upstream's test notification. */
export const TEST_MESSAGE: PushMessage = {
  title: "It's working!",
  body: "You've subscribed to push notifications.",
  icon: NOTIFICATION_ICON,
  data: { url: "/agents" },
};

/** How a run ended, as the chat worker reports it after finishRun. */
export interface RunEndNotice {
  /** The chat row as finishRun left it (status, last_error, title, parent). */
  chat: ChatRow;
  /** The run was stopped by the user: the chat was `waiting` before it ended. */
  interrupted: boolean;
}

export interface DeliveryReport {
  delivered: number;
  /** Answered 404/410, and deleted. */
  expired: number;
  failed: number;
}

export type SkipReason = "interrupted" | "subagent" | "not_finished" | "no_subscriptions";

export interface SettledRun {
  chatId: string;
  /** Why nothing was sent; absent when the push went out (see `report`). */
  skipped?: SkipReason;
  report: DeliveryReport;
}

export interface WebPushDispatcherDeps {
  db: Database;
  cipher: SecretCipher;
  envKeys: EnvProviderKeys;
  log: Logger;
  keys: VapidKeys;
  /** The VAPID `sub` claim: a way for a push service to reach the operator (see vapidSubject). */
  subject: string;
  retryBaseDelayMs?: number;
}

/** The VAPID subject: the access URL when it is https, else DEFAULT_VAPID_SUBJECT. */
export function vapidSubject(accessUrl: string | undefined): string {
  return accessUrl !== undefined && URL.canParse(accessUrl) && new URL(accessUrl).protocol === "https:"
    ? new URL(accessUrl).origin
    : DEFAULT_VAPID_SUBJECT;
}

const EMPTY_REPORT: DeliveryReport = { delivered: 0, expired: 0, failed: 0 };

/** A failure as one short line, without URLs (a fetch error can carry its request's). */
function failureText(error: unknown): string {
  if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError")) return "timed out or cancelled";
  const cause = error instanceof Error ? error.cause : undefined;
  const code = typeof cause === "object" && cause !== null && "code" in cause ? cause.code : undefined;
  if (typeof code === "string") return code;
  return error instanceof Error ? error.name : "unknown error";
}

export class WebPushDispatcher {
  readonly #inFlight = new Set<Promise<void>>();
  readonly #listeners = new Set<(settled: SettledRun) => void>();
  /** Aborted on shutdown: summaries stop and fall back; sends already started finish. */
  readonly #stop = new AbortController();

  constructor(private readonly deps: WebPushDispatcherDeps) {
    // One listener per push in flight: many at once is normal, not a leak.
    setMaxListeners(0, this.#stop.signal);
  }

  /** What browsers subscribe with (`applicationServerKey`). */
  get publicKey(): string {
    return this.deps.keys.publicKey;
  }

  /** Calls `listener` once per run notice when it has been dealt with; returns the unsubscribe. */
  onSettled(listener: (settled: SettledRun) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Pushes the end of a run to the chat owner's browsers if it should be (see the header). */
  runFinished(notice: RunEndNotice): void {
    const task = this.#notify(notice)
      .catch((error: unknown) => {
        this.deps.log.warn({ chat_id: notice.chat.id, error: describeError(error) }, "push notification failed");
        return { chatId: notice.chat.id, report: EMPTY_REPORT };
      })
      .then((settled) => {
        for (const listener of this.#listeners) listener(settled);
      });
    this.#inFlight.add(task);
    void task.finally(() => this.#inFlight.delete(task));
  }

  /** Stops summaries and resolves once every push in flight has ended (shutdown). */
  async drain(): Promise<void> {
    this.#stop.abort();
    while (this.#inFlight.size > 0) await Promise.all([...this.#inFlight]);
  }

  async #notify({ chat, interrupted }: RunEndNotice): Promise<SettledRun> {
    const skip = (skipped: SkipReason): SettledRun => ({ chatId: chat.id, skipped, report: EMPTY_REPORT });
    if (interrupted) return skip("interrupted");
    if (chat.parentChatId !== null) return skip("subagent");
    if (chat.status !== "waiting" && chat.status !== "error") return skip("not_finished");
    const subscriptions = await listUserSubscriptions(this.deps.db, chat.ownerId);
    // Checked before the summary: no browser to tell, no model call.
    if (subscriptions.length === 0) return skip("no_subscriptions");
    const body =
      chat.status === "error"
        ? errorBody(chat.lastError)
        : await finishedBody(
            {
              db: this.deps.db,
              cipher: this.deps.cipher,
              envKeys: this.deps.envKeys,
              log: this.deps.log,
              signal: this.#stop.signal,
              ...(this.deps.retryBaseDelayMs === undefined ? {} : { retryBaseDelayMs: this.deps.retryBaseDelayMs }),
            },
            chat,
          );
    const message: PushMessage = { title: chat.title, body, icon: NOTIFICATION_ICON, data: { url: `/agents/${chat.id}` } };
    return { chatId: chat.id, report: await this.#sendAll(subscriptions, message) };
  }

  /** Sends `message` to every subscription of `userId` (the test push). */
  async sendToUser(userId: string, message: PushMessage): Promise<DeliveryReport> {
    return this.#sendAll(await listUserSubscriptions(this.deps.db, userId), message);
  }

  async #sendAll(subscriptions: readonly SubscriptionRow[], message: PushMessage): Promise<DeliveryReport> {
    const payload = JSON.stringify(pushMessageSchema.parse(message));
    const outcomes = await Promise.all(subscriptions.map((subscription) => this.#send(subscription, payload)));
    return {
      delivered: outcomes.filter((outcome) => outcome === "delivered").length,
      expired: outcomes.filter((outcome) => outcome === "expired").length,
      failed: outcomes.filter((outcome) => outcome === "failed").length,
    };
  }

  async #send(subscription: SubscriptionRow, payload: string): Promise<"delivered" | "expired" | "failed"> {
    const where = { subscription_id: subscription.id, push_service: endpointOrigin(subscription.endpoint) };
    let status: number;
    try {
      const request = webpush.generateRequestDetails(
        { endpoint: subscription.endpoint, keys: { p256dh: subscription.p256dhKey, auth: subscription.authKey } },
        payload,
        { vapidDetails: { subject: this.deps.subject, publicKey: this.deps.keys.publicKey, privateKey: this.deps.keys.privateKey }, TTL: PUSH_TTL_SECONDS, contentEncoding: "aes128gcm" },
      );
      const headers = new Headers();
      // web-push puts numbers in some headers (TTL); fetch computes Content-Length itself.
      for (const [name, value] of Object.entries(request.headers)) {
        if (name.toLowerCase() !== "content-length") headers.set(name, String(value));
      }
      const response = await fetch(request.endpoint, {
        method: request.method,
        headers,
        ...(request.body ? { body: new Uint8Array(request.body) } : {}),
        // A push service answers; it never sends us elsewhere (and a redirect would leak the payload).
        redirect: "manual",
        signal: AbortSignal.timeout(PUSH_SEND_TIMEOUT_MS),
      });
      await response.arrayBuffer().catch(() => undefined);
      status = response.status;
    } catch (error) {
      this.deps.log.warn({ ...where, error: failureText(error) }, "push delivery failed; keeping the subscription");
      return "failed";
    }
    if (status >= 200 && status < 300) return "delivered";
    if (status === 404 || status === 410) {
      await deleteExpiredSubscription(this.deps.db, subscription);
      this.deps.log.info({ ...where, status }, "push subscription expired; deleted it");
      return "expired";
    }
    this.deps.log.warn({ ...where, status }, "push service refused the notification; keeping the subscription");
    return "failed";
  }
}
