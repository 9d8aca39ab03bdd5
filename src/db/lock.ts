/**
 * Exclusive lock file for an embedded data directory. PGlite has no lock of its own and two
 * processes on one directory silently lose each other's writes, so the server takes this lock
 * before opening PGlite and refuses to start when another live process holds it.
 *
 * The lock is an O_EXCL-created file holding the owner's pid. A file whose pid is no longer alive
 * is stale (the owner crashed) and is replaced.
 */
import fs from "node:fs";
import path from "node:path";

export const LOCK_FILE_NAME = "chatd.lock";

export class DataDirLockedError extends Error {
  constructor(
    readonly lockPath: string,
    readonly ownerPid: number,
  ) {
    super(
      `data directory is locked: ${lockPath} is held by running process ${ownerPid}; ` +
        `stop that chatd server or use another --data-dir (CHATD_DATA_DIR)`,
    );
    this.name = "DataDirLockedError";
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else, so it is alive.
    return error instanceof Error && "code" in error && error.code === "EPERM";
  }
}

function readOwner(lockPath: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(lockPath, "utf8").trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export interface DataDirLock {
  readonly path: string;
  release(): void;
}

/** Takes the lock or throws DataDirLockedError. Creates the directory if needed. */
export function acquireDataDirLock(dataDir: string): DataDirLock {
  // Owner-only: the directory holds the database and the encryption key.
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const lockPath = path.join(path.resolve(dataDir), LOCK_FILE_NAME);
  // Two tries: the second follows removal of a stale lock.
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = fs.openSync(lockPath, "wx", 0o600);
      fs.writeSync(fd, `${process.pid}\n`);
      fs.closeSync(fd);
      return {
        path: lockPath,
        release: () => {
          if (readOwner(lockPath) === process.pid) fs.rmSync(lockPath, { force: true });
        },
      };
    } catch (error) {
      if (!(error instanceof Error && "code" in error && error.code === "EEXIST")) throw error;
      const owner = readOwner(lockPath);
      if (owner !== undefined && processAlive(owner)) throw new DataDirLockedError(lockPath, owner);
      // Stale (owner died) or unreadable (owner died while writing it): replace it.
      fs.rmSync(lockPath, { force: true });
    }
  }
  const owner = readOwner(lockPath) ?? 0;
  throw new DataDirLockedError(lockPath, owner);
}
