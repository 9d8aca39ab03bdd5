import fs from "node:fs";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOCK_FILE_NAME } from "../../src/db/lock.js";
import { freshDatabase, type FreshDatabase } from "../helpers/database.js";
import { pgUrlForDatabase, TEST_PG_ADMIN_URL, testDatabaseKind } from "../helpers/env.js";
import { runChatd, type ChatdProcess } from "../helpers/process.js";

let fresh: FreshDatabase;
const running: ChatdProcess[] = [];

function serverEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = { CHATD_LISTEN: "127.0.0.1:0", CHATD_DATA_DIR: fresh.location.dataDir, CHATD_LOG_LEVEL: "warn" };
  if (fresh.location.databaseUrl) env.CHATD_DATABASE_URL = fresh.location.databaseUrl;
  return { ...env, ...extra };
}

function start(env: Record<string, string>, args: string[] = ["server"]): ChatdProcess {
  const processHandle = runChatd(args, env);
  running.push(processHandle);
  return processHandle;
}

beforeAll(async () => {
  fresh = await freshDatabase();
});
afterAll(async () => {
  await Promise.all(running.map((p) => p.stop("SIGKILL")));
  await fresh.destroy();
});

describe("chatd server process", () => {
  it("serves /healthz, and stops gracefully on SIGTERM with exit code 0", async () => {
    const server = start(serverEnv());
    const url = await server.started;
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    expect(await server.stop("SIGTERM")).toBe(0);
    if (testDatabaseKind() === "pglite") {
      expect(fs.existsSync(path.join(fresh.location.dataDir, LOCK_FILE_NAME))).toBe(false);
    }
  });

  it("rejects a bad configuration value with a message naming the flag and variable, exit code 2", async () => {
    const server = start(serverEnv({ CHATD_LISTEN: "nowhere", CHATD_CHAT_STALE_AFTER: "5 minutes" }));
    expect(await server.exited).toBe(2);
    expect(server.stderr()).toContain("--listen / CHATD_LISTEN");
    expect(server.stderr()).toContain("--chat-stale-after / CHATD_CHAT_STALE_AFTER");
  });

  it.runIf(testDatabaseKind() === "pglite")(
    "refuses a second server on the same data directory with a message naming the lock",
    async () => {
      const first = start(serverEnv());
      await first.started;
      const second = start(serverEnv());
      const code = await second.exited;
      expect(code).not.toBe(0);
      expect(second.stderr()).toContain(path.join(fresh.location.dataDir, LOCK_FILE_NAME));
      expect(second.stderr()).toMatch(/locked/);
      expect(await first.stop()).toBe(0);
    },
  );

  it.runIf(testDatabaseKind() === "pglite")("replaces a stale lock left by a dead process", async () => {
    // A pid far above the kernel's default pid_max cannot belong to a live process.
    fs.writeFileSync(path.join(fresh.location.dataDir, LOCK_FILE_NAME), "99999999\n");
    const server = start(serverEnv());
    await server.started;
    expect(fs.readFileSync(path.join(fresh.location.dataDir, LOCK_FILE_NAME), "utf8").trim()).toBe(String(server.child.pid));
    expect(await server.stop()).toBe(0);
  });

  it.runIf(testDatabaseKind() === "postgres")(
    "brings up two servers started at once on one empty PostgreSQL database (migrations raced safely)",
    async () => {
      const name = `chatd_race_${process.pid}_${Date.now()}`;
      const admin = new pg.Client({ connectionString: TEST_PG_ADMIN_URL });
      await admin.connect();
      await admin.query(`CREATE DATABASE ${name}`);
      try {
        const env = serverEnv({ CHATD_DATABASE_URL: pgUrlForDatabase(name) });
        const a = start(env);
        const b = start(env);
        const urls = await Promise.all([a.started, b.started]);
        for (const url of urls) expect((await fetch(`${url}/healthz`)).status).toBe(200);
        const db = new pg.Client({ connectionString: pgUrlForDatabase(name) });
        await db.connect();
        const replicas = await db.query("SELECT count(*)::int AS n FROM replicas");
        const migrations = await db.query("SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations");
        const keys = await db.query("SELECT count(*)::int AS n FROM server_secrets WHERE name = 'encryption_key'");
        await db.end();
        expect(replicas.rows[0]).toEqual({ n: 2 });
        expect(migrations.rows[0]).toEqual({ n: fs.readdirSync(new URL("../../src/db/migrations", import.meta.url)).filter((f) => f.endsWith(".sql")).length });
        expect(keys.rows[0]).toEqual({ n: 1 });
        expect(await a.stop()).toBe(0);
        expect(await b.stop()).toBe(0);
      } finally {
        await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await admin.end();
      }
    },
  );

  it("creates a user from the command line who can then log in", async () => {
    const create = start(serverEnv({ CHATD_USER_PASSWORD: "cli-password-1" }), [
      "users",
      "create",
      "--username",
      "cli-admin",
      "--email",
      "cli@example.com",
      "--role",
      "admin",
    ]);
    expect(await create.exited).toBe(0);
    expect(create.stdout()).toMatch(/created user cli-admin/);
    const duplicate = start(serverEnv({ CHATD_USER_PASSWORD: "cli-password-1" }), [
      "users",
      "create",
      "--username",
      "cli-admin",
      "--email",
      "other@example.com",
    ]);
    expect(await duplicate.exited).toBe(1);
    expect(duplicate.stderr()).toMatch(/already exists/);

    const server = start(serverEnv());
    const url = await server.started;
    const login = await fetch(`${url}/api/v2/users/login`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ username: "cli-admin", password: "cli-password-1" }),
    });
    expect(login.status).toBe(201);
    expect(await server.stop()).toBe(0);
  });

  it("applies migrations with `chatd migrate`", async () => {
    const migrate = start(serverEnv(), ["migrate"]);
    expect(await migrate.exited).toBe(0);
    expect(migrate.stdout()).toMatch(/migrations applied/);
  });
});
