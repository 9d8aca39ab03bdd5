/** What the benchmarks share: starting replicas, calling the API, percentiles, throwaway databases. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { loadConfig } from "../src/config/config.js";
import { startServer, type RunningServer, type StartOptions } from "../src/server/server.js";

export const PG_URL = process.env.BENCH_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

export const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
export const fmt = (n: number) => n.toFixed(2);

export interface Replica {
  server: RunningServer;
  dataDir: string;
}

export async function startReplica(databaseUrl?: string, options: StartOptions = {}): Promise<Replica> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "chatd-bench-"));
  const config = loadConfig(
    { listen: "127.0.0.1:0", "data-dir": dataDir, "log-level": "silent", ...(databaseUrl ? { "database-url": databaseUrl } : {}) },
    {},
  );
  return { server: await startServer(config, { webDir: path.join(dataDir, "none"), env: {}, ...options }), dataDir };
}

export async function api(url: string, route: string, token: string | undefined, body?: unknown): Promise<unknown> {
  const response = await fetch(`${url}${route}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { "Content-Type": "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  const parsed: unknown = text ? JSON.parse(text) : undefined;
  if (!response.ok) throw new Error(`${route}: ${response.status} ${text}`);
  return parsed;
}

export function get(value: unknown, key: string): unknown {
  return typeof value === "object" && value !== null && key in value ? Reflect.get(value, key) : undefined;
}

/** A throwaway PostgreSQL database for one bench part. */
export async function withPgDatabase(label: string, run: (url: string) => Promise<void>): Promise<void> {
  const name = `chatd_bench_${label}_${process.pid}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(PG_URL);
  url.pathname = `/${name}`;
  try {
    await run(url.toString());
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

