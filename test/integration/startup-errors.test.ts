/**
 * `chatd server` refusing to start: each operator mistake gets one line on stderr saying what is
 * wrong and what to do (no stack, no `[object Object]`), a non-zero exit, and a data directory
 * left byte for byte as it was. Embedded cases run in the PGlite project, PostgreSQL cases in the
 * PostgreSQL one.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openDatabase } from "../../src/db/client.js";
import { generateKey } from "../../src/secrets/cipher.js";
import { freshDatabase } from "../helpers/database.js";
import { pgUrlForDatabase, testDatabaseKind } from "../helpers/env.js";
import { runChatd } from "../helpers/process.js";

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "chatd-startup-"));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

/** Path → SHA-256 of every file under `dir` (missing dir: empty). */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!fs.existsSync(dir)) return out;
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = path.join(entry.parentPath, entry.name);
    out[path.relative(dir, full)] = createHash("sha256").update(fs.readFileSync(full)).digest("hex");
  }
  return out;
}

interface Refusal {
  code: number | string;
  stderr: string;
}

async function refusedStart(env: Record<string, string>): Promise<Refusal> {
  const server = runChatd(["server"], { CHATD_LISTEN: "127.0.0.1:0", CHATD_LOG_LEVEL: "warn", ...env });
  const code = await server.exited;
  return { code, stderr: server.stderr() };
}

/** One line, prefixed `chatd: `, no stack frames, no object dump. */
function expectOneLine(stderr: string, pattern: RegExp): void {
  const lines = stderr.trimEnd().split("\n");
  expect(lines, stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^chatd: /);
  expect(lines[0]).toMatch(pattern);
  expect(stderr).not.toMatch(/\n\s+at |\[object Object\]/);
}

async function withPortTaken<T>(run: (port: number) => Promise<T>): Promise<T> {
  const holder = net.createServer();
  await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve));
  const address = holder.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  try {
    return await run(address.port);
  } finally {
    await new Promise<void>((resolve) => holder.close(() => resolve()));
  }
}

describe.runIf(testDatabaseKind() === "pglite")("start-up refusals on the embedded database", () => {
  it("a data directory whose pgdata is a file", async () => {
    const dataDir = path.join(scratch, "pgdata-file");
    fs.mkdirSync(dataDir);
    fs.writeFileSync(path.join(dataDir, "pgdata"), "not a database\n");
    const before = snapshot(dataDir);
    const { code, stderr } = await refusedStart({ CHATD_DATA_DIR: dataDir });
    expect(code).toBe(1);
    expectOneLine(stderr, /pgdata is not a directory.*--data-dir/);
    expect(snapshot(dataDir)).toEqual(before);
  });

  it("a pgdata directory that is not a database", async () => {
    const dataDir = path.join(scratch, "pgdata-foreign");
    fs.mkdirSync(path.join(dataDir, "pgdata"), { recursive: true });
    fs.writeFileSync(path.join(dataDir, "pgdata", "notes.txt"), "hello\n");
    const before = snapshot(dataDir);
    const { code, stderr } = await refusedStart({ CHATD_DATA_DIR: dataDir });
    expect(code).toBe(1);
    expectOneLine(stderr, /not an embedded database \(no PG_VERSION file\)/);
    expect(snapshot(dataDir)).toEqual(before);
  });

  it("a corrupt pgdata", async () => {
    const dataDir = path.join(scratch, "pgdata-corrupt");
    const handle = await openDatabase({ dataDir });
    await handle.close();
    // pg_control is what the engine reads first; garbage there is a damaged cluster.
    fs.writeFileSync(path.join(dataDir, "pgdata", "global", "pg_control"), Buffer.alloc(100, 0x5a));
    const before = snapshot(dataDir);
    const { code, stderr } = await refusedStart({ CHATD_DATA_DIR: dataDir });
    expect(code).toBe(1);
    expectOneLine(stderr, /embedded database in .*pgdata could not be opened.*restore the data directory from a backup/);
    expect(snapshot(dataDir)).toEqual(before);
  });

  it("a port in use, before anything is written to a new data directory", async () => {
    const dataDir = path.join(scratch, "port-in-use");
    const { code, stderr } = await withPortTaken((port) => refusedStart({ CHATD_DATA_DIR: dataDir, CHATD_LISTEN: `127.0.0.1:${port}` }));
    expect(code).toBe(1);
    expectOneLine(stderr, /cannot listen on 127\.0\.0\.1:\d+: the port is already in use.*--listen/);
    expect(fs.existsSync(dataDir)).toBe(false);
  });
});

