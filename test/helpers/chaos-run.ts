/**
 * The chaos run (issue 11's reliability suite): three `chatd server` processes on one PostgreSQL
 * database run many chats, each making three workspace tool calls, while one replica at a time is
 * SIGKILLed and restarted. Returns the figures and every problem found in any chat's history.
 *
 * The Local workspaces live on a fourth server in the test process that runs no chats: a local
 * agent dies with the server that spawned it, and what is under test here is the chat daemon
 * (leases, re-acquisition, steps persisted exactly once), not agent respawn. Every tool call
 * still crosses replicas, from the chat's replica to the agent's. Chats are created through that
 * server too, so a kill never makes a creation ambiguous (was the POST committed?).
 */
import { setTimeout as pause } from "node:timers/promises";
import { startMockLlm, type MockLlm } from "../../src/llm/mock/index.js";
import { messageParts } from "../../src/chats/store.js";
import type { DatabaseHandle } from "../../src/db/client.js";
import { freshDatabase, type FreshDatabase } from "./database.js";
import { liveMessages, reloadChat } from "./chats.js";
import { ChaosMonitor, databaseNowMs } from "./chaos-monitor.js";
import { historyProblems, type ExpectedStep } from "./chat-history.js";
import { ReplicaCluster } from "./replica-cluster.js";
import { chatMarker, isTitleRequest, markerIndex, readConversation, scriptedTurn, TITLE_TURN, type ScriptedStep } from "./scripted-chats.js";
import { configureAnthropicModel, field, startTestServer, type TestServer, type TestUser } from "./server.js";
import { createChatViaApi, localTemplateId } from "./workspace-chat.js";
import { waitFor } from "./wait.js";

export const REPLICAS = 3;
/** Four missed one-second heartbeats, like production's ten missed 30 s ones but seconds long. */
export const HEARTBEAT_INTERVAL_MS = 1_000;
export const STALE_AFTER_MS = 4_000;
/** behavior.md: stale recovery runs every staleAfter/5, at least every second. */
export const STALE_SWEEP_MS = Math.max(1_000, STALE_AFTER_MS / 5);
const ACQUIRE_INTERVAL_MS = 250;
/**
 * What a loaded two-core machine may add on top of the sweep and the acquire pass before a chat
 * counts as stuck past its lease: a late sweep, a slow acquire, a starting replica.
 */
export const STUCK_SLACK_MS = 3_000;
/** How long after its lease expired an orphan may wait for another replica. */
export const MAX_PAST_LEASE_MS = STALE_SWEEP_MS + ACQUIRE_INTERVAL_MS + STUCK_SLACK_MS;
/** Fine enough to time a re-acquisition to a quarter second, cheap beside the run itself. */
const MONITOR_INTERVAL_MS = 250;
const FORGET_REQUESTS_MS = 1_000;
const LAG_SCRAPE_MS = 1_000;
const LOOP_LAG_METRIC = /^chatd_nodejs_eventloop_lag_max_seconds (\S+)$/m;
const PROMPT_PREFIX = "Chaos chat";
const WORKSPACE_READY_MS = 60_000;

export interface ChaosOptions {
  chats: number;
  /** Kills stop after this many, or once every chat finished. */
  maxKills: number;
  /** The chaos cadence: how long a replica lives (after its restart) before the next kill. */
  killIntervalMs: number;
  /** Chats are created at this rate, so kills land on chats at every stage. */
  chatsPerSecond: number;
  /** Workspaces the chats are spread over. */
  workspaces: number;
  /** Delay before each streamed chunk, so kills land mid-stream too. */
  chunkDelayMs: number;
  /** Deadline for every chat to finish once the last one was created. */
  finishTimeoutMs: number;
}

