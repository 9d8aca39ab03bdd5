/**
 * One git watch scan of one repository: branch, origin, and the working tree's unified diff
 * against HEAD, untracked files included (rendered as new-file diffs).
 *
 * Invariants:
 * - The diff is at most MAX_DIFF_BYTES (cut on a UTF-8 boundary, with DIFF_TRUNCATED_MARKER) and
 *   shows at most MAX_UNTRACKED_FILES untracked files: a scan's cost and message size are bounded
 *   whatever is lying around in the work tree.
 * - A repository that has vanished (directory removed, .git deleted) scans as undefined, never as
 *   an error: the watcher then reports it removed.
 * - A repository without commits diffs against the empty tree, so its files still show.
 */
import { runGit, currentBranch, remoteOrigin, gitLine } from "./git.js";
import { incompleteSuffixLength } from "./headtail.js";
import type { z } from "zod";
import type { gitRepositorySchema } from "./protocol.js";

export type GitRepository = z.infer<typeof gitRepositorySchema>;

/** Enough for any change a person reviews in a side panel; bigger diffs are cut, not dropped. */
export const MAX_DIFF_BYTES = 256 * 1024;
/** A forgotten build directory without .gitignore would otherwise mean thousands of git runs per scan. */
export const MAX_UNTRACKED_FILES = 100;
/** `git ls-files --others` output bound: paths only, so 1 MiB is tens of thousands of files. */
const MAX_UNTRACKED_LIST_BYTES = 1024 * 1024;
export const DIFF_TRUNCATED_MARKER = "\n... [diff truncated] ...\n";

const DIFF_FLAGS = ["--no-color", "--no-ext-diff", "--no-textconv"];

class DiffCollector {
  private readonly parts: Buffer[] = [];
  private size = 0;
  truncated = false;

  get room(): number {
    return MAX_DIFF_BYTES - this.size;
  }

  add(data: Buffer, cut: boolean): void {
    if (this.truncated) return;
    let kept = data.subarray(0, this.room);
    if (cut || data.length > kept.length) {
      kept = kept.subarray(0, kept.length - incompleteSuffixLength(kept));
      this.truncated = true;
    }
    this.parts.push(kept);
    this.size += kept.length;
  }

  text(): string {
    const body = Buffer.concat(this.parts).toString("utf8");
    return this.truncated ? `${body}${DIFF_TRUNCATED_MARKER}` : body;
  }
}

async function diffBase(root: string): Promise<string | undefined> {
  if (await gitLine(root, ["rev-parse", "--verify", "-q", "HEAD^{commit}"])) return "HEAD";
  // No commit yet: compare with the empty tree (its id depends on the hash algorithm).
  return gitLine(root, ["hash-object", "-t", "tree", "/dev/null"]);
}

async function untrackedFiles(root: string): Promise<{ files: string[]; more: number } | undefined> {
  const listed = await runGit(root, ["ls-files", "--others", "--exclude-standard", "-z"], { maxBytes: MAX_UNTRACKED_LIST_BYTES });
  if (listed.code !== 0 && !listed.truncated) return undefined;
  // A nested repository shows as "dir/": its contents are its own repository's business.
  const all = listed.stdout.toString("utf8").split("\0").filter((file) => file !== "" && !file.endsWith("/"));
  if (listed.truncated) all.pop(); // the last name may be cut off
  return { files: all.slice(0, MAX_UNTRACKED_FILES), more: Math.max(0, all.length - MAX_UNTRACKED_FILES) };
}

/** The repository's state now, or undefined when `root` is no longer a repository. */
export async function scanRepository(root: string): Promise<GitRepository | undefined> {
  const base = await diffBase(root);
  const branch = await currentBranch(root);
  if (base === undefined || branch === undefined) return undefined;
  const origin = await remoteOrigin(root);

  const diff = new DiffCollector();
  const tracked = await runGit(root, ["diff", ...DIFF_FLAGS, base, "--"], { maxBytes: diff.room + 1 });
  if (tracked.code !== 0 && !tracked.truncated) return undefined;
  diff.add(tracked.stdout, tracked.truncated);

  const untracked = await untrackedFiles(root);
  if (untracked === undefined) return undefined;
  for (const file of untracked.files) {
    if (diff.truncated) break;
    // --no-index exits 1 when the files differ, which against /dev/null they always do.
    const added = await runGit(root, ["diff", "--no-index", ...DIFF_FLAGS, "--", "/dev/null", file], { maxBytes: diff.room + 1 });
    if (added.code > 1 && !added.truncated) continue; // vanished between listing and diffing
    diff.add(added.stdout, added.truncated);
  }
  if (untracked.more > 0 && !diff.truncated) {
    diff.add(Buffer.from(`\n... [${untracked.more} more untracked files not shown] ...\n`), false);
  }

  const unifiedDiff = diff.text();
  return {
    repo_root: root,
    branch,
    ...(origin === undefined ? {} : { remote_origin: origin }),
    ...(unifiedDiff === "" ? {} : { unified_diff: unifiedDiff }),
  };
}
