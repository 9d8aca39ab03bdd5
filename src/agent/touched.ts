/**
 * Which directories each chat's tools have touched (process workdirs, parents of files read,
 * written or edited), and the git repositories they belong to: that set is what a chat's git
 * watch reports.
 *
 * Invariants:
 * - A touch counts for the acting chat and for each of its ancestors, so a parent chat's watch
 *   also shows the repositories its sub-agents worked in.
 * - At most MAX_TOUCHED_DIRS_PER_CHAT directories per chat, least recently touched dropped first.
 * - A cached repository root is trusted only while `<root>/.git` exists; directories that were
 *   in no repository are asked again on every scan (a `git init` or clone may have happened).
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { repositoryRoot } from "./git.js";

/** Each uncached directory costs one git run per scan; 64 keeps a 30-second scan cheap. */
export const MAX_TOUCHED_DIRS_PER_CHAT = 64;
/** Chats this agent remembers; the oldest is forgotten first. */
const MAX_CHATS = 1_000;
/** Directory → root cache bound; past it the cache starts over (it is only a shortcut). */
const MAX_CACHED_ROOTS = 10_000;

export class TouchedPaths {
  /** chat id → directories in touch order (Map keeps insertion order: oldest first). */
  private readonly byChat = new Map<string, Map<string, true>>();
  private readonly roots = new Map<string, string>();

  /** Records `dir` for every chat in `chatIds`. */
  touch(chatIds: readonly string[], dir: string): void {
    const normalized = path.resolve(dir);
    for (const chatId of chatIds) {
      let dirs = this.byChat.get(chatId);
      if (!dirs) {
        dirs = new Map();
        this.byChat.set(chatId, dirs);
        const oldest = this.byChat.keys().next();
        if (this.byChat.size > MAX_CHATS && !oldest.done) this.byChat.delete(oldest.value);
      }
      dirs.delete(normalized);
      dirs.set(normalized, true);
      const oldestDir = dirs.keys().next();
      if (dirs.size > MAX_TOUCHED_DIRS_PER_CHAT && !oldestDir.done) dirs.delete(oldestDir.value);
    }
  }

  /** Records the directory holding `file`. */
  touchFile(chatIds: readonly string[], file: string): void {
    this.touch(chatIds, path.dirname(file));
  }

  directories(chatId: string): string[] {
    return [...(this.byChat.get(chatId)?.keys() ?? [])];
  }

  /** The distinct repository roots of the chat's touched directories, sorted. */
  async repositories(chatId: string): Promise<string[]> {
    const found = new Set<string>();
    for (const dir of this.directories(chatId)) {
      const root = await this.rootOf(dir);
      if (root !== undefined) found.add(root);
    }
    return [...found].sort();
  }

  private async rootOf(dir: string): Promise<string | undefined> {
    const cached = this.roots.get(dir);
    if (cached !== undefined && existsSync(path.join(cached, ".git"))) return cached;
    this.roots.delete(dir);
    const root = await repositoryRoot(dir);
    if (this.roots.size >= MAX_CACHED_ROOTS) this.roots.clear();
    if (root !== undefined) this.roots.set(dir, root);
    return root;
  }
}