export interface ChaosFigures {
  chats: number;
  finished: number;
  kills: number;
  /** Chats running on a replica when it was killed. */
  orphaned: number;
  reacquisitions: number;
  /** The longest an orphan waited, from the kill to its new lease. */
  maxStuckMs: number;
  /** The longest an orphan waited after its lease expired. */
  maxPastLeaseMs: number;
  maxHeartbeatAgeMs: number;
  /** The oldest heartbeat on a chat of a live replica (a lease it failed to renew in time). */
  maxLiveHeartbeatAgeMs: number;
  /** The longest stale recovery took to hand an orphan back. */
  maxRecoveryMs: number;
  modelRequests: number;
  /** The longest any replica's event loop was blocked, as its /metrics reported. */
  maxLoopLagMs: number;
  /** Database, mock, workspaces and replicas up. */
  setupMs: number;
  /** From the first chat created to the last one finished. */
  totalMs: number;
  problems: string[];
}

function stepsFor(index: number): { script: ScriptedStep[]; expected: ExpectedStep[] } {
  const path = `chaos/chat-${index}.txt`;
  const content = `payload ${index}\n`;
  const text = `chat ${index} done`;
  const record = (result: unknown): Record<string, unknown> =>
    typeof result === "object" && result !== null ? Object.fromEntries(Object.entries(result)) : {};
  return {
    script: [
      { tool: "write_file", input: { path, content } },
      { tool: "read_file", input: { path } },
      { tool: "execute", input: { command: `cat ${path}` } },
      { text },
    ],
    expected: [
      { kind: "tool", tool: "write_file", check: (result) => (record(result).ok === true ? undefined : `result ${JSON.stringify(result)}`) },
      {
        kind: "tool",
        tool: "read_file",
        check: (result) => (String(record(result).content).includes(`payload ${index}`) ? undefined : `read ${JSON.stringify(result)}`),
      },
      { kind: "tool", tool: "execute", check: (result) => (record(result).output === content ? undefined : `output ${JSON.stringify(result)}`) },
      { kind: "text", text },
    ],
  };
}

async function readyWorkspace(host: TestServer, owner: TestUser, templateId: string, name: string): Promise<string> {
  const created = await host.request("/api/v2/workspaces", { method: "POST", token: owner.token, body: { template_id: templateId, name } });
  const id = field(created.body, "id");
  if (created.status !== 201 || typeof id !== "string") throw new Error(`workspace create failed: ${created.status} ${created.text}`);
  let last = "";
  await waitFor(
    async () => {
      const shown = await host.request(`/api/v2/workspaces/${id}`, { token: owner.token });
      last = shown.text;
      return field(shown.body, "status") === "running" && field(field(shown.body, "agent"), "status") === "connected";
    },
    { timeoutMs: WORKSPACE_READY_MS, intervalMs: 100, message: `workspace ${name} ready` },
  ).catch((error: unknown) => {
    throw new Error(`${error instanceof Error ? error.message : String(error)}; last seen ${last}`);
  });
  return id;
}

/** A replica's worst event-loop delay since the last scrape; 0 when it cannot be read (it may be dying). */
async function replicaLoopLagMs(url: string): Promise<number> {
  try {
    const response = await fetch(`${url}/metrics`);
    const seconds = Number(LOOP_LAG_METRIC.exec(await response.text())?.[1]);
    return Number.isFinite(seconds) ? seconds * 1000 : 0;
  } catch {
    return 0;
  }
}

async function historyOf(handle: DatabaseHandle, chatId: string, index: number): Promise<string[]> {
  const chat = await reloadChat(handle.db, chatId);
  const problems: string[] = [];
  if (chat.status !== "waiting") problems.push(`status ${chat.status}${chat.lastError ? ` (${chat.lastError})` : ""}`);
  const messages = (await liveMessages(handle.db, chatId)).map((row) => ({ id: row.id, role: row.role, parts: messageParts(row) }));
  problems.push(...historyProblems(messages, stepsFor(index).expected));
  return problems.map((problem) => `chat ${index} (${chatId}): ${problem}`);
}