describe("start-up refusals on either database", () => {
  it("an encryption key other than the one that sealed the secrets", async () => {
    const fresh = await freshDatabase();
    try {
      const env: Record<string, string> = { CHATD_LISTEN: "127.0.0.1:0", CHATD_LOG_LEVEL: "warn", CHATD_DATA_DIR: fresh.location.dataDir };
      if (fresh.location.databaseUrl) env.CHATD_DATABASE_URL = fresh.location.databaseUrl;
      const first = runChatd(["server"], { ...env, CHATD_ENCRYPTION_KEY: generateKey().toString("base64") });
      await first.started;
      expect(await first.stop("SIGTERM")).toBe(0);
      const { code, stderr } = await refusedStart({ ...env, CHATD_ENCRYPTION_KEY: generateKey().toString("base64") });
      expect(code).toBe(1);
      expectOneLine(stderr, /CHATD_ENCRYPTION_KEY \(--encryption-key\) is not the key this database's secrets were sealed with .*start with the original key/);
    } finally {
      await fresh.destroy();
    }
  });
});

describe.runIf(testDatabaseKind() === "postgres")("start-up refusals on PostgreSQL", () => {
  it("a server that refuses connections", async () => {
    // Port 1 (tcpmux) has no listener on a test machine: the connect is refused at once.
    const { code, stderr } = await refusedStart({ CHATD_DATA_DIR: path.join(scratch, "pg-refused"), CHATD_DATABASE_URL: "postgres://postgres:hunter2@127.0.0.1:1/chatd" });
    expect(code).toBe(1);
    expectOneLine(stderr, /cannot connect to PostgreSQL at 127\.0\.0\.1:1\/chatd: connection refused; start PostgreSQL or check CHATD_DATABASE_URL/);
    expect(stderr).not.toContain("hunter2");
  });

  it("a database that does not exist", async () => {
    const missing = pgUrlForDatabase(`chatd_missing_${process.pid}`);
    const { code, stderr } = await refusedStart({ CHATD_DATA_DIR: path.join(scratch, "pg-missing"), CHATD_DATABASE_URL: missing });
    expect(code).toBe(1);
    expectOneLine(stderr, /PostgreSQL at .*chatd_missing_\d+ has no such database; create it/);
  });

  it("a host name that does not resolve", async () => {
    // .invalid is reserved (RFC 2606): it never resolves.
    const { code, stderr } = await refusedStart({ CHATD_DATA_DIR: path.join(scratch, "pg-dns"), CHATD_DATABASE_URL: "postgres://postgres@chatd-db.invalid:5432/chatd" });
    expect(code).toBe(1);
    expectOneLine(stderr, /cannot connect to PostgreSQL at chatd-db\.invalid:5432\/chatd: the host name does not resolve/);
  });

  it("a port in use", async () => {
    const { code, stderr } = await withPortTaken((port) =>
      refusedStart({ CHATD_DATA_DIR: path.join(scratch, "pg-port"), CHATD_DATABASE_URL: pgUrlForDatabase("postgres"), CHATD_LISTEN: `127.0.0.1:${port}` }),
    );
    expect(code).toBe(1);
    expectOneLine(stderr, /the port is already in use/);
  });
});
