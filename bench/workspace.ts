/**
 * Workspace costs (issue: workspaces and the workspace agent). Prints numbers; asserts nothing.
 *   (a) a Local workspace from create to a connected agent, and its stop/start, with and without
 *       bubblewrap (when installed);
 *   (b) agent round trips from the replica holding the socket: ping, a 16 KiB read_file, and a
 *       short command (process.start + process.output until exit), p50/p99;
 *   (c) the same from another replica (forwarded through the holder): the added latency.
 * (a) and (b) run on PGlite; (c) on PostgreSQL (BENCH_PG_URL, default the local server).
 * BENCH_ONLY=a|b|c runs one part.
 *
 *   npm run bench:workspace
 */
import fs from "node:fs";
import path from "node:path";
import { eq } from "drizzle-orm";
import { workspaceAgents } from "../src/db/schema/index.js";
import type { RunningServer } from "../src/server/server.js";
import type { WorkspaceAgentClient } from "../src/workspaces/agent-conn/directory.js";
import { api, fmt, get, pct, startReplica, withPgDatabase } from "./support.js";

const CREATE_RUNS = 5;
const PINGS = 1000;
const READS = 300;
const COMMANDS = 100;
const ONLY = process.env.BENCH_ONLY;

async function owner(url: string): Promise<string> {
  await api(url, "/api/v2/users/first", undefined, { username: "bench", email: "bench@example.com", password: "bench-password-1" });
  return String(get(await api(url, "/api/v2/users/login", undefined, { username: "bench", password: "bench-password-1" }), "session_token"));
}

async function localTemplate(url: string, token: string): Promise<string> {
  const listed = await api(url, "/api/v2/templates", token);
  const templates = Array.isArray(listed) ? listed : get(listed, "templates");
  const local = Array.isArray(templates) ? templates.find((t: unknown) => get(t, "name") === "local") : undefined;
  return String(get(local, "id"));
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

const agentConnected = (server: RunningServer, workspaceId: string) => async () => {
  const agents = await server.database.db.select().from(workspaceAgents).where(eq(workspaceAgents.workspaceId, workspaceId));
  return agents.some((agent) => agent.replicaId !== null);
};

async function createWorkspace(server: RunningServer, token: string, template: string, name: string): Promise<{ id: string; ms: number }> {
  const started = performance.now();
  const created = await api(server.url, "/api/v2/workspaces", token, { template_id: template, name });
  const id = String(get(created, "id"));
  await until(agentConnected(server, id), "agent");
  return { id, ms: performance.now() - started };
}

async function benchA(): Promise<void> {
  for (const sandbox of ["auto", "off"] as const) {
    const replica = await startReplica(undefined, { workspaces: { sandbox } });
    try {
      const token = await owner(replica.server.url);
      const template = await localTemplate(replica.server.url, token);
      const isolated = get((await api(replica.server.url, `/api/v2/templates/${template}`, token)), "isolated");
      const creates: number[] = [];
      const restarts: number[] = [];
      for (let i = 0; i < CREATE_RUNS; i++) {
        const { id, ms } = await createWorkspace(replica.server, token, template, `bench-${i}`);
        creates.push(ms);
        await api(replica.server.url, `/api/v2/workspaces/${id}/builds`, token, { transition: "stop" });
        await until(async () => get(await api(replica.server.url, `/api/v2/workspaces/${id}`, token), "status") === "stopped", "stop");
        const started = performance.now();
        await api(replica.server.url, `/api/v2/workspaces/${id}/builds`, token, { transition: "start" });
        await until(agentConnected(replica.server, id), "restart");
        restarts.push(performance.now() - started);
      }
      creates.sort((x, y) => x - y);
      restarts.sort((x, y) => x - y);
      console.log(
        `(a) sandbox=${sandbox} (isolated: ${String(isolated)}): create → agent connected median ${fmt(pct(creates, 50))} ms (min ${fmt(creates[0] ?? NaN)}, max ${fmt(creates.at(-1) ?? NaN)}); stop → start → agent connected median ${fmt(pct(restarts, 50))} ms`,
      );
    } finally {
      await replica.server.close();
      fs.rmSync(replica.dataDir, { recursive: true, force: true });
    }
  }
}

async function timed(count: number, call: () => Promise<unknown>): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await call();
    samples.push(performance.now() - started);
  }
  return samples.sort((x, y) => x - y);
}

async function roundTrips(client: WorkspaceAgentClient, directory: string): Promise<{ ping: number[]; read: number[]; command: number[] }> {
  fs.writeFileSync(path.join(directory, "sixteen.txt"), `${"x".repeat(63)}\n`.repeat(256));
  const ping = await timed(PINGS, () => client.call("ping", {}));
  const read = await timed(READS, () => client.call("file.read", { path: "sixteen.txt" }));
  const command = await timed(COMMANDS, async () => {
    const started = await client.call("process.start", { command: "echo hi", background: false });
    await client.call("process.output", { id: started.id, wait_ms: 10_000 }, { timeoutMs: 20_000 });
  });
  return { ping, read, command };
}

const line = (label: string, samples: number[]) => `${label} p50 ${fmt(pct(samples, 50))} / p99 ${fmt(pct(samples, 99))} ms`;

async function agentOn(server: RunningServer, token: string, name: string): Promise<{ workspaceId: string; directory: string }> {
  const template = await localTemplate(server.url, token);
  const { id } = await createWorkspace(server, token, template, name);
  const [agent] = await server.database.db.select().from(workspaceAgents).where(eq(workspaceAgents.workspaceId, id));
  return { workspaceId: id, directory: agent?.directory ?? "" };
}

async function benchB(): Promise<void> {
  const replica = await startReplica();
  try {
    const token = await owner(replica.server.url);
    const { workspaceId, directory } = await agentOn(replica.server, token, "round-trips");
    const client = await replica.server.services.agents.directory.forWorkspace(workspaceId, { chat_id: crypto.randomUUID() });
    const { ping, read, command } = await roundTrips(client, directory);
    console.log(`(b) same replica: ${line(`ping x${PINGS}`, ping)}; ${line(`16 KiB read_file x${READS}`, read)}; ${line(`echo command x${COMMANDS}`, command)}`);
  } finally {
    await replica.server.close();
    fs.rmSync(replica.dataDir, { recursive: true, force: true });
  }
}

async function benchC(): Promise<void> {
  await withPgDatabase("workspace", async (databaseUrl) => {
    const holder = await startReplica(databaseUrl);
    const other = await startReplica(databaseUrl);
    try {
      const token = await owner(holder.server.url);
      const { workspaceId, directory } = await agentOn(holder.server, token, "forwarded");
      const chat = { chat_id: crypto.randomUUID() };
      const local = await roundTrips(await holder.server.services.agents.directory.forWorkspace(workspaceId, chat), directory);
      const remote = await roundTrips(await other.server.services.agents.directory.forWorkspace(workspaceId, chat), directory);
      for (const key of ["ping", "read", "command"] as const) {
        console.log(
          `(c) ${key}: holder ${line("", local[key])}; other replica ${line("", remote[key])}; forwarding adds p50 ${fmt(pct(remote[key], 50) - pct(local[key], 50))} ms`,
        );
      }
    } finally {
      await other.server.close();
      await holder.server.close();
      fs.rmSync(holder.dataDir, { recursive: true, force: true });
      fs.rmSync(other.dataDir, { recursive: true, force: true });
    }
  });
}

if (!ONLY || ONLY === "a") await benchA();
if (!ONLY || ONLY === "b") await benchB();
if (!ONLY || ONLY === "c") await benchC();