export async function runChaos(options: ChaosOptions): Promise<ChaosFigures> {
  const began = performance.now();
  let fresh: FreshDatabase | undefined;
  let handle: DatabaseHandle | undefined;
  let mock: MockLlm | undefined;
  let host: TestServer | undefined;
  let cluster: ReplicaCluster | undefined;
  let monitor: ChaosMonitor | undefined;
  let forget: NodeJS.Timeout | undefined;
  let lagTimer: NodeJS.Timeout | undefined;
  try {
    fresh = await freshDatabase();
    handle = await fresh.open();
    const databaseUrl = fresh.location.databaseUrl;
    if (!databaseUrl) throw new Error("the chaos run needs PostgreSQL");
    let modelRequests = 0;
    mock = await startMockLlm({
      fallback: (request) => {
        if (isTitleRequest(request)) return TITLE_TURN;
        modelRequests++;
        const conversation = readConversation(request);
        const index = markerIndex(PROMPT_PREFIX, conversation.userText);
        if (index === undefined) return { parts: [{ type: "text", text: "not a chaos chat" }] };
        return scriptedTurn(stepsFor(index).script, conversation.toolResults, options.chunkDelayMs);
      },
    });
    // This run counts requests itself: a thousand recorded request bodies would hold hundreds of
    // megabytes in the process that also serves the agents, and its collector would steal the CPU.
    const llm = mock;
    forget = setInterval(() => llm.reset(), FORGET_REQUESTS_MS);
    const server = await startTestServer({ database: fresh, flags: { "log-level": "warn" } });
    host = server;
    // The host serves the API and the agents; the chats run on the replicas under test.
    await server.server.daemon.stop();
    const owner = await server.createOwner();
    await configureAnthropicModel(server, owner, mock.baseUrls.anthropic);
    const templateId = await localTemplateId(server, owner);
    const workspaceIds = await Promise.all(
      Array.from({ length: options.workspaces }, (_, i) => readyWorkspace(server, owner, templateId, `chaos-${i}`)),
    );

    cluster = new ReplicaCluster({
      db: handle.db,
      databaseUrl,
      dataDir: fresh.location.dataDir,
      env: {
        CHATD_CHAT_HEARTBEAT_INTERVAL: `${HEARTBEAT_INTERVAL_MS}ms`,
        CHATD_CHAT_STALE_AFTER: `${STALE_AFTER_MS}ms`,
        CHATD_CHAT_ACQUIRE_INTERVAL: `${ACQUIRE_INTERVAL_MS}ms`,
      },
    });
    await cluster.start(REPLICAS);
    const live = new ChaosMonitor(handle.db, MONITOR_INTERVAL_MS);
    monitor = live;
    live.start();
    const setupMs = performance.now() - began;
    // The replicas' own event-loop delay (prom-client resets it on every scrape): when leases and
    // sweeps run late, this tells a starved machine from a slow chatd.
    let maxLoopLagMs = 0;
    const replicas = cluster;
    lagTimer = setInterval(() => {
      for (const replica of replicas.replicas) {
        void replicaLoopLagMs(replica.url).then((lag) => {
          maxLoopLagMs = Math.max(maxLoopLagMs, lag);
        });
      }
    }, LAG_SCRAPE_MS);

    const started = performance.now();
    const chatIds: string[] = [];
    let creating = true;
    const creation = (async () => {
      try {
        for (let i = 0; i < options.chats; i++) {
          // Paced, not coordinated: chats arrive at a steady rate while replicas die.
          const due = started + (i * 1000) / options.chatsPerSecond;
          if (due > performance.now()) await pause(due - performance.now());
          const workspaceId = workspaceIds[i % workspaceIds.length];
          chatIds.push(await createChatViaApi(server, owner, `${chatMarker(PROMPT_PREFIX, i)} Write, read and cat your file.`, workspaceId));
        }
      } finally {
        creating = false;
      }
    })();

    let kills = 0;
    let orphaned = 0;
    const allFinished = () => !creating && live.finishedCount(chatIds) === chatIds.length;
    while (kills < options.maxKills && !allFinished()) {
      // The chaos cadence itself (the test's input), not a wait for something to happen.
      await pause(options.killIntervalMs);
      if (allFinished()) break;
      const victim = kills % REPLICAS;
      const killedAt = await databaseNowMs(handle.db);
      const dead = await cluster.kill(victim);
      orphaned += await live.recordKill(dead.id, killedAt);
      kills++;
      await cluster.restart(victim);
    }
    await creation;
    await waitFor(allFinished, { timeoutMs: options.finishTimeoutMs, intervalMs: 100, message: "every chaos chat finished" }).catch(() => undefined);
    await live.stop();
    await live.poll();
    const totalMs = performance.now() - started;

    const problems: string[] = [];
    for (const [index, chatId] of chatIds.entries()) problems.push(...(await historyOf(handle, chatId, index)));
    // A starved machine fires every timer late, the sweep's too: the replicas' own event-loop
    // delay is added to the bound, so what fails is chatd's recovery, not the machine's load.
    const pastLeaseBoundMs = MAX_PAST_LEASE_MS + maxLoopLagMs;
    let maxPastLeaseMs = 0;
    for (const orphan of live.orphans) {
      if (orphan.reacquiredAfterMs === undefined) {
        problems.push(`chat ${orphan.chatId}: never re-acquired after its replica was killed`);
        continue;
      }
      const pastLease = orphan.killedAtMs + orphan.reacquiredAfterMs - (orphan.heartbeatAtMs + STALE_AFTER_MS);
      maxPastLeaseMs = Math.max(maxPastLeaseMs, pastLease);
      if (pastLease > pastLeaseBoundMs) {
        problems.push(
          `chat ${orphan.chatId}: re-acquired ${Math.round(pastLease)} ms after its lease expired ` +
            `(lease renewed ${Math.round(orphan.killedAtMs - orphan.heartbeatAtMs)} ms before the kill, ` +
            `handed back ${Math.round(orphan.recoveredAfterMs ?? -1)} ms and re-acquired ${Math.round(orphan.reacquiredAfterMs)} ms after it)`,
        );
      }
    }
    if (live.maxHeartbeatAgeMs > STALE_AFTER_MS + pastLeaseBoundMs) problems.push(`a running chat went ${Math.round(live.maxHeartbeatAgeMs)} ms without a heartbeat`);
    if (problems.length > 0) problems.push(`replica logs:\n${cluster.logs().slice(-20_000)}`);
    return {
      chats: chatIds.length,
      finished: live.finishedCount(chatIds),
      kills,
      orphaned,
      reacquisitions: live.reacquisitions,
      maxStuckMs: Math.round(live.maxOrphanedMs),
      maxPastLeaseMs: Math.round(maxPastLeaseMs),
      maxHeartbeatAgeMs: Math.round(live.maxHeartbeatAgeMs),
      maxLiveHeartbeatAgeMs: Math.round(live.maxLiveHeartbeatAgeMs),
      maxRecoveryMs: Math.round(live.maxRecoveryMs),
      modelRequests,
      maxLoopLagMs: Math.round(maxLoopLagMs),
      setupMs: Math.round(setupMs),
      totalMs: Math.round(totalMs),
      problems,
    };
  } finally {
    clearInterval(forget);
    clearInterval(lagTimer);
    await monitor?.stop();
    await cluster?.stop();
    await host?.close();
    await mock?.close();
    await handle?.close();
    await fresh?.destroy();
  }
}

