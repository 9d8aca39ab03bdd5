/**
 * The chat worker of one replica: acquires pending chats, runs each (one loop per chat), keeps
 * their leases alive, recovers chats whose replica died, and on shutdown hands every running chat
 * back as `pending` (behavior.md section 2).
 *
 * Invariants:
 * - A chat is only run after `acquireChats` leased it to this worker.
 * - Part buffering starts before the chat runs, so a viewer never misses an early delta.
 * - A lost lease (heartbeat touches no row) or a status hint that the chat was stopped, edited or
 *   taken over aborts the run as an interrupt; shutdown aborts it as a shutdown.
 * - During shutdown nothing new is acquired; a chat acquired as shutdown began, a run that
 *   finishes as it begins, and a run stopped mid-tool all end as `pending`, never waiting/error.
 * - An exception escaping a run ends the chat in `error` with "chat processing panicked: …".
 */
import { randomUUID } from "node:crypto";
import type { Database } from "../db/client.js";
import type { Logger } from "../observability/logger.js";
import type { Pubsub } from "../pubsub/pubsub.js";
import { PENDING_CHANNEL, streamChannel, streamHintSchema, type ChatHints } from "../chats/hints.js";
import { acquireChats, finishRun, heartbeatChat, recoverStaleChats, type Lease, type RunOutcome } from "../chats/state.js";
import type { ChatRow } from "../chats/store.js";
import type { ChatEventHub } from "./events.js";
import type { RunEnd, StopCause } from "./loop/run.js";
import { safeJson } from "../util/parse.js";
import { NO_CHAT_METRICS, retryReason, type ChatMetrics } from "../observability/chat-metrics.js";

export interface WorkerSettings {
  acquireIntervalMs: number;
  acquireBatchSize: number;
  heartbeatIntervalMs: number;
  staleAfterMs: number;
  /** 0: no per-replica limit. */
  maxRunningChats: number;
}

/**
 * Told of every run that finishRun ended (not of one whose lease was lost), with the row as it
 * left it; must not throw or block (the push notifications hang here).
 */
export type RunFinishedListener = (run: { chat: ChatRow; interrupted: boolean }) => void;

/**
 * Runs one acquired chat to its end; the worker owns status writes around it. `log` is the run's
 * logger, whose every line carries chat_id and run_id.
 */
export type ChatRunner = (chat: ChatRow, control: { signal: AbortSignal; cause(): StopCause; lease: Lease; log: Logger }) => Promise<RunEnd>;

interface ActiveRun {
  controller: AbortController;
  cause: StopCause | undefined;
  done: Promise<void>;
}

/** The status a finished run left: pending (handed back or re-queued), error, or waiting. */
function terminalOf(status: ChatRow["status"]): "waiting" | "error" | "pending" {
  if (status === "pending" || status === "error") return status;
  return "waiting";
}

export class ChatWorker {
  readonly #runs = new Map<string, ActiveRun>();
  #acquireTimer: NodeJS.Timeout | undefined;
  #staleTimer: NodeJS.Timeout | undefined;
  #unsubscribePending: (() => Promise<void>) | undefined;
  #ticking: Promise<void> | undefined;
  #tickAgain = false;
  #stopping = false;
  #recovering: Promise<void> | undefined;
  #recoverNext: Promise<void> | undefined;

  constructor(
    private readonly deps: {
      db: Database;
      pubsub: Pubsub;
      hints: ChatHints;
      hub: ChatEventHub;
      log: Logger;
      workerId: string;
      settings: WorkerSettings;
      runner: ChatRunner;
      onRunFinished?: RunFinishedListener;
      metrics?: ChatMetrics;
    },
  ) {}

