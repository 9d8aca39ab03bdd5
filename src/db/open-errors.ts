/**
 * Turns the ways opening a database fails into one line the operator can act on (issue: start-up
 * printed raw stacks or `[object Object]`). Every message names what is wrong and what to do, and
 * never the connection URL itself: it may carry a password.
 */
import fs from "node:fs";
import path from "node:path";
import { StartupError } from "../util/startup-error.js";

function stringField(value: unknown, name: string): string | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const field: unknown = Reflect.get(value, name);
  return typeof field === "string" ? field : undefined;
}

/** PGlite throws plain objects and wasm RuntimeErrors; this gets a readable line out of either. */
export function errorText(error: unknown): string {
  if (error instanceof Error) return error.message;
  return stringField(error, "message") ?? (typeof error === "string" ? error : JSON.stringify(error) ?? String(error));
}

/** Where a PostgreSQL URL points, without its credentials: `host:port/database`. */
export function describePostgresTarget(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl);
    const database = decodeURIComponent(url.pathname.replace(/^\//, "")) || "(default database)";
    return `${url.hostname || "localhost"}:${url.port || "5432"}/${database}`;
  } catch {
    return "the server in CHATD_DATABASE_URL";
  }
}

// PostgreSQL SQLSTATE codes an operator can fix (https://www.postgresql.org/docs/current/errcodes-appendix.html).
const INVALID_CATALOG_NAME = "3D000";
const INVALID_PASSWORD = "28P01";
const INVALID_AUTHORIZATION = "28000";
const CANNOT_CONNECT_NOW = "57P03";

/** The StartupError for a failure to connect to (or migrate) PostgreSQL, or the error itself. */
export function explainPostgresOpenError(error: unknown, databaseUrl: string): unknown {
  const target = describePostgresTarget(databaseUrl);
  const code = stringField(error, "code");
  const fix = "check CHATD_DATABASE_URL (--database-url)";
  switch (code) {
    case "ECONNREFUSED":
      return new StartupError(`cannot connect to PostgreSQL at ${target}: connection refused; start PostgreSQL or ${fix}`, { cause: error });
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return new StartupError(`cannot connect to PostgreSQL at ${target}: the host name does not resolve; ${fix}`, { cause: error });
    case "ETIMEDOUT":
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return new StartupError(`cannot connect to PostgreSQL at ${target}: the host does not answer (${code}); ${fix}`, { cause: error });
    case INVALID_CATALOG_NAME:
      return new StartupError(`PostgreSQL at ${target} has no such database; create it (createdb) or ${fix}`, { cause: error });
    case INVALID_PASSWORD:
    case INVALID_AUTHORIZATION:
      return new StartupError(`PostgreSQL at ${target} refused the login: ${errorText(error)}; ${fix}`, { cause: error });
    case CANNOT_CONNECT_NOW:
      return new StartupError(`PostgreSQL at ${target} is starting up or shutting down; try again in a moment`, { cause: error });
  }
  // pg's pool reports its own connect timeout as a plain Error.
  if (error instanceof Error && /timeout.*connect/i.test(error.message)) {
    return new StartupError(`cannot connect to PostgreSQL at ${target}: timed out; ${fix}`, { cause: error });
  }
  return error;
}

/**
 * Refuses a data directory whose `pgdata` cannot hold the embedded database, before PGlite touches
 * it (PGlite would create files beside whatever is there).
 */
export function checkPgdataPath(pgdata: string): void {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(pgdata);
  } catch {
    return; // Missing: PGlite creates a fresh database there.
  }
  if (!stat.isDirectory()) {
    throw new StartupError(
      `${pgdata} is not a directory, so it cannot hold the embedded database; move it away or use another --data-dir (CHATD_DATA_DIR)`,
    );
  }
  const entries = fs.readdirSync(pgdata);
  if (entries.length > 0 && !entries.includes("PG_VERSION")) {
    throw new StartupError(
      `${pgdata} is not an embedded database (no PG_VERSION file); move it away or use another --data-dir (CHATD_DATA_DIR)`,
    );
  }
}

/** The StartupError for an embedded database that exists but cannot be opened. */
export function explainPgliteOpenError(error: unknown, pgdata: string): StartupError {
  const text = errorText(error).split("\n")[0] ?? "";
  // A wasm abort's own text ("Aborted(). Build with -sASSERTIONS…") is about the build, not the data.
  const reason = text.startsWith("Aborted(") ? "the database engine aborted while reading it" : text;
  return new StartupError(
    `the embedded database in ${pgdata} could not be opened (${reason}); it may be damaged: restore the data directory from a backup, or move ${path.basename(pgdata)} away to start with an empty database`,
    { cause: error },
  );
}