/** One line of figures for the test output (and the issue's closing note). */
export function describeFigures(label: string, figures: ChaosFigures): string {
  return [
    `${label}: ${figures.finished} of ${figures.chats} chats finished`,
    `kills ${figures.kills}`,
    `total ${(figures.totalMs / 1000).toFixed(1)} s (setup ${(figures.setupMs / 1000).toFixed(1)} s)`,
    `orphaned by kills ${figures.orphaned}`,
    `re-acquisitions ${figures.reacquisitions}`,
    `max stuck ${(figures.maxStuckMs / 1000).toFixed(2)} s from the kill, ${(figures.maxPastLeaseMs / 1000).toFixed(2)} s past the lease (bound ${(MAX_PAST_LEASE_MS / 1000).toFixed(2)} s + event-loop lag)`,
    `max recovery ${(figures.maxRecoveryMs / 1000).toFixed(2)} s`,
    `max heartbeat age ${(figures.maxHeartbeatAgeMs / 1000).toFixed(2)} s (live replicas ${(figures.maxLiveHeartbeatAgeMs / 1000).toFixed(2)} s)`,
    `max replica event-loop lag ${(figures.maxLoopLagMs / 1000).toFixed(2)} s`,
    `model requests ${figures.modelRequests}`,
    `problems ${figures.problems.length}`,
  ].join(", ");
}