  get #metrics(): ChatMetrics {
    return this.deps.metrics ?? NO_CHAT_METRICS;
  }

  get runningCount(): number {
    return this.#runs.size;
  }

  async start(): Promise<void> {
    await this.recoverStale();
    this.#unsubscribePending = await this.deps.pubsub.subscribe(PENDING_CHANNEL, () => this.poke());
    this.#acquireTimer = setInterval(() => this.poke(), this.deps.settings.acquireIntervalMs);
    // behavior.md: stale recovery every staleAfter/5 (1 minute for the default 5-minute lease).
    this.#staleTimer = setInterval(() => void this.recoverStale(), Math.max(1000, this.deps.settings.staleAfterMs / 5));
    this.poke();
  }

  /** Asks for an acquire pass now (coalesced with one in flight). */
  poke(): void {
    if (this.#stopping) return;
    if (this.#ticking) {
      this.#tickAgain = true;
      return;
    }
    this.#ticking = this.#tick().finally(() => {
      this.#ticking = undefined;
      if (this.#tickAgain) {
        this.#tickAgain = false;
        this.poke();
      }
    });
  }

  async #tick(): Promise<void> {
    const { settings } = this.deps;
    const room = settings.maxRunningChats > 0 ? settings.maxRunningChats - this.#runs.size : settings.acquireBatchSize;
    const limit = Math.min(settings.acquireBatchSize, room);
    if (limit <= 0) return;
    let acquired: ChatRow[];
    try {
      // Buffering starts inside the acquiring transaction: a viewer that sees `running` finds
      // the buffer already there (the seed's "buffering before running is published" race).
      acquired = await acquireChats(this.deps.db, this.deps.hints, this.deps.workerId, limit, (chat, pendingSince) => {
        this.deps.hub.startBuffering(chat.id);
        if (chat.startedAt) this.#metrics.timeToRunning(Math.max(0, chat.startedAt.getTime() - pendingSince.getTime()) / 1000);
      });
    } catch (error) {
      this.deps.log.warn({ err: error }, "acquiring chats failed");
      return;
    }
    for (const chat of acquired) {
      const lease: Lease = { workerId: this.deps.workerId, startedAt: chat.startedAt ?? new Date(0) };
      if (this.#stopping) {
        // Acquired as shutdown began: hand it straight back.
        this.deps.hub.stopBuffering(chat.id);
        await this.#finish(chat, lease, { status: "pending", reason: "shutdown" });
        continue;
      }
      const previous = this.#runs.get(chat.id);
      // Re-acquired (after a promote or edit) while its previous run is still finishing: the new
      // run starts once the old one is done, so the two never overlap.
      if (previous) void previous.done.then(() => this.#launch(chat, lease));
      else this.#launch(chat, lease);
    }
  }

  #launch(chat: ChatRow, lease: Lease): void {
    const controller = new AbortController();
    const run: ActiveRun = { controller, cause: undefined, done: Promise.resolve() };
    const stop = (cause: StopCause) => {
      if (controller.signal.aborted) return;
      run.cause = cause;
      // ai v6 mishandles abort(reason) (libs.md P7): abort plainly, keep the cause aside.
      controller.abort();
    };
    this.#runs.set(chat.id, run);
    this.deps.hub.startBuffering(chat.id);
    run.done = this.#supervise(chat, lease, run, stop).finally(() => {
      if (this.#runs.get(chat.id) === run) {
        this.#runs.delete(chat.id);
        this.deps.hub.stopBuffering(chat.id);
      }
      this.poke();
    });
  }

  async #supervise(chat: ChatRow, lease: Lease, run: ActiveRun, stop: (cause: StopCause) => void): Promise<void> {
    const { deps } = this;
    // One id per run, on every line the run logs, so one run's lines can be found among many.
    const log = deps.log.child({ chat_id: chat.id, run_id: randomUUID() });
    let unsubscribe: (() => Promise<void>) | undefined;
    const startedAt = performance.now();
    let sawOutput = false;
    // What the run streams tells its time to first output and its retries, without the loop
    // having to know about metrics.
    const unwatchParts = deps.hub.subscribeChat(chat.id, (event) => {
      if (event.type === "message_part" && !sawOutput) {
        sawOutput = true;
        this.#metrics.timeToFirstOutput((performance.now() - startedAt) / 1000);
      } else if (event.type === "retry") {
        this.#metrics.retry(retryReason(event.retry.error));
      }
    });
    const heartbeat = setInterval(() => {
      heartbeatChat(deps.db, chat.id, lease)
        .then((owns) => {
          if (owns) return;
          this.#metrics.leaseLost();
          stop("interrupt");
        })
        .catch((error: unknown) => log.warn({ err: error }, "chat heartbeat failed"));
    }, deps.settings.heartbeatIntervalMs);
    let outcome: RunOutcome;
    try {
      unsubscribe = await this.#watchControl(chat, stop, log);
      // A stop that landed between the acquire and the subscription was not seen as a hint:
      // one heartbeat now tells whether the lease is still ours.
      if (!(await heartbeatChat(deps.db, chat.id, lease))) stop("interrupt");
      const end = await deps.runner(chat, { signal: run.controller.signal, cause: () => run.cause ?? "interrupt", lease, log });
      outcome = this.#outcomeOf(end);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      log.error({ err: error }, "chat run threw");
      outcome = this.#stopping ? { status: "pending", reason: "shutdown" } : { status: "error", error: `chat processing panicked: ${reason}` };
    } finally {
      clearInterval(heartbeat);
      unwatchParts();
    }
    await unsubscribe?.().catch(() => undefined);
    await this.#finish(chat, lease, outcome, log);
  }

  /**
   * Stops the run when the chat's hints say it was stopped, edited or taken over. If pubsub is
   * down the run goes on: the heartbeat still notices a lost lease within one interval.
   */
  async #watchControl(chat: ChatRow, stop: (cause: StopCause) => void, log: Logger): Promise<(() => Promise<void>) | undefined> {
    const { deps } = this;
    try {
      return await deps.pubsub.subscribe(streamChannel(chat.id), (message) => {
        if (message.type !== "message") return;
        const hint = streamHintSchema.safeParse(safeJson(message.payload));
        if (!hint.success || hint.data.status === undefined) return;
        const { status, worker_id } = hint.data;
        // `running` under another worker: the chat was taken over. (Our own acquisition's hint
        // may still reach this subscription through a LISTEN shared with a viewer; ignore it.)
        if (status === "waiting" || status === "pending" || status === "error" || (status === "running" && worker_id !== deps.workerId)) {
          stop("interrupt");
        }
      });
    } catch (error) {
      log.warn({ err: error }, "cannot watch the chat's hints; relying on the heartbeat");
      return undefined;
    }
  }

  #outcomeOf(end: RunEnd): RunOutcome {
    // A run that ends as shutdown begins is handed back: this replica will not see it through.
    if (this.#stopping || end.status === "pending") return { status: "pending", reason: "shutdown" };
    if (end.status === "error") return { status: "error", error: end.error };
    return { status: "waiting" };
  }

  async #finish(chat: ChatRow, lease: Lease, outcome: RunOutcome, log: Logger = this.deps.log.child({ chat_id: chat.id })): Promise<void> {
    try {
      const result = await finishRun(this.deps.db, this.deps.hints, { chatId: chat.id, lease, outcome });
      this.#metrics.terminalStatus(result.finished ? terminalOf(result.status) : "lost");
      if (result.finished) this.deps.hub.publish({ type: "status", chat_id: chat.id, status: result.status });
      if (result.finished && result.status === "error" && outcome.status === "error") {
        this.deps.hub.publish({ type: "error", chat_id: chat.id, error: { message: outcome.error } });
      }
      if (result.finished) this.deps.onRunFinished?.({ chat: result.chat, interrupted: result.interrupted });
    } catch (error) {
      log.error({ err: error }, "finishing a chat run failed; stale recovery will hand it back");
    }
  }

  /**
   * One sweep at a time: under load a sweep can outlast the interval, and a second one started
   * beside it would only compete for the same rows. A call during a sweep gets the next one
   * (shared by every caller meanwhile), so what it waits for started after it was made.
   */
  recoverStale(): Promise<void> {
    const running = this.#recovering;
    if (running) {
      this.#recoverNext ??= running.then(() => {
        this.#recoverNext = undefined;
        return this.recoverStale();
      });
      return this.#recoverNext;
    }
    const sweep = this.#sweepStale().finally(() => {
      this.#recovering = undefined;
    });
    this.#recovering = sweep;
    return sweep;
  }

  async #sweepStale(): Promise<void> {
    try {
      const recovered = await recoverStaleChats(this.deps.db, this.deps.hints, new Date(Date.now() - this.deps.settings.staleAfterMs));
      if (recovered.length > 0) this.deps.log.info({ chats: recovered }, "recovered chats whose worker stopped heartbeating");
    } catch (error) {
      this.deps.log.warn({ err: error }, "stale chat recovery failed");
    }
  }

  /** Stops acquiring, stops every run as a shutdown, and waits until each chat is handed back. */
  async stop(): Promise<void> {
    this.#stopping = true;
    clearInterval(this.#acquireTimer);
    clearInterval(this.#staleTimer);
    await (this.#recoverNext ?? this.#recovering);
    await this.#unsubscribePending?.().catch(() => undefined);
    await this.#ticking;
    for (const run of this.#runs.values()) {
      if (!run.controller.signal.aborted) {
        run.cause = "shutdown";
        run.controller.abort();
      }
    }
    await Promise.all([...this.#runs.values()].map((run) => run.done));
  }
}
