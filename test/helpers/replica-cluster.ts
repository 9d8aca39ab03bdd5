/**
 * N `chatd server` child processes on one PostgreSQL database, each with its own data directory,
 * that a test can SIGKILL and restart one at a time. A replica is known by its database id (its
 * `replicas` row, found by the URL it advertises), which is what a chat's `worker_id` holds.
 */
import path from "node:path";
import { eq } from "drizzle-orm";
import type { Database } from "../../src/db/client.js";
import { replicas } from "../../src/db/schema/index.js";
import { runChatd, type ChatdProcess } from "./process.js";
import { waitFor } from "./wait.js";

/** The replica row is written during start-up, before "running at" is printed; this is slack. */
const REPLICA_ROW_TIMEOUT_MS = 10_000;
/** A SIGKILLed process is gone within milliseconds; a deadline keeps a hang from hiding. */
const KILL_TIMEOUT_MS = 10_000;

export interface Replica {
  index: number;
  process: ChatdProcess;
  url: string;
  /** The `replicas.id` of this incarnation (a restart gets a new one). */
  id: string;
}

export interface ClusterOptions {
  db: Database;
  databaseUrl: string;
  dataDir: string;
  /** Extra `CHATD_*` settings for every replica. */
  env: Record<string, string>;
}

export class ReplicaCluster {
  readonly #replicas: Replica[] = [];
  /** Output (logs on stdout, errors on stderr) of every incarnation that ended, for a failing run's report. */
  readonly #ended: string[] = [];

  constructor(private readonly options: ClusterOptions) {}

  get replicas(): readonly Replica[] {
    return this.#replicas;
  }

  async start(count: number): Promise<void> {
    const started = await Promise.all(Array.from({ length: count }, (_, index) => this.#spawn(index)));
    this.#replicas.push(...started);
  }

  async #spawn(index: number): Promise<Replica> {
    const child = runChatd(["server"], {
      CHATD_LISTEN: "127.0.0.1:0",
      CHATD_DATA_DIR: path.join(this.options.dataDir, `replica-${index}`),
      CHATD_DATABASE_URL: this.options.databaseUrl,
      CHATD_LOG_LEVEL: "warn",
      ...this.options.env,
    });
    const url = await child.started;
    let id: string | undefined;
    await waitFor(
      async () => {
        const [row] = await this.options.db.select({ id: replicas.id }).from(replicas).where(eq(replicas.relayAddress, url));
        id = row?.id;
        return id !== undefined;
      },
      { timeoutMs: REPLICA_ROW_TIMEOUT_MS, intervalMs: 20, message: `replica ${index} registered at ${url}` },
    );
    if (id === undefined) throw new Error(`replica ${index} has no row`);
    return { index, process: child, url, id };
  }

  /** SIGKILLs replica `index` and resolves once the process is gone, with the incarnation killed. */
  async kill(index: number): Promise<Replica> {
    const replica = this.#at(index);
    const exited = replica.process.stop("SIGKILL");
    const timeout = new Promise<never>((_resolve, reject) => {
      setTimeout(() => reject(new Error(`replica ${index} did not die within ${KILL_TIMEOUT_MS} ms`)), KILL_TIMEOUT_MS).unref();
    });
    await Promise.race([exited, timeout]);
    this.#ended.push(`replica ${index} (${replica.id}):\n${replica.process.stdout()}${replica.process.stderr()}`);
    return replica;
  }

  /** Starts a new incarnation of replica `index` on the same data directory. */
  async restart(index: number): Promise<Replica> {
    const replica = await this.#spawn(index);
    this.#replicas[index] = replica;
    return replica;
  }

  #at(index: number): Replica {
    const replica = this.#replicas[index];
    if (!replica) throw new Error(`no replica ${index}`);
    return replica;
  }

  /** Output of every incarnation, ended and live: what to print when a run fails. */
  logs(): string {
    const live = this.#replicas.map((replica) => `replica ${replica.index} (${replica.id}, live):\n${replica.process.stdout()}${replica.process.stderr()}`);
    return [...this.#ended, ...live].join("\n");
  }

  async stop(): Promise<void> {
    await Promise.all(this.#replicas.map((replica) => replica.process.stop("SIGTERM")));
  }
}
