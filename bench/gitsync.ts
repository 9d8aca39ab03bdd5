/**
 * gitsync throughput (issue 14): how many diff-status rows per second the worker refreshes
 * against the fake GitHub server (test/helpers/fake-github.ts) with 1,000 stale chats, on
 * PostgreSQL (BENCH_PG_URL, default the local server). Each row costs three GitHub calls (open PR
 * by branch, the PR, its reviews) and one write. Runs: one replica with an instant fake, one with
 * 50 ms per PR read (closer to the real API), and two replicas sharing the work. Prints numbers;
 * asserts nothing except that every row was refreshed.
 *
 *   npm run bench:gitsync
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { sql } from "drizzle-orm";
import { loadConfig } from "../src/config/config.js";
import { queryRows } from "../src/db/raw.js";
import { storeGitToken } from "../src/gitauth/tokens.js";
import { startServer, type RunningServer } from "../src/server/server.js";
import { startFakeGitHub, type FakeGitHub } from "../test/helpers/fake-github.js";
import { fmt, withPgDatabase } from "./support.js";

const CHATS = 1_000;
const TOKEN = "ghp_benchtoken00000000000000000000000";
const REPO = "acme/bench";
/** A short tick, so the measurement is the pipeline's speed and not the 10 s wait between ticks. */
const TICK = "10ms";
/** Gives up on a run that does not finish (a hang is a result too). */
const RUN_TIMEOUT_MS = 300_000;

async function startReplica(databaseUrl: string, apiUrl: string): Promise<RunningServer> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "chatd-bench-gitsync-"));
  const config = loadConfig(
    { listen: "127.0.0.1:0", "data-dir": dataDir, "log-level": "silent", "database-url": databaseUrl, "github-api-url": apiUrl, "gitsync-interval": TICK },
    {},
  );
  return startServer(config, { webDir: path.join(dataDir, "none"), env: {} });
}

async function countRefreshed(server: RunningServer): Promise<number> {
  const [row] = await queryRows(server.database.db, sql`SELECT count(*)::int AS n FROM chat_diff_statuses WHERE refreshed_at IS NOT NULL`);
  return Number(row?.n ?? 0);
}

async function run(label: string, replicas: number, pullDelayMs: number): Promise<void> {
  await withPgDatabase(`gitsync_${replicas}_${pullDelayMs}`, async (url) => {
    const github: FakeGitHub = await startFakeGitHub();
    github.tokens.add(TOKEN);
    const servers: RunningServer[] = [];
    try {
      servers.push(await startReplica(url, github.url));
      const first = servers[0];
      if (!first) throw new Error("no replica");
      const db = first.database.db;
      await db.execute(sql`INSERT INTO users (username, email, hashed_password) VALUES ('bench', 'bench@example.com', 'x')`);
      await db.execute(sql`INSERT INTO chat_providers (provider) VALUES ('anthropic') ON CONFLICT DO NOTHING`);
      await db.execute(sql`INSERT INTO chat_model_configs (provider, model, context_limit) VALUES ('anthropic', 'bench-model', 1000)`);
      const [user] = await queryRows(db, sql`SELECT id FROM users WHERE username = 'bench'`);
      const ownerId = String(user?.id);
      await storeGitToken(db, first.services.cipher, ownerId, "github", TOKEN);
      // Seeded not yet stale, then made stale in one statement, so the clock starts for all at once.
      await db.execute(sql`
        WITH made AS (
          INSERT INTO chats (owner_id, title, last_model_config_id)
          SELECT ${ownerId}::uuid, 'chat ' || n, (SELECT id FROM chat_model_configs LIMIT 1) FROM generate_series(1, ${CHATS}) AS n
          RETURNING id, title)
        INSERT INTO chat_diff_statuses (chat_id, git_branch, git_remote_origin, stale_at)
        SELECT id, 'agent/' || replace(title, ' ', '-'), 'https://github.com/' || ${REPO}, now() + interval '1 hour' FROM made`);
      const repo = github.repo(REPO);
      for (let n = 1; n <= CHATS; n++) repo.pulls.push({ number: n, state: "open", title: `PR ${n}`, head: `agent/chat-${n}`, additions: n, deletions: 1 });
      repo.reviews.set(1, [{ id: 1, login: "reviewer", state: "APPROVED" }]);
      github.pullDelayMs = pullDelayMs;
      while (servers.length < replicas) servers.push(await startReplica(url, github.url));

      const started = performance.now();
      await db.execute(sql`UPDATE chat_diff_statuses SET stale_at = now() - interval '1 second'`);
      let refreshed = 0;
      while (refreshed < CHATS) {
        if (performance.now() - started > RUN_TIMEOUT_MS) throw new Error(`${label}: only ${refreshed}/${CHATS} refreshed`);
        await new Promise((resolve) => setTimeout(resolve, 20));
        refreshed = await countRefreshed(first);
      }
      const seconds = (performance.now() - started) / 1000;
      console.log(
        `${label.padEnd(44)} ${CHATS} rows in ${fmt(seconds)} s = ${fmt(CHATS / seconds)} rows/s (${github.requests.length} GitHub requests, max ${github.maxConcurrentPerPull()} in flight per PR)`,
      );
    } finally {
      for (const server of servers.reverse()) await server.close();
      await github.close();
    }
  });
}

await run("1 replica, instant fake GitHub", 1, 0);
await run("1 replica, 50 ms per PR read", 1, 50);
await run("2 replicas, 50 ms per PR read", 2, 50);
