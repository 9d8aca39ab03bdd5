/**
 * Baseline cost of the HTTP stack: authenticated GET /api/v2/users/me (auth lookup + policy +
 * response schema) sequentially and with concurrency, plus one login (scrypt). Runs on PGlite by
 * default, on PostgreSQL with BENCH_DATABASE_URL. Prints numbers; asserts nothing.
 *
 *   npm run bench:http
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { loadConfig } from "../src/config/config.js";
import { startServer } from "../src/server/server.js";

const SEQUENTIAL_REQUESTS = 2_000;
const CONCURRENT_REQUESTS = 4_000;
const CONCURRENCY = 32;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "chatd-bench-"));
const config = loadConfig(
  { listen: "127.0.0.1:0", "data-dir": dataDir, "database-url": process.env.BENCH_DATABASE_URL, "log-level": "silent" },
  {},
);
const server = await startServer(config, { webDir: path.join(dataDir, "none") });
const post = (url: string, body: unknown) =>
  fetch(`${server.url}${url}`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });

const password = "bench-password-123";
await post("/api/v2/users/first", { username: "bench", email: `bench-${Date.now()}@example.com`, password });
const loginStarted = performance.now();
const login = await post("/api/v2/users/login", { username: "bench", password });
const loginMs = performance.now() - loginStarted;
const loginBody: unknown = await login.json();
const token = typeof loginBody === "object" && loginBody !== null && "session_token" in loginBody ? String(loginBody.session_token) : "";
const headers = { Authorization: `Bearer ${token}` };

async function timedGet(): Promise<number> {
  const started = performance.now();
  const response = await fetch(`${server.url}/api/v2/users/me`, { headers });
  await response.arrayBuffer();
  if (response.status !== 200) throw new Error(`unexpected status ${response.status}`);
  return performance.now() - started;
}

const sequential: number[] = [];
for (let i = 0; i < SEQUENTIAL_REQUESTS; i++) sequential.push(await timedGet());
sequential.sort((a, b) => a - b);

const concurrent: number[] = [];
const wallStarted = performance.now();
let issued = 0;
await Promise.all(
  Array.from({ length: CONCURRENCY }, async () => {
    while (issued < CONCURRENT_REQUESTS) {
      issued++;
      concurrent.push(await timedGet());
    }
  }),
);
const wallSeconds = (performance.now() - wallStarted) / 1000;
concurrent.sort((a, b) => a - b);

const fmt = (n: number) => n.toFixed(2);
console.log(`database: ${server.database.kind}`);
console.log(`login (scrypt N=2^15): ${fmt(loginMs)} ms`);
console.log(`GET /users/me sequential x${SEQUENTIAL_REQUESTS}: p50 ${fmt(percentile(sequential, 50))} ms, p99 ${fmt(percentile(sequential, 99))} ms`);
console.log(
  `GET /users/me concurrency ${CONCURRENCY} x${CONCURRENT_REQUESTS}: ${Math.round(CONCURRENT_REQUESTS / wallSeconds)} req/s, p50 ${fmt(percentile(concurrent, 50))} ms, p99 ${fmt(percentile(concurrent, 99))} ms`,
);
console.log(`server RSS: ${Math.round(process.memoryUsage().rss / 1024 / 1024)} MiB (includes the benchmark client)`);
await server.close();
fs.rmSync(dataDir, { recursive: true, force: true });
