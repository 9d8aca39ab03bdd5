/** One chatd replica: start() wires every part together; close() takes it down in order. */
import { randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import fs from "node:fs";
import path from "node:path";
import { count, eq, sql } from "drizzle-orm";
import { chats } from "../db/schema/index.js";
import { createChatMetrics } from "../observability/chat-metrics.js";
import { queryRows } from "../db/raw.js";
import { fileURLToPath } from "node:url";
import { serve } from "@hono/node-server";
import type { DestinationStream } from "pino";
import { buildApp } from "../api/app.js";
import type { ApiServices } from "../api/services.js";
import { deleteExpiredSessions } from "../auth/credentials.js";
import { ACCOUNT_THROTTLE, ADDRESS_THROTTLE, LoginThrottle } from "../auth/throttle.js";
import type { ServerConfig } from "../config/config.js";
import { openDatabase, type DatabaseHandle, type QueryObserver } from "../db/client.js";
import { createLogger, type Logger } from "../observability/logger.js";
import { createMetrics, registerAgentMetrics, registerStreamMetrics } from "../observability/metrics.js";
import { createPubsub } from "../pubsub/index.js";
import type { Pubsub } from "../pubsub/pubsub.js";
import { envProviderKeys } from "../llm/providers.js";
import { ChatDaemon } from "../chatd/daemon.js";
import { McpPool } from "../mcp/pool.js";
import { ChatEventHub } from "../chatd/events.js";
import { WebSocketServer } from "ws";
import type { ChatTool } from "../chatd/tools/registry.js";
import { ReplicaRegistration } from "../replicas/registry.js";
import { SecretCipher } from "../secrets/cipher.js";
import { resolveEncryptionKey, sharedSecret, type KeySource } from "../secrets/key.js";
import { verifyEncryptionKey } from "../secrets/canary.js";
import { RelayDialer, RELAY_SECRET_NAME } from "../streams/relay.js";
import { VERSION } from "../version.js";
import { assertListenAddressFree, explainListenError } from "./listen.js";
import { AgentConnections } from "../workspaces/agent-conn/connections.js";
import { AgentDirectory } from "../workspaces/agent-conn/directory.js";
import { ForwardingClient } from "../workspaces/agent-conn/forward.js";
import { WorkspaceRuntime, type WorkspaceRuntimeTuning } from "../workspaces/runtime.js";
import { WorkspaceService } from "../workspaces/service.js";
import { WorkspaceAutostop } from "../workspaces/autostop.js";
import { workspaceTools } from "../chatd/tools/workspace/index.js";
import { serviceProvisioning } from "../chatd/tools/workspace/service-adapter.js";
import { subagentTools } from "../chatd/tools/subagents/index.js";
import { computerUseTools } from "../chatd/tools/computer-use/index.js";
import { pubsubHints } from "../chats/hints.js";
import { WorkspaceContextSource } from "../chatd/prompt/workspace-context.js";
import { loadVapidKeys } from "../webpush/keys.js";
import { vapidSubject, WebPushDispatcher } from "../webpush/dispatcher.js";
import { GitSync } from "../gitsync/sync.js";
import { GitSyncWorker } from "../gitsync/worker.js";

/** Expired sessions are swept this often; any replica may do it, the delete is idempotent. */
export const EXPIRED_SESSION_SWEEP_INTERVAL_MS = 60 * 60 * 1000;

/** In-flight requests get this long to finish on shutdown before their connections are cut. */
export const SHUTDOWN_DRAIN_TIMEOUT_MS = 10_000;

/** How a refusal names the key it checked, so the operator knows which setting to fix. */
const KEY_DESCRIPTIONS: Record<KeySource, string> = {
  config: "CHATD_ENCRYPTION_KEY (--encryption-key)",
  file: "the encryption key in the data directory (encryption.key)",
  database: "the encryption key stored in the database",
};

const PACKAGE_ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const DEFAULT_WEB_DIR = path.join(PACKAGE_ROOT, "web", "dist");

export interface StartOptions {
  /** Log destination (tests capture lines); stdout when absent. */
  logDestination?: DestinationStream;
  webDir?: string;
  /** Where provider env presets (OPENAI_API_KEY, …) are read from; process.env by default. */
  env?: Record<string, string | undefined>;
  /** Tools the chat loop offers (the workspace tools, later; tests pass their own). */
  chatTools?: readonly ChatTool[];
  /** Base of the model-call retry backoff; tests shorten it. */
  retryBaseDelayMs?: number;
  /** Sees every query (tests that assert what is read). */
  onQuery?: QueryObserver;
  /** Workspace runtime tuning: the agent command, isolation on/off (tests, benchmarks). */
  workspaces?: WorkspaceRuntimeTuning;
}

export interface RunningServer {
  /** The URL this replica listens on (`http://host:port`). */
  url: string;
  replicaId: string;
  database: DatabaseHandle;
  pubsub: Pubsub;
  log: Logger;
  /** What the API runs on; in-process parts (and tests) reach the cipher and env presets here. */
  services: ApiServices;
  daemon: ChatDaemon;
  /** Open WebSockets (viewers, relays): counted for operators, dropped to shed load or in tests. */
  webSockets: { count(): number; dropAll(): void };
  /** Graceful stop; safe to call more than once. */
  close(): Promise<void>;
}

/**
 * PostgreSQL's own data directory when it is on this machine, so local workspaces cannot read the
 * database files (PGlite's live in the data directory, which is hidden anyway). Needs a role that
 * may read server settings; without one there is nothing more to hide that we know of.
 */
async function localDatabaseDirectory(database: DatabaseHandle): Promise<string | undefined> {
  if (database.kind !== "postgres") return undefined;
  try {
    const [row] = await queryRows(database.db, sql`SELECT current_setting('data_directory') AS dir`);
    const dir = row?.dir;
    return typeof dir === "string" && dir !== "" && fs.existsSync(dir) ? dir : undefined;
  } catch {
    return undefined;
  }
}

function listenUrl(address: AddressInfo): string {
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}

export async function startServer(config: ServerConfig, options: StartOptions = {}): Promise<RunningServer> {
  const log = createLogger({ level: config.logLevel, ...(options.logDestination ? { destination: options.logDestination } : {}) });
  await assertListenAddressFree(config.listen.host, config.listen.port);
  const database = await openDatabase({
    dataDir: config.dataDir,
    databaseUrl: config.databaseUrl,
    ...(options.onQuery ? { onQuery: options.onQuery } : {}),
  });
  const cleanups: Array<() => Promise<void>> = [() => database.close()];
  const undo = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  };
  try {
    const key = await resolveEncryptionKey(config.encryptionKey, config.dataDir, database);
    if (key.source === "database") {
      log.warn(
        "CHATD_ENCRYPTION_KEY is not set: secrets at rest use a key stored in the database, so they are only as safe as the database. Set CHATD_ENCRYPTION_KEY on every replica.",
      );
    } else if (key.generated) {
      log.info({ file: path.join(config.dataDir, "encryption.key") }, "generated a new encryption key");
    }
    const cipher = new SecretCipher(key.key);
    await verifyEncryptionKey(database.db, cipher, KEY_DESCRIPTIONS[key.source]);
    const pubsub = createPubsub(database, { onError: (error, context) => log.warn({ err: error, context }, "pubsub error") });
    cleanups.push(() => pubsub.close());

    const replicaId = randomUUID();
    const metrics = createMetrics();
    // Embedded PGlite serves one process: there is no other replica to relay to or from.
    const relaySecret = database.kind === "postgres" ? (await sharedSecret(database, RELAY_SECRET_NAME)).value : undefined;
    const hub = new ChatEventHub();
    const streamStats = { slowClosed: 0, open: 0 };
    // The daemon is built after the directory that records agent calls; its running count is read
    // at scrape time through this late-bound reader.
    let runningChats = (): number => 0;
    const chatMetrics = createChatMetrics(metrics.registry, {
      activeStreams: () => streamStats.open,
      runningChats: () => runningChats(),
      queueDepth: async () => {
        const [row] = await database.db.select({ pending: count() }).from(chats).where(eq(chats.status, "pending"));
        return row?.pending ?? 0;
      },
    });
    const agentConnections = new AgentConnections({ db: database.db, pubsub, log: log.child({ component: "workspace-agents" }), replicaId });
    cleanups.push(() => agentConnections.closeAll());
    const agentDirectory = new AgentDirectory({
      db: database.db,
      pubsub,
      connections: agentConnections,
      replicaId,
      ...(relaySecret ? { forwarding: new ForwardingClient(database.db, relaySecret) } : {}),
      observeCall: (method, seconds, outcome) => chatMetrics.agentCall(method, seconds, outcome),
    });
    // ---- workspaces (templates, builds, provisioners): construction ----
    const databaseFiles = await localDatabaseDirectory(database);
    const workspaceRuntime = new WorkspaceRuntime({
      db: database.db,
      pubsub,
      log: log.child({ component: "workspaces" }),
      replicaId,
      dataDir: config.dataDir,
      ...options.workspaces,
      extraHiddenPaths: [...(options.workspaces?.extraHiddenPaths ?? []), ...(databaseFiles ? [databaseFiles] : [])],
    });
    const workspaceService = new WorkspaceService(database.db, pubsub, workspaceRuntime);
    // ---- end workspaces ----
    const providerEnvKeys = envProviderKeys(options.env ?? process.env);
    const vapid = await loadVapidKeys(database.db, cipher);
    if (vapid.generated) log.info("generated the deployment's VAPID keys for web push");
    const webpush = new WebPushDispatcher({
      db: database.db,
      cipher,
      envKeys: providerEnvKeys,
      log: log.child({ component: "webpush" }),
      keys: vapid.keys,
      subject: vapidSubject(config.accessUrl),
      ...(options.retryBaseDelayMs === undefined ? {} : { retryBaseDelayMs: options.retryBaseDelayMs }),
    });
    const services: ApiServices = {
      database,
      pubsub,
      logger: log,
      metrics,
      cipher,
      throttles: { account: new LoginThrottle(ACCOUNT_THROTTLE), address: new LoginThrottle(ADDRESS_THROTTLE) },
      secureCookies: config.accessUrl?.startsWith("https:") ?? false,
      webDir: options.webDir ?? DEFAULT_WEB_DIR,
      version: VERSION,
      providerEnvKeys,
      hub,
      streamStats,
      replicaId,
      ...(relaySecret ? { relaySecret, relay: new RelayDialer(database.db, relaySecret) } : {}),
      agents: { connections: agentConnections, directory: agentDirectory },
      workspaces: workspaceService,
      webpush,
    };
    registerAgentMetrics(metrics, { connectedAgents: () => agentConnections.count() });
    registerStreamMetrics(metrics, { droppedParts: () => hub.droppedParts, slowClosed: () => services.streamStats.slowClosed });
    const gitsync = new GitSync({ db: database.db, cipher, hints: pubsubHints(pubsub), log: log.child({ component: "gitsync" }), apiBaseUrl: config.githubApiUrl });
    const { app } = buildApp(services, { gitsync });

    // WebSocket upgrades are handled by ws without a server of its own (node-server 2 wires it).
    const wss = new WebSocketServer({ noServer: true });
    const httpServer = serve({ fetch: app.fetch, hostname: config.listen.host, port: config.listen.port, websocket: { server: wss } });
    await new Promise<void>((resolve, reject) => {
      httpServer.once("listening", resolve);
      httpServer.once("error", (error) => reject(explainListenError(error, config.listen.host, config.listen.port)));
    });
    const address = httpServer.address();
    if (address === null || typeof address === "string") throw new Error("server is not listening on a TCP port");
    const url = listenUrl(address);
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          const force = setTimeout(() => {
            if ("closeAllConnections" in httpServer) httpServer.closeAllConnections();
          }, SHUTDOWN_DRAIN_TIMEOUT_MS);
          httpServer.close(() => {
            clearTimeout(force);
            resolve();
          });
          if ("closeIdleConnections" in httpServer) httpServer.closeIdleConnections();
        }),
    );

    // Runs before the HTTP drain (cleanups run in reverse).
    cleanups.push(async () => {
      // Upgraded sockets are not the HTTP server's to drain: close them, or shutdown would wait.
      for (const client of wss.clients) client.close(1001, "server shutting down");
      wss.close();
    });
    const registration = new ReplicaRegistration(replicaId, database.db, log, {
      relayAddress: config.relayAddress ?? url,
      version: VERSION,
    });
    await registration.start();
    cleanups.push(() => registration.stop());

    // ---- workspaces: start (needs the listen URL and this replica's registration) ----
    // Closed before the registration goes: running builds end as failed, spawned agents stop.
    workspaceRuntime.setServerUrl(config.accessUrl ?? url);
    cleanups.push(() => workspaceRuntime.close());
    await workspaceRuntime.start();
    const autostop = new WorkspaceAutostop({ db: database.db, pubsub, runtime: workspaceRuntime, log: log.child({ component: "workspace-autostop" }) });
    autostop.start();
    cleanups.push(() => autostop.stop());
    // ---- end workspaces ----

    // Closed after the daemon stops (cleanups run last-in first-out), when no run calls tools.
    const mcpPool = new McpPool({
      log: log.child({ component: "mcp" }),
      connectTimeoutMs: config.mcpConnectTimeout,
      callTimeoutMs: config.mcpCallTimeout,
      idleTimeoutMs: config.mcpIdleTimeout,
    });
    cleanups.push(() => mcpPool.close());
    const daemon = new ChatDaemon({
      mcp: mcpPool,
      db: database.db,
      pubsub,
      cipher: services.cipher,
      envKeys: services.providerEnvKeys,
      log,
      workerId: replicaId,
      hub,
      metrics: chatMetrics,
      settings: {
        acquireIntervalMs: config.chatAcquireInterval,
        acquireBatchSize: config.chatAcquireBatchSize,
        heartbeatIntervalMs: config.chatHeartbeatInterval,
        staleAfterMs: config.chatStaleAfter,
        maxRunningChats: config.maxRunningChats,
      },
      tools: [
        ...(options.chatTools ?? []),
        ...workspaceTools({
          db: database.db,
          agents: agentDirectory,
          workspaces: serviceProvisioning(database.db, pubsub, workspaceService),
        }),
        ...subagentTools({ db: database.db, pubsub }),
        ...computerUseTools({
          db: database.db,
          agents: agentDirectory,
          hints: pubsubHints(pubsub),
          cipher: services.cipher,
          envKeys: services.providerEnvKeys,
        }),
      ],
      workspaceContext: new WorkspaceContextSource(agentDirectory, log.child({ component: "workspace-context" })),
      runNotifier: { runFinished: (run) => webpush.runFinished(run), drain: () => webpush.drain() },
      ...(options.retryBaseDelayMs === undefined ? {} : { retryBaseDelayMs: options.retryBaseDelayMs }),
    });
    runningChats = () => daemon.worker.runningCount;
    await daemon.start();
    // Stopped first on shutdown: running chats are handed back while everything is still open.
    cleanups.push(() => daemon.stop());

    const gitsyncWorker = new GitSyncWorker(gitsync, config.gitsyncInterval, log.child({ component: "gitsync" }));
    gitsyncWorker.start();
    cleanups.push(() => gitsyncWorker.stop());

    const sweeper = setInterval(() => {
      deleteExpiredSessions(database.db).catch((error: unknown) => log.warn({ err: error }, "expired session sweep failed"));
    }, EXPIRED_SESSION_SWEEP_INTERVAL_MS);
    sweeper.unref();
    cleanups.push(async () => clearInterval(sweeper));

    log.info({ url, database: database.kind, replica_id: replicaId, version: VERSION }, `chatd listening on ${url}`);
    let closing: Promise<void> | undefined;
    return {
      url,
      replicaId,
      database,
      pubsub,
      log,
      services,
      daemon,
      webSockets: {
        count: () => wss.clients.size,
        dropAll: () => {
          for (const client of wss.clients) client.terminate();
        },
      },
      close: () => {
        closing ??= (async () => {
          log.info("shutting down");
          await undo();
          log.info("shutdown complete");
          log.flush();
        })();
        return closing;
      },
    };
  } catch (error) {
    await undo();
    throw error;
  }
}
