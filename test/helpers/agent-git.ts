/**
 * Git repositories for the workspace agent's tests, isolated from the machine's git
 * configuration (no global or system config; a fixed identity and default branch).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

/**
 * Points this process (and every child it starts) at a private git config. Call once per file;
 * the returned function restores the environment and removes the config.
 */
export function isolateGitConfig(): () => void {
  const home = mkdtempSync(path.join(tmpdir(), "chatd-gitconfig-"));
  const config = path.join(home, "gitconfig");
  writeFileSync(config, "[user]\n\tname = Test\n\temail = test@example.com\n[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n");
  const saved = { global: process.env.GIT_CONFIG_GLOBAL, nosystem: process.env.GIT_CONFIG_NOSYSTEM };
  process.env.GIT_CONFIG_GLOBAL = config;
  process.env.GIT_CONFIG_NOSYSTEM = "1";
  return () => {
    restore("GIT_CONFIG_GLOBAL", saved.global);
    restore("GIT_CONFIG_NOSYSTEM", saved.nosystem);
    rmSync(home, { recursive: true, force: true });
  };
}

function restore(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}

export function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** A repository with one commit holding `files`. */
export function initRepo(dir: string, files: Record<string, string> = { "README.md": "hello\n" }): string {
  git(dir, "init", "-q");
  for (const [name, content] of Object.entries(files)) writeFileSync(path.join(dir, name), content);
  git(dir, "add", ".");
  git(dir, "commit", "-q", "-m", "initial");
  return dir;
}
