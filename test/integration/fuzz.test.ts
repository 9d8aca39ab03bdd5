/**
 * Fuzz (issue 11's reliability suite): thousands of generated requests over every route of the
 * OpenAPI document, plus the routes registered outside it (file download, WebSocket endpoints
 * refused before the upgrade, agent and relay endpoints), as admin, member, nobody and a broken
 * credential. Each request is spoiled somehow: wrong types, missing fields, 1 MiB strings, NUL
 * and lone surrogates, bad and foreign ids, invalid JSON, odd content types and query strings,
 * and bodies over the 4 MiB JSON and 10 MiB upload limits.
 *
 * Asserted: no 5xx; no connection closed without an answer (node:http, so a 413 read before the
 * server closes still counts as an answer); and no refused (4xx) request changes the database,
 * checked by snapshotting every table before and after each batch (helpers/db-snapshot.ts).
 * The seed is printed; CHATD_FUZZ_SEED=<seed> replays a run, CHATD_FUZZ_REQUESTS=<n> resizes it.
 */
import http from "node:http";
import { count, isNull } from "drizzle-orm";
import { afterAll, beforeAll, expect, it } from "vitest";
import { workspaceBuilds } from "../../src/db/schema/index.js";
import { JSON_BODY_LIMIT_BYTES } from "../../src/api/app.js";
import { MAX_CHAT_FILE_BYTES } from "../../src/chats/files.js";
import { startApiWorld, type ApiWorld } from "../helpers/api-world.js";
import { changedTables, snapshotDatabase, type DatabaseSnapshot } from "../helpers/db-snapshot.js";
import { fuzzRequest, UPLOAD_PATH, type FuzzContext, type FuzzRequest } from "../helpers/fuzz-requests.js";
import { describeRequest, FuzzTally, runBatch, type FuzzResult } from "../helpers/fuzz-run.js";
import { operationsOf, type Operation } from "../helpers/fuzz-schema.js";
import { createPrng, seedFromEnv, type Prng } from "../helpers/prng.js";
import { waitFor } from "../helpers/wait.js";

/** Issue 11 asks for at least 5,000 (replays of refused requests not counted). */
const DEFAULT_REQUESTS = 5_000;
/**
 * Requests between two database snapshots (one query, a few ms). Small, because a batch whose
 * accepted write changed the database has its refused requests replayed on their own.
 */
const BATCH_SIZE = 12;
/** In flight at once: enough to interleave handlers, few enough for two shared CPU cores. */
const CONCURRENCY = 6;
/** The whole run, both databases: well over what it takes, short enough to end a hang. */
const RUN_TIMEOUT_MS = 240_000;

let world: ApiWorld;
let tokens: Record<"admin" | "member", string>;

beforeAll(async () => {
  world = await startApiWorld();
  // API tokens, not sessions: a fuzzed logout must not log the fuzzing callers out.
  tokens = { admin: (await world.apiToken(world.admin)).key, member: (await world.apiToken(world.member)).key };
});
afterAll(async () => {
  await world?.close();
});

const op = (method: string, path: string, pathParams: string[] = [], needsLogin = true): Operation => ({ method, path, pathParams, query: [], needsLogin });

/** Routes registered on the app directly, so absent from the OpenAPI document. */
const EXTRA_OPERATIONS: readonly Operation[] = [
  op("GET", "/api/experimental/chats/files/{file}", ["file"]),
  op("GET", "/api/experimental/chats/watch"),
  { ...op("GET", "/api/experimental/chats/{chat}/stream", ["chat"]), query: [{ name: "after_id", schema: {} }, { name: "after_part", schema: {} }] },
  op("GET", "/api/experimental/chats/{chat}/stream/git", ["chat"]),
  op("GET", "/api/v2/workspaceagents/me/connect"),
  { ...op("GET", "/api/v2/workspaceagents/me/gitauth"), query: [{ name: "url", schema: {} }, { name: "chat_id", schema: {} }] },
  { ...op("POST", "/api/internal/agents/{agent}/rpc", ["agent"]), body: { type: "object", properties: { method: { type: "string" } } } },
  op("GET", "/api/internal/relay/chats/{chat}/parts", ["chat"]),
  op("GET", "/api/openapi.json", [], false),
  op("GET", "/metrics", [], false),
  op("POST", "/healthz", [], false),
  op("GET", "/api/v2/no-such-route", [], false),
];

