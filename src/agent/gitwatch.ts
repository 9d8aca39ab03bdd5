/**
 * Git watch streams: for one chat, scan the repositories its tools touched and push a `changes`
 * message whenever what they look like differs from what was last sent.
 *
 * Invariants:
 * - Scans run at once on start, every GIT_WATCH_PERIOD_MS, after any tool request of the chat (or
 *   a descendant) that touched paths, when one of its processes exits, and on refresh; never two
 *   at a time and never more than one per GIT_WATCH_MIN_INTERVAL_MS. Requests that arrive while
 *   one is pending share the next scan.
 * - A message carries only repositories that changed since the last message; one that is no
 *   longer found is sent once with `removed: true`. Nothing changed → nothing sent.
 * - A failing scan sends `{type:"error"}` once per distinct message, not every period.
 * - A watcher belongs to a connection (its `owner`); closing that connection ends it.
 */
import { errorMessage, notFound } from "./errors.js";
import { scanRepository, type GitRepository } from "./gitscan.js";
import type { GitWatchMessage } from "./protocol.js";
import type { TouchedPaths } from "./touched.js";

/** A change made outside any tool (an editor, a hook) still shows up within 30 s. */
export const GIT_WATCH_PERIOD_MS = 30_000;
/** A burst of tool calls (or refreshes) costs at most one scan per second. */
export const GIT_WATCH_MIN_INTERVAL_MS = 1_000;
/** Repositories scanned per watch; each costs a few git runs. */
export const MAX_WATCHED_REPOSITORIES = 20;

export interface GitWatchOptions {
  periodMs?: number;
  minIntervalMs?: number;
}

type Send = (message: GitWatchMessage) => void;

class GitWatcher {
  private lastSent = new Map<string, { json: string; branch: string }>();
  private lastError: string | undefined;
  private scanning = false;
  private pending = false;
  private timer: NodeJS.Timeout | undefined;
  private lastScanAt = Number.NEGATIVE_INFINITY;
  /** Resolved when a scan that started after their request has finished. */
  private waiters: (() => void)[] = [];
  private readonly periodic: NodeJS.Timeout;
  private closed = false;

  constructor(
    readonly chatId: string,
    readonly owner: object,
    private readonly paths: TouchedPaths,
    private readonly send: Send,
    private readonly minIntervalMs: number,
    periodMs: number,
  ) {
    this.periodic = setInterval(() => void this.requestScan(), periodMs);
    this.periodic.unref();
  }

  requestScan(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.waiters.push(resolve);
      this.pending = true;
      this.kick();
    });
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    clearInterval(this.periodic);
    for (const resolve of this.waiters.splice(0)) resolve();
  }

  private kick(): void {
    if (this.closed || this.scanning || this.timer !== undefined || !this.pending) return;
    const wait = Math.max(0, this.lastScanAt + this.minIntervalMs - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.run();
    }, wait);
  }

  private async run(): Promise<void> {
    if (this.closed) return;
    this.pending = false;
    const waiters = this.waiters.splice(0);
    this.scanning = true;
    this.lastScanAt = Date.now();
    try {
      await this.scan();
    } catch (error) {
      this.reportError(errorMessage(error));
    } finally {
      this.scanning = false;
      for (const resolve of waiters) resolve();
      this.kick();
    }
  }

  private async scan(): Promise<void> {
    const roots = (await this.paths.repositories(this.chatId)).slice(0, MAX_WATCHED_REPOSITORIES);
    const current = new Map<string, GitRepository>();
    for (const root of roots) {
      const repository = await scanRepository(root);
      if (repository) current.set(root, repository);
    }
    if (this.closed) return;
    this.lastError = undefined;
    const changed: GitRepository[] = [];
    const next = new Map<string, { json: string; branch: string }>();
    for (const [root, repository] of current) {
      const json = JSON.stringify(repository);
      next.set(root, { json, branch: repository.branch });
      if (this.lastSent.get(root)?.json !== json) changed.push(repository);
    }
    for (const [root, previous] of this.lastSent) {
      if (!current.has(root)) changed.push({ repo_root: root, branch: previous.branch, removed: true });
    }
    if (changed.length === 0) return;
    this.lastSent = next;
    changed.sort((a, b) => a.repo_root.localeCompare(b.repo_root));
    this.send({ type: "changes", scanned_at: new Date().toISOString(), repositories: changed });
  }

  private reportError(message: string): void {
    if (this.closed || message === this.lastError) return;
    this.lastError = message;
    this.send({ type: "error", message });
  }
}

export class GitWatchManager {
  private readonly watchers = new Map<string, GitWatcher>();
  private readonly periodMs: number;
  private readonly minIntervalMs: number;

  constructor(
    private readonly paths: TouchedPaths,
    options: GitWatchOptions = {},
  ) {
    this.periodMs = options.periodMs ?? GIT_WATCH_PERIOD_MS;
    this.minIntervalMs = options.minIntervalMs ?? GIT_WATCH_MIN_INTERVAL_MS;
  }

  /** Opens (or reopens) stream `streamId` for `chatId`; the first scan starts at once. */
  start(streamId: string, chatId: string, owner: object, send: Send): void {
    this.watchers.get(streamId)?.close();
    const watcher = new GitWatcher(chatId, owner, this.paths, send, this.minIntervalMs, this.periodMs);
    this.watchers.set(streamId, watcher);
    void watcher.requestScan();
  }

  /** Resolves once a scan that started after this call has finished (and sent what changed). */
  async refresh(streamId: string): Promise<void> {
    const watcher = this.watchers.get(streamId);
    if (!watcher) throw notFound(`git watch ${streamId} is not open`);
    return watcher.requestScan();
  }

  stop(streamId: string): void {
    this.watchers.get(streamId)?.close();
    this.watchers.delete(streamId);
  }

  /** Rescans the watches of these chats (a tool of theirs touched paths, or a process exited). */
  notifyChats(chatIds: readonly string[]): void {
    for (const watcher of this.watchers.values()) if (chatIds.includes(watcher.chatId)) void watcher.requestScan();
  }

  stopOwner(owner: object): void {
    for (const [streamId, watcher] of this.watchers) if (watcher.owner === owner) this.stop(streamId);
  }

  stopAll(): void {
    for (const streamId of [...this.watchers.keys()]) this.stop(streamId);
  }
}
