import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { transitionProblem, workspaceStatus, type BuildRow } from "../../src/workspaces/builds.js";
import { minimalEnv } from "../../src/workspaces/provisioners/env.js";
import { detectSandbox, NOT_INSTALLED_WARNING, sandboxArgs } from "../../src/workspaces/provisioners/sandbox.js";

function build(transition: BuildRow["transition"], status: BuildRow["status"]): BuildRow {
  return {
    id: "00000000-0000-4000-8000-000000000001",
    workspaceId: "00000000-0000-4000-8000-000000000002",
    buildNumber: 3,
    transition,
    status,
    initiatorId: null,
    runnerId: null,
    log: "",
    error: null,
    createdAt: new Date(),
    startedAt: null,
    completedAt: null,
  };
}

describe("workspace status", () => {
  it("is read off the latest build", () => {
    expect(workspaceStatus(undefined)).toBe("pending");
    expect(workspaceStatus(build("start", "pending"))).toBe("pending");
    expect(workspaceStatus(build("start", "running"))).toBe("starting");
    expect(workspaceStatus(build("start", "succeeded"))).toBe("running");
    expect(workspaceStatus(build("stop", "running"))).toBe("stopping");
    expect(workspaceStatus(build("stop", "succeeded"))).toBe("stopped");
    expect(workspaceStatus(build("delete", "pending"))).toBe("deleting");
    expect(workspaceStatus(build("delete", "succeeded"))).toBe("deleted");
    expect(workspaceStatus(build("stop", "failed"))).toBe("failed");
  });
});

describe("transitions", () => {
  it("refuses any build while one is in progress", () => {
    expect(transitionProblem(build("start", "running"), "stop")).toBe("A start build (#3) is in progress; wait for it to finish.");
    expect(transitionProblem(build("stop", "pending"), "delete")).toContain("in progress");
  });

  it("refuses transitions that change nothing, allows retries after failures", () => {
    expect(transitionProblem(build("start", "succeeded"), "start")).toBe("The workspace is already started.");
    expect(transitionProblem(build("stop", "succeeded"), "stop")).toBe("The workspace is already stopped.");
    expect(transitionProblem(build("delete", "succeeded"), "start")).toBe("The workspace is deleted.");
    expect(transitionProblem(build("start", "failed"), "start")).toBeUndefined();
    expect(transitionProblem(build("stop", "failed"), "stop")).toBeUndefined();
    expect(transitionProblem(build("start", "succeeded"), "delete")).toBeUndefined();
    expect(transitionProblem(undefined, "start")).toBeUndefined();
  });
});

describe("sandbox", () => {
  it("mounts shallow paths first, so the data directory stays hidden inside a re-exposed checkout", () => {
    const base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "chatd-sandbox-unit-")));
    const checkout = path.join(base, "chatd");
    const dataDir = path.join(checkout, ".chatd");
    const root = path.join(dataDir, "workspaces", "w1");
    fs.mkdirSync(root, { recursive: true });
    try {
      const args = sandboxArgs({ root, cwd: path.join(root, "project"), hidden: [dataDir, base, "/", path.join(base, "missing")], needed: [checkout, "/usr"] });
      expect(args.slice(0, 10)).toEqual(["--die-with-parent", "--unshare-pid", "--unshare-ipc", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]);
      expect(args.slice(10)).toEqual([
        "--tmpfs",
        "/tmp",
        "--tmpfs",
        base,
        "--ro-bind",
        checkout,
        checkout,
        "--tmpfs",
        dataDir,
        "--bind",
        root,
        root,
        "--chdir",
        path.join(root, "project"),
      ]);
    } finally {
      fs.rmSync(base, { recursive: true, force: true });
    }
  });

  it("reports bubblewrap as not installed when it is not on PATH", async () => {
    expect(await detectSandbox("/nonexistent-dir")).toEqual({ available: false, reason: NOT_INSTALLED_WARNING });
  });
});

describe("minimal environment", () => {
  it("carries PATH, HOME, user, locale, TZ and the owner's git identity, and nothing else", () => {
    const env = minimalEnv({
      home: "/w/home",
      owner: { id: "u", username: "alice", name: "", email: "alice@example.com" },
      hostEnv: { PATH: "/usr/bin:/bin", TZ: "Europe/Paris", OPENAI_API_KEY: "sk-secret", CHATD_DATABASE_URL: "postgres://x", LANG: "" },
    });
    expect(Object.keys(env).sort()).toEqual(
      ["GIT_AUTHOR_EMAIL", "GIT_AUTHOR_NAME", "GIT_COMMITTER_EMAIL", "GIT_COMMITTER_NAME", "HOME", "LANG", "LOGNAME", "PATH", "TZ", "USER"].sort(),
    );
    expect(env).toMatchObject({ HOME: "/w/home", TZ: "Europe/Paris", LANG: "C.UTF-8", GIT_AUTHOR_NAME: "alice", GIT_COMMITTER_EMAIL: "alice@example.com" });
    expect(env.PATH?.split(":")).toEqual([path.dirname(process.execPath), ...["/usr/bin", "/bin"].filter((dir) => dir !== path.dirname(process.execPath))]);
  });
});
