/**
 * A local workspace's `repository` parameter when it names a path on the server's machine. The
 * sandbox hides /tmp and the server user's home, so a clone inside it fails with git's misleading
 * "does not exist"; the provisioner clones such a path on the host instead, into the empty project
 * directory, before the setup script runs (the default script skips its clone once `.git` is there).
 *
 * Invariants:
 * - Only a git repository is cloned, and never one inside a place hidden for secrets (the data
 *   directory, /run/secrets, the database's files): the home directory and /tmp are allowed, as
 *   the person running chatd keeps their checkouts there.
 * - `--no-local` copies objects through git's transport instead of hard-linking them, so the
 *   workspace cannot change the source repository's files; hooks and config are never copied.
 * - Every refusal says what is wrong in words a user can act on, instead of git's message.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export class RepositoryPathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RepositoryPathError";
  }
}

/** `scheme://…` or scp-like `user@host:path`: a remote git cannot be cloned as a path. */
const REMOTE_REPOSITORY = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/|^[^/\s]+@[^/\s]+:/;

/**
 * The absolute path `value` names (`/abs`, `~/…`, `file:///…`), or undefined when it is a remote
 * URL or not a path at all (left to the setup script, as before).
 */
export function localRepositoryPath(value: string, home = os.homedir()): string | undefined {
  const trimmed = value.trim();
  if (trimmed.startsWith("file://")) {
    try {
      return path.resolve(decodeURIComponent(new URL(trimmed).pathname));
    } catch {
      return undefined;
    }
  }
  if (REMOTE_REPOSITORY.test(trimmed)) return undefined;
  if (trimmed === "~" || trimmed.startsWith("~/")) return path.resolve(home, trimmed.slice(2));
  if (trimmed.startsWith("/")) return path.resolve(trimmed);
  return undefined;
}

function isInside(child: string, parent: string): boolean {
  const relative = path.relative(parent, child);
  return relative === "" || (!relative.startsWith("..") && !path.isAbsolute(relative));
}

function realOrResolved(dir: string): string {
  try {
    return fs.realpathSync(dir);
  } catch {
    return path.resolve(dir);
  }
}

/**
 * The real path of a repository that may be cloned on the host, or a RepositoryPathError saying
 * why not. `forbidden` lists the places hidden for secrets.
 */
export function checkLocalRepository(repository: string, forbidden: readonly string[]): string {
  if (!fs.existsSync(repository)) {
    throw new RepositoryPathError(`The repository ${repository} does not exist on the server's machine (${os.hostname()}).`);
  }
  const real = fs.realpathSync(repository);
  for (const place of forbidden.map(realOrResolved)) {
    if (isInside(real, place)) {
      throw new RepositoryPathError(`The repository ${repository} is inside ${place}, which workspaces may not read (it holds chatd's data or secrets).`);
    }
  }
  if (!fs.statSync(real).isDirectory()) throw new RepositoryPathError(`The repository ${repository} is a file, not a git repository.`);
  // A work tree has .git (a directory, or a file for worktrees); a bare repository has HEAD and objects/.
  const isWorkTree = fs.existsSync(path.join(real, ".git"));
  const isBare = fs.existsSync(path.join(real, "HEAD")) && fs.existsSync(path.join(real, "objects"));
  if (!isWorkTree && !isBare) throw new RepositoryPathError(`${repository} is not a git repository (no .git in it).`);
  return real;
}

/** git's arguments for the host-side clone of `source` into the (empty) `project` directory. */
export function hostCloneArgs(source: string, project: string): string[] {
  // safe.directory: the repository may belong to another user than the server's (git refuses those).
  return ["-c", `safe.directory=${source}`, "-c", `safe.directory=${path.join(source, ".git")}`, "clone", "--no-local", "--", source, project];
}
