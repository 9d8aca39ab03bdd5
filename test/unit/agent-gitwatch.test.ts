import { mkdirSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DIFF_TRUNCATED_MARKER, MAX_DIFF_BYTES, scanRepository } from "../../src/agent/gitscan.js";
import { GitWatchManager } from "../../src/agent/gitwatch.js";
import type { GitWatchMessage } from "../../src/agent/protocol.js";
import { TouchedPaths } from "../../src/agent/touched.js";
import { git, initRepo, isolateGitConfig } from "../helpers/agent-git.js";
import { waitFor } from "../helpers/wait.js";

let dir: string;
let restoreGitConfig: () => void = () => undefined;
beforeAll(() => {
  restoreGitConfig = isolateGitConfig();
});
afterAll(() => restoreGitConfig());
beforeEach(async () => {
  dir = realpathSync(await mkdtemp(path.join(tmpdir(), "chatd-gitwatch-")));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function makeRepo(name: string, files?: Record<string, string>): string {
  const root = path.join(dir, name);
  mkdirSync(root);
  return initRepo(root, files);
}

/** TouchedPaths that counts scans (each scan asks for the chat's repositories once). */
class CountingPaths extends TouchedPaths {
  scans: number[] = [];
  override repositories(chatId: string): Promise<string[]> {
    this.scans.push(Date.now());
    return super.repositories(chatId);
  }
}

function changes(messages: GitWatchMessage[]) {
  return messages.flatMap((message) => (message.type === "changes" ? [message] : []));
}

describe("scanRepository", () => {
  it("reports branch, origin, and a diff of tracked changes plus untracked files as new files", async () => {
    const root = makeRepo("repo", { "a.txt": "one\n" });
    git(root, "remote", "add", "origin", "https://github.com/acme/repo.git");
    writeFileSync(path.join(root, "a.txt"), "one\ntwo\n");
    writeFileSync(path.join(root, "new.txt"), "brand new\n");
    writeFileSync(path.join(root, ".gitignore"), "ignored.log\n");
    writeFileSync(path.join(root, "ignored.log"), "noise\n");
    const repo = await scanRepository(root);
    expect(repo).toMatchObject({ repo_root: root, branch: "main", remote_origin: "https://github.com/acme/repo.git" });
    const diff = repo?.unified_diff ?? "";
    expect(diff).toContain("diff --git a/a.txt b/a.txt");
    expect(diff).toContain("+two");
    expect(diff).toContain("diff --git a/new.txt b/new.txt\nnew file mode 100644");
    expect(diff).toContain("+brand new");
    expect(diff).toContain("+++ b/.gitignore");
    expect(diff).not.toContain("noise");
  });

  it("has no diff for a clean repository and no origin when none is set", async () => {
    const root = makeRepo("clean");
    expect(await scanRepository(root)).toEqual({ repo_root: root, branch: "main" });
    git(root, "checkout", "-q", "--detach");
    expect((await scanRepository(root))?.branch).toBe("HEAD");
  });

  it("diffs a repository without commits against the empty tree", async () => {
    const root = path.join(dir, "fresh");
    mkdirSync(root);
    git(root, "init", "-q");
    writeFileSync(path.join(root, "first.txt"), "first\n");
    const repo = await scanRepository(root);
    expect(repo?.branch).toBe("main");
    expect(repo?.unified_diff).toContain("+first");
  });

  it("caps the diff and marks the cut", async () => {
    const root = makeRepo("big");
    writeFileSync(path.join(root, "huge.txt"), `${"x".repeat(99)}\n`.repeat((MAX_DIFF_BYTES * 2) / 100));
    const diff = (await scanRepository(root))?.unified_diff ?? "";
    expect(diff.endsWith(DIFF_TRUNCATED_MARKER)).toBe(true);
    expect(Buffer.byteLength(diff)).toBeLessThanOrEqual(MAX_DIFF_BYTES + DIFF_TRUNCATED_MARKER.length);
  });

  it("returns undefined for a directory that is no longer a repository", async () => {
    const root = makeRepo("gone");
    rmSync(root, { recursive: true });
    expect(await scanRepository(root)).toBeUndefined();
  });
});

describe("GitWatchManager", () => {
  const owner = {};
  let paths: CountingPaths;
  let manager: GitWatchManager;
  let messages: GitWatchMessage[];
  beforeEach(() => {
    paths = new CountingPaths();
    manager = new GitWatchManager(paths, { minIntervalMs: 100 });
    messages = [];
  });
  afterEach(() => manager.stopAll());

  it("sends the first scan, nothing when unchanged, then only what changed", async () => {
    const one = makeRepo("one");
    const two = makeRepo("two");
    paths.touch(["chat"], one);
    paths.touchFile(["chat"], path.join(two, "README.md"));
    manager.start("s1", "chat", owner, (message) => messages.push(message));
    await waitFor(() => messages.length === 1, { message: "first scan" });
    expect(changes(messages)[0]?.repositories.map((repo) => [repo.repo_root, repo.unified_diff])).toEqual([
      [one, undefined],
      [two, undefined],
    ]);

    await manager.refresh("s1");
    expect(messages).toHaveLength(1);

    writeFileSync(path.join(two, "README.md"), "changed\n");
    await manager.refresh("s1");
    expect(messages).toHaveLength(2);
    const second = changes(messages)[1];
    expect(second?.repositories.map((repo) => repo.repo_root)).toEqual([two]);
    expect(second?.repositories[0]?.unified_diff).toContain("+changed");
    expect(Number.isNaN(Date.parse(second?.scanned_at ?? ""))).toBe(false);
  });

  it("reports a repository that disappeared once, with removed: true", async () => {
    const root = makeRepo("doomed");
    paths.touch(["chat"], root);
    manager.start("s1", "chat", owner, (message) => messages.push(message));
    await waitFor(() => messages.length === 1, { message: "first scan" });
    rmSync(path.join(root, ".git"), { recursive: true });
    await manager.refresh("s1");
    expect(changes(messages)[1]?.repositories).toEqual([{ repo_root: root, branch: "main", removed: true }]);
    await manager.refresh("s1");
    expect(messages).toHaveLength(2);
  });

  it("counts paths touched by a descendant chat for its ancestors, not for unrelated chats", async () => {
    const root = makeRepo("shared");
    const other: GitWatchMessage[] = [];
    manager.start("parent", "root-chat", owner, (message) => messages.push(message));
    manager.start("other", "other-chat", owner, (message) => other.push(message));
    await manager.refresh("parent");
    await manager.refresh("other");
    expect(messages).toEqual([]);
    paths.touch(["child-chat", "root-chat"], root);
    manager.notifyChats(["child-chat", "root-chat"]);
    await waitFor(() => messages.length === 1, { message: "the parent's watch sees the child's repository" });
    await manager.refresh("other");
    expect(other).toEqual([]);
  });

  it("coalesces a burst of rescans into one and keeps them a minimum interval apart", async () => {
    paths.touch(["chat"], makeRepo("busy"));
    manager.start("s1", "chat", owner, (message) => messages.push(message));
    await Promise.all(Array.from({ length: 5 }, () => manager.refresh("s1")));
    manager.notifyChats(["chat"]);
    await manager.refresh("s1");
    expect(paths.scans.length).toBeLessThanOrEqual(3);
    expect(paths.scans.length).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < paths.scans.length; i++) expect((paths.scans[i] ?? 0) - (paths.scans[i - 1] ?? 0)).toBeGreaterThanOrEqual(95);
  });

  it("rescans on its own period", async () => {
    const periodic = new GitWatchManager(paths, { minIntervalMs: 10, periodMs: 50 });
    try {
      periodic.start("s1", "chat", owner, () => undefined);
      await waitFor(() => paths.scans.length >= 3, { message: "periodic scans" });
    } finally {
      periodic.stopAll();
    }
  });

  it("sends an error (once) when git cannot run, and stops scanning when stopped", async () => {
    paths.touch(["chat"], makeRepo("r"));
    const savedPath = process.env.PATH;
    process.env.PATH = path.join(dir, "no-such-bin");
    try {
      manager.start("s1", "chat", owner, (message) => messages.push(message));
      await manager.refresh("s1");
      await manager.refresh("s1");
    } finally {
      process.env.PATH = savedPath;
    }
    expect(messages).toEqual([{ type: "error", message: expect.stringContaining("git is not installed") }]);
    manager.stop("s1");
    const scans = paths.scans.length;
    manager.notifyChats(["chat"]);
    await expect(manager.refresh("s1")).rejects.toThrow(/not open/);
    expect(paths.scans.length).toBe(scans);
  });
});
