/**
 * Cost queries at scale (issue 13), on PostgreSQL (BENCH_PG_URL, default the local server).
 * Prints numbers; asserts nothing.
 *   (a) the usage-limit spend check (one query) with 1,000,000 stored messages: p50/p99;
 *   (b) the cost summary (totals, by model, by chat tree) for a user with 100,000 messages;
 *   (c) the admin per-user rollup over the whole table, first page.
 * The data: 1,000 users, 20,000 chats, 1,000,000 messages (half of them priced assistant steps)
 * spread over 60 days; one heavy user owns 100,000 of them. Query plans are printed so a missing
 * index shows as a sequential scan.
 *
 *   npm run bench:cost
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { sql } from "drizzle-orm";
import { openDatabase } from "../src/db/client.js";
import { queryRows } from "../src/db/raw.js";
import { spendBetween } from "../src/cost/limits.js";
import { periodBounds } from "../src/cost/periods.js";
import { costByUser, costSummary } from "../src/cost/summary.js";
import { fmt, pct, withPgDatabase } from "./support.js";

const USERS = 1_000;
const CHATS = 20_000;
const MESSAGES = 1_000_000;
/** The heavy user's share: 2,000 chats × 50 messages. */
const HEAVY_CHATS = 2_000;
const MESSAGES_PER_CHAT = MESSAGES / CHATS;
const RUNS = 50;

async function time(runs: number, body: () => Promise<unknown>): Promise<{ p50: number; p99: number }> {
  const samples: number[] = [];
  await body(); // warm the plan and the cache
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await body();
    samples.push(performance.now() - started);
  }
  samples.sort((a, b) => a - b);
  return { p50: pct(samples, 50), p99: pct(samples, 99) };
}

await withPgDatabase("cost", async (url) => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "chatd-bench-cost-"));
  const handle = await openDatabase({ dataDir, databaseUrl: url });
  const { db } = handle;
  try {
    const seeded = performance.now();
    await db.execute(sql`INSERT INTO chat_providers (provider, display_name) VALUES ('anthropic', 'Anthropic')`);
    await db.execute(sql`INSERT INTO chat_model_configs (provider, model, display_name, context_limit, is_default) VALUES ('anthropic', 'claude-sonnet-4-5', 'Sonnet', 200000, true)`);
    await db.execute(sql`
      INSERT INTO users (username, email, hashed_password)
      SELECT 'user' || n, 'user' || n || '@example.com', 'x' FROM generate_series(1, ${USERS}) AS n`);
    // Chats 1..HEAVY_CHATS belong to user1; the rest are spread over everyone else.
    await db.execute(sql`
      INSERT INTO chats (owner_id, title, last_model_config_id)
      SELECT u.id, 'chat ' || n, (SELECT id FROM chat_model_configs LIMIT 1)
      FROM generate_series(1, ${CHATS}) AS n
      JOIN users u ON u.username = 'user' || CASE WHEN n <= ${HEAVY_CHATS} THEN 1 ELSE 2 + (n % (${USERS} - 1)) END`);
    // Every other message is a priced assistant step; the rest are user turns. 60 days of history.
    await db.execute(sql`
      INSERT INTO chat_messages (chat_id, model_config_id, created_at, role, content, content_version, input_tokens, output_tokens, total_cost_micros)
      SELECT c.id, c.last_model_config_id, now() - (random() * interval '60 days'),
             CASE WHEN m % 2 = 0 THEN 'assistant'::chat_message_role ELSE 'user'::chat_message_role END,
             '[]'::jsonb, 1,
             CASE WHEN m % 2 = 0 THEN 1000 END, CASE WHEN m % 2 = 0 THEN 200 END, CASE WHEN m % 2 = 0 THEN 6000 END
      FROM chats c, generate_series(1, ${MESSAGES_PER_CHAT}) AS m`);
    await db.execute(sql`VACUUM ANALYZE`);
    const [counts] = await queryRows(db, sql`SELECT (SELECT count(*) FROM chat_messages) AS messages, (SELECT count(*) FROM chat_messages m JOIN chats c ON c.id = m.chat_id JOIN users u ON u.id = c.owner_id WHERE u.username = 'user1') AS heavy`);
    const [heavy] = await queryRows(db, sql`SELECT id FROM users WHERE username = 'user1'`);
    const [light] = await queryRows(db, sql`SELECT id FROM users WHERE username = 'user500'`);
    const heavyId = String(heavy?.id);
    const lightId = String(light?.id);
    console.log(`seeded ${String(counts?.messages)} messages (${String(counts?.heavy)} for the heavy user) in ${fmt((performance.now() - seeded) / 1000)} s`);

    const month = periodBounds("month", new Date());
    const spendHeavy = await time(RUNS, () => spendBetween(db, heavyId, month.start, month.end));
    const spendLight = await time(RUNS, () => spendBetween(db, lightId, month.start, month.end));
    const window = { start: new Date(Date.now() - 30 * 86_400_000), end: new Date() };
    const summary = await time(20, () => costSummary(db, heavyId, window));
    const rollup = await time(10, () => costByUser(db, window, { limit: 10, offset: 0 }));

    console.log("\n| query | p50 ms | p99 ms |");
    console.log("|---|---|---|");
    console.log(`| spend check, heavy user (100,000 messages), month | ${fmt(spendHeavy.p50)} | ${fmt(spendHeavy.p99)} |`);
    console.log(`| spend check, typical user (~1,000 messages), month | ${fmt(spendLight.p50)} | ${fmt(spendLight.p99)} |`);
    console.log(`| cost summary, heavy user, 30 days | ${fmt(summary.p50)} | ${fmt(summary.p99)} |`);
    console.log(`| admin rollup, all users, 30 days, first page | ${fmt(rollup.p50)} | ${fmt(rollup.p99)} |`);

    const plan = await queryRows(
      db,
      sql`EXPLAIN SELECT sum(m.total_cost_micros) FROM chat_messages m JOIN chats c ON c.id = m.chat_id
          WHERE c.owner_id = ${lightId} AND m.total_cost_micros IS NOT NULL AND m.created_at >= ${month.start.toISOString()} AND m.created_at < ${month.end.toISOString()}`,
    );
    console.log("\nspend check plan (typical user):");
    for (const row of plan) console.log(`  ${String(row["QUERY PLAN"])}`);
    if (process.env.BENCH_EXPLAIN_SUMMARY) {
      const summaryPlan = await queryRows(
        db,
        sql`EXPLAIN (ANALYZE, BUFFERS) SELECT sum(m.total_cost_micros), count(*) FROM chat_messages m JOIN chats c ON c.id = m.chat_id
            WHERE c.owner_id = ${heavyId} AND m.role = 'assistant' AND m.created_at >= ${window.start.toISOString()} AND m.created_at < ${window.end.toISOString()}`,
      );
      console.log("\nsummary totals plan (heavy user):");
      for (const row of summaryPlan) console.log(`  ${String(row["QUERY PLAN"])}`);
    }
  } finally {
    await handle.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