function fuzzContext(): FuzzContext {
  const { ids, admin, member, other, spare, owner } = world;
  return {
    tokens,
    pool: (operation, param) => {
      switch (param) {
        case "user":
          // Callers' own ids only where a success cannot lock them out (reads; `me` is refused
          // for self-suspension and self role changes).
          return operation.method === "GET"
            ? ["me", admin.id, member.id, other.username, spare.id, owner.username]
            : ["me", other.id, spare.username, owner.id];
        case "chat":
          return [ids.memberChat, ids.otherChat, ids.adminChat];
        case "workspace":
          return [ids.memberWorkspace];
        case "build":
          return [ids.memberBuild];
        case "file":
          return [ids.memberFile];
        case "template":
          return [ids.template, ids.templateName, "local"];
        case "group":
          return [ids.group, ids.groupName];
        case "message":
          return [String(ids.memberMessage)];
        case "provider":
          return ["github"];
        case "agent":
          return [ids.memberWorkspace];
        case "id":
          if (operation.path.includes("/keys/")) return [ids.spareKey];
          if (operation.path.includes("/providers/")) return [ids.provider];
          if (operation.path.includes("/model-configs/")) return [ids.modelConfig];
          return [String(ids.memberQueued)];
        default:
          return [];
      }
    },
    hints: (property, rng) => {
      switch (property) {
        case "template_id":
          return ids.template;
        case "workspace_id":
          return rng.pick([ids.memberWorkspace, rng.uuid()]);
        case "model_config_id":
          return ids.modelConfig;
        case "file_id":
          return ids.memberFile;
        case "user_id":
          return rng.pick([spare.id, other.username]);
        case "provider":
          return rng.pick(["anthropic", "openai", "google", "openai-compat"]);
        case "email":
          return `fz${rng.int(0, 1e9)}@example.com`;
        case "password":
          return "password-fuzz-123";
        case "text":
          return "hello";
        case "roles":
          return ["member"];
        case "access_token":
          return "ghp_fuzz000";
        case "base_url":
          return "http://127.0.0.1:9/v1";
        // A pattern that backtracks exponentially, and a value that makes it (a template's
        // default, a workspace's parameter): the server must answer, not freeze.
        case "validation_regex":
          return rng.pick(["^(a+)+$", "(", "^https://"]);
        case "default":
          return rng.pick([`${"a".repeat(40)}!`, "https://example.com", 3, true]);
        default:
          return undefined;
      }
    },
  };
}

/** Bodies past the limits: the server must read them, answer 413 with its error shape, then close. */
function oversizedRequests(rng: Prng, operations: readonly Operation[], first: number): FuzzRequest[] {
  const auth = { Authorization: `Bearer ${tokens.member}` };
  const jsonRoutes = operations.filter((o) => o.body !== undefined && o.pathParams.length === 0);
  const overJson = (size: number) => `{"name":"${"x".repeat(size)}"}`;
  const png = (size: number) => {
    const bytes = new Uint8Array(size);
    bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    return bytes;
  };
  const upload = (size: number, chunked: boolean, strategy: string): Omit<FuzzRequest, "index"> => ({
    actor: "member",
    operation: `POST ${UPLOAD_PATH}`,
    method: "POST",
    path: UPLOAD_PATH,
    headers: { ...auth, "Content-Type": "image/png" },
    body: png(size),
    ...(chunked ? { chunked } : {}),
    strategy,
  });
  const json = (route: Operation, size: number, chunked: boolean): Omit<FuzzRequest, "index"> => ({
    actor: "member",
    operation: `${route.method} ${route.path}`,
    method: route.method,
    path: route.path,
    headers: { ...auth, "Content-Type": "application/json" },
    body: overJson(size),
    ...(chunked ? { chunked } : {}),
    strategy: `json body of ${size} bytes${chunked ? ", chunked" : ""}`,
  });
  const requests: Array<Omit<FuzzRequest, "index">> = [
    upload(MAX_CHAT_FILE_BYTES + 1, false, "upload one byte over the limit"),
    upload(MAX_CHAT_FILE_BYTES + 1, true, "upload one byte over the limit, chunked"),
    upload(2 * MAX_CHAT_FILE_BYTES, false, "upload of twice the limit"),
    upload(2 * MAX_CHAT_FILE_BYTES, true, "upload of twice the limit, chunked"),
    json(rng.pick(jsonRoutes), JSON_BODY_LIMIT_BYTES + 1, false),
    json(rng.pick(jsonRoutes), JSON_BODY_LIMIT_BYTES + 1, true),
    json(rng.pick(jsonRoutes), 3 * JSON_BODY_LIMIT_BYTES, false),
    json(rng.pick(jsonRoutes), 3 * JSON_BODY_LIMIT_BYTES, true),
    { ...json(op("GET", "/api/v2/users/me"), JSON_BODY_LIMIT_BYTES + 1, true), strategy: "GET with a body over the JSON limit" },
    { ...json(op("POST", "/healthz", [], false), 2 * JSON_BODY_LIMIT_BYTES, false), strategy: "outside /api, a body over the JSON limit" },
  ];
  return requests.map((request, offset) => ({ ...request, index: first + offset }));
}

