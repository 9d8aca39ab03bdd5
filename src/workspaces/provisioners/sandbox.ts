/**
 * Bubblewrap isolation for local workspaces (PRODUCT.md section 5): the system read-only, the
 * server's data directory and other secret places invisible, only the workspace directory
 * writable, and a private /tmp and pid namespace.
 *
 * Invariants:
 * - Mounts are applied shallowest path first, so a deeper mount always wins: the data directory
 *   is hidden even when it lies inside a re-exposed directory (the default `./.chatd` inside the
 *   chatd checkout), and the workspace root, inside the data directory, is exposed again last.
 * - `--unshare-pid` keeps the server's /proc/<pid>/environ (provider keys, database URL) out of
 *   reach. The sandbox stays in the host process group of the bwrap process the server spawned,
 *   so signalling that group from the host reaches everything inside.
 * - `--die-with-parent`: a sandbox never outlives the server process that spawned it.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export interface SandboxStatus {
  /** Whether workspaces run inside bubblewrap. */
  available: boolean;
  /** The bwrap executable when available. */
  bwrap?: string;
  /** Why not, as a sentence for warnings. */
  reason?: string;
}

/** A working bwrap answers the probe in milliseconds; a hung one must not hold up startup. */
const PROBE_TIMEOUT_MS = 10_000;

export const NOT_INSTALLED_WARNING =
  "Local workspaces are not isolated: bubblewrap (bwrap) is not installed, so commands run with the server's own permissions.";

function findOnPath(name: string, searchPath: string | undefined): string | undefined {
  for (const dir of (searchPath ?? "").split(":")) {
    if (dir === "") continue;
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * Finds bwrap on PATH and checks that it can build the namespaces we ask for (it may be installed
 * yet refused by the kernel, e.g. without unprivileged user namespaces).
 */
export async function detectSandbox(searchPath: string | undefined): Promise<SandboxStatus> {
  const bwrap = findOnPath("bwrap", searchPath);
  if (!bwrap) return { available: false, reason: NOT_INSTALLED_WARNING };
  const probe = await new Promise<{ ok: boolean; detail: string }>((resolve) => {
    const child = spawn(bwrap, ["--die-with-parent", "--unshare-pid", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp", "true"], {
      stdio: ["ignore", "ignore", "pipe"],
      timeout: PROBE_TIMEOUT_MS,
    });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    child.once("error", (error) => resolve({ ok: false, detail: error.message }));
    child.once("close", (code, signal) => resolve({ ok: code === 0, detail: stderr.trim() || `exit ${code ?? signal}` }));
  });
  if (probe.ok) return { available: true, bwrap };
  return {
    available: false,
    reason: `Local workspaces are not isolated: bubblewrap (bwrap) does not work here (${probe.detail}), so commands run with the server's own permissions.`,
  };
}

function realOrResolved(target: string): string {
  try {
    return fs.realpathSync(target);
  } catch {
    return path.resolve(target);
  }
}

function isInside(child: string, parent: string): boolean {
  const relative = path.relative(parent, child);
  return relative === "" || (!relative.startsWith("..") && !path.isAbsolute(relative));
}

export interface SandboxLayout {
  /** The workspace root: the one writable place. */
  root: string;
  /** Working directory inside the sandbox. */
  cwd: string;
  /** Directories replaced by an empty tmpfs: the data directory, the server user's home, … */
  hidden: readonly string[];
  /** Directories that must stay readable (chatd's package, node) even if inside a hidden one. */
  needed: readonly string[];
}

/** The server user's secrets-holding places besides the data directory, when they exist. */
export function defaultHiddenPaths(dataDir: string): string[] {
  const hidden = [dataDir];
  const home = os.homedir();
  // Never "/": that would hide the system the workspace needs.
  if (home !== "" && path.resolve(home) !== "/") hidden.push(home);
  if (fs.existsSync("/run/secrets")) hidden.push("/run/secrets");
  return hidden;
}

/** The bwrap arguments (without the command) for a layout. */
export function sandboxArgs(layout: SandboxLayout): string[] {
  type Mount = { kind: "--tmpfs" | "--ro-bind" | "--bind"; path: string };
  const root = realOrResolved(layout.root);
  // A tmpfs needs an existing mount point (the root is read-only), and never "/" or inside the root.
  const hidden = layout.hidden.map(realOrResolved).filter((dir) => dir !== "/" && !isInside(dir, root) && fs.existsSync(dir));
  const mounts: Mount[] = [{ kind: "--tmpfs", path: "/tmp" }];
  for (const dir of hidden) mounts.push({ kind: "--tmpfs", path: dir });
  // Re-exposing only matters for what a tmpfs would otherwise cover.
  const covering = ["/tmp", ...hidden];
  for (const dir of layout.needed.map(realOrResolved)) {
    if (covering.some((cover) => isInside(dir, cover))) mounts.push({ kind: "--ro-bind", path: dir });
  }
  mounts.push({ kind: "--bind", path: root });
  const depth = (dir: string) => dir.split("/").filter((part) => part !== "").length;
  // Stable sort: equal depths keep insertion order (tmpfs before re-binds).
  const ordered = mounts
    .map((mount, index) => ({ mount, index }))
    .sort((a, b) => depth(a.mount.path) - depth(b.mount.path) || a.index - b.index)
    .map(({ mount }) => mount);
  const args = ["--die-with-parent", "--unshare-pid", "--unshare-ipc", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"];
  for (const mount of ordered) {
    args.push(mount.kind, ...(mount.kind === "--tmpfs" ? [mount.path] : [mount.path, mount.path]));
  }
  args.push("--chdir", layout.cwd);
  return args;
}
