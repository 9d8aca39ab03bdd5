/**
 * Running fuzz requests and keeping score: a batch runner with bounded concurrency, the tally
 * the test prints (requests, statuses by class, time), and the one-line description of a request
 * that a failure report needs to reproduce it.
 */
import type http from "node:http";
import type { FuzzRequest } from "./fuzz-requests.js";
import { rawRequest, type RawOutcome } from "./raw-http.js";

export interface FuzzResult {
  request: FuzzRequest;
  outcome: RawOutcome;
}

/** Sends `requests` with at most `concurrency` in flight; results keep the input order. */
export async function runBatch(baseUrl: string, requests: readonly FuzzRequest[], agent: http.Agent, concurrency: number): Promise<FuzzResult[]> {
  const results: FuzzResult[] = new Array<FuzzResult>(requests.length);
  let next = 0;
  const worker = async () => {
    while (next < requests.length) {
      const index = next++;
      const request = requests[index];
      if (request === undefined) continue;
      results[index] = { request, outcome: await rawRequest(baseUrl, request, agent) };
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, requests.length) }, worker));
  return results;
}

/** Short enough for a report line, long enough to recognize the input. */
const EXCERPT_LENGTH = 160;

function excerpt(value: string | Uint8Array | undefined): string {
  if (value === undefined) return "none";
  const text = typeof value === "string" ? value : `<${value.byteLength} bytes>`;
  const shown = text.length > EXCERPT_LENGTH ? `${text.slice(0, EXCERPT_LENGTH)}… (${text.length} chars)` : text;
  return JSON.stringify(shown);
}

export function describeRequest(request: FuzzRequest): string {
  const path = request.path.length > EXCERPT_LENGTH ? `${request.path.slice(0, EXCERPT_LENGTH)}…` : request.path;
  const type = request.headers?.["Content-Type"] ?? "none";
  return `#${request.index} ${request.actor} ${request.method} ${path} [${request.strategy}] content-type=${type}${request.chunked ? " chunked" : ""} body=${excerpt(request.body)}`;
}

export class FuzzTally {
  readonly started = performance.now();
  requests = 0;
  readonly byClass = new Map<string, number>();
  readonly byStatus = new Map<number, number>();
  /** Refused requests whose batch was compared before and after (the database-unchanged check). */
  verifiedRefusals = 0;
  /** Refused requests that shared a batch with an accepted write twice, so were not compared. */
  unverifiedRefusals = 0;
  acceptedWrites = 0;
  /** Refused requests sent a second time, in a batch of their own (counted in `requests`). */
  replays = 0;
  /** Time spent fingerprinting the database, part of the total. */
  snapshotMs = 0;

  record(outcome: RawOutcome): void {
    this.requests += 1;
    const key = outcome.kind === "no_answer" ? "no answer" : `${Math.floor(outcome.status / 100)}xx`;
    this.byClass.set(key, (this.byClass.get(key) ?? 0) + 1);
    if (outcome.kind === "answered") this.byStatus.set(outcome.status, (this.byStatus.get(outcome.status) ?? 0) + 1);
  }

  summary(database: string, seed: number): string {
    const seconds = (performance.now() - this.started) / 1000;
    const classes = [...this.byClass].sort().map(([key, n]) => `${key}: ${n}`).join(", ");
    const statuses = [...this.byStatus].sort((a, b) => a[0] - b[0]).map(([status, n]) => `${status}×${n}`).join(" ");
    return [
      `fuzz on ${database}, seed ${seed}: ${this.requests} requests in ${seconds.toFixed(1)} s (${(this.requests / seconds).toFixed(0)}/s; ${(this.snapshotMs / 1000).toFixed(1)} s of it in database snapshots)`,
      `  by class: ${classes}`,
      `  by status: ${statuses}`,
      `  refused and checked against a database snapshot: ${this.verifiedRefusals}; not checked (a write was accepted beside them twice): ${this.unverifiedRefusals}; accepted writes: ${this.acceptedWrites}; replayed: ${this.replays}`,
    ].join("\n");
  }
}