/** Builds run in the background after an accepted create, start or stop: wait until they end. */
async function quiesce(): Promise<void> {
  const { db } = world.t.server.database;
  await waitFor(async () => (await db.select({ n: count() }).from(workspaceBuilds).where(isNull(workspaceBuilds.completedAt)))[0]?.n === 0, {
    timeoutMs: 20_000,
    intervalMs: 20,
    message: "workspace builds started by accepted fuzz requests",
  });
}

const isAcceptedWrite = (result: FuzzResult) => result.outcome.kind === "answered" && result.outcome.status < 400 && result.request.method !== "GET";
const isRefused = (result: FuzzResult) => result.outcome.kind === "answered" && result.outcome.status >= 400 && result.outcome.status < 500;

it(
  "answers every fuzzed request with a non-5xx status, never drops a connection, and changes nothing when it refuses",
  async () => {
    const seed = seedFromEnv();
    const database = world.t.database.location.kind;
    console.log(`fuzz seed ${seed} on ${database} (replay with CHATD_FUZZ_SEED=${seed})`);
    const rng = createPrng(seed);
    const document = (await world.t.request("/api/openapi.json")).body;
    const operations = [...operationsOf(document), ...EXTRA_OPERATIONS];
    const context = fuzzContext();
    const total = Number(process.env.CHATD_FUZZ_REQUESTS ?? DEFAULT_REQUESTS);
    if (!Number.isSafeInteger(total) || total < 1) throw new Error(`CHATD_FUZZ_REQUESTS must be a positive integer, not ${process.env.CHATD_FUZZ_REQUESTS}`);

    const requests: FuzzRequest[] = [];
    while (requests.length < total) {
      // Every operation once per round, in a fresh order each round.
      const round = rng.shuffle(operations);
      for (const operation of round) if (requests.length < total) requests.push(fuzzRequest(requests.length, operation, context, rng));
    }
    // Spread through the run, so a connection a 413 spoils is followed by ordinary requests.
    for (const oversized of oversizedRequests(rng, operations, requests.length)) requests.splice(rng.int(0, requests.length), 0, oversized);

    // Keep-alive, as browsers and the SDK use it: a connection closed under the next request shows.
    const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    const tally = new FuzzTally();
    const serverErrors: string[] = [];
    const dropped: string[] = [];
    const writesOnRefusal: string[] = [];
    const { db } = world.t.server.database;
    const snapshot = async () => {
      const started = performance.now();
      const taken = await snapshotDatabase(db);
      tally.snapshotMs += performance.now() - started;
      return taken;
    };
    let before: DatabaseSnapshot = await snapshot();

    const check = async (batch: readonly FuzzRequest[], retry: boolean): Promise<void> => {
      const results = await runBatch(world.t.url, batch, agent, CONCURRENCY);
      for (const result of results) {
        tally.record(result.outcome);
        if (result.outcome.kind === "no_answer") dropped.push(`${describeRequest(result.request)} → ${result.outcome.error}`);
        else if (result.outcome.status >= 500) serverErrors.push(`${describeRequest(result.request)} → ${result.outcome.status} ${result.outcome.text.slice(0, 200)}`);
      }
      const accepted = results.filter(isAcceptedWrite);
      const refused = results.filter(isRefused);
      tally.acceptedWrites += accepted.length;
      if (accepted.length > 0) await quiesce();
      const after = await snapshot();
      const changed = changedTables(before, after);
      before = after;
      // Nothing changed (accepted writes included, say a logout by API token): all checked.
      if (changed.length === 0) {
        tally.verifiedRefusals += refused.length;
        return;
      }
      if (accepted.length === 0) {
        writesOnRefusal.push(`${changed.join(", ")} changed by one of:\n    ${results.map((r) => describeRequest(r.request)).join("\n    ")}`);
        return;
      }
      // Their batch had a real write, so replay the refused ones on their own to check them.
      tally.replays += retry ? refused.length : 0;
      if (retry) await check(refused.map((r) => r.request), false);
      else tally.unverifiedRefusals += refused.length;
    };

    for (let start = 0; start < requests.length; start += BATCH_SIZE) await check(requests.slice(start, start + BATCH_SIZE), true);
    agent.destroy();

    console.log(tally.summary(database, seed));
    const report = (title: string, lines: string[]) => `${title} (seed ${seed}):\n  ${lines.slice(0, 20).join("\n  ")}`;
    expect(serverErrors, report("5xx answers", serverErrors)).toEqual([]);
    expect(dropped, report("connections closed without an answer", dropped)).toEqual([]);
    expect(writesOnRefusal, report("refused requests that changed the database", writesOnRefusal)).toEqual([]);
    expect(tally.requests - tally.replays).toBeGreaterThanOrEqual(Math.min(total, 5_000));
  },
  RUN_TIMEOUT_MS,
);
