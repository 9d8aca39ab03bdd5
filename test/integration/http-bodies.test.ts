/**
 * Request bodies and the connection they arrive on (issue 11 defects 1 and 2): every request
 * is answered, including those refused before their body matters (401, 404) and those over a
 * body limit (413, after the body was read), and the client can read that answer: no EPIPE, no
 * "socket hang up", no keep-alive connection closed under the next request. Also: NUL
 * characters, which no text column can store, are refused with 400 instead of failing with 500.
 */
import http from "node:http";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JSON_BODY_LIMIT_BYTES } from "../../src/api/app.js";
import { DRAIN_LIMIT_BYTES } from "../../src/api/body-limit.js";
import { MAX_CHAT_FILE_BYTES } from "../../src/chats/files.js";
import { rawRequest, sendWholeThenRead, type RawOutcome, type RawRequest } from "../helpers/raw-http.js";
import { field, startTestServer, validationFields, type TestServer, type TestUser } from "../helpers/server.js";

const UPLOAD = "/api/experimental/chats/files";
const MODEL_CONFIGS = "/api/experimental/chats/model-configs";
/** Larger than the kernel's socket buffers, so an unread body is still on the wire at the answer. */
const UNREAD_BODY_BYTES = 3 * 1024 * 1024;

let t: TestServer;
let owner: TestUser;

beforeAll(async () => {
  t = await startTestServer();
  owner = await t.createOwner();
});
afterAll(async () => {
  await t.close();
});

function png(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return bytes;
}

/** The answer, or a failure naming how the connection ended without one. */
function answered(outcome: RawOutcome): Extract<RawOutcome, { kind: "answered" }> {
  if (outcome.kind === "no_answer") throw new Error(`no answer: ${outcome.error}`);
  return outcome;
}

const send = (request: RawRequest, agent?: http.Agent) => rawRequest(t.url, request, agent).then(answered);

/** `body` framed as one HTTP/1.1 chunk and the final empty one. */
function chunkedFrame(body: Uint8Array): Uint8Array {
  const head = Buffer.from(`${body.byteLength.toString(16)}\r\n`);
  return Buffer.concat([head, body, Buffer.from("\r\n0\r\n\r\n")]);
}

/**
 * Sends the whole request before reading, sized or chunked, asking the server to close after
 * its answer; returns the raw answer.
 */
function wholeRequest(method: string, path: string, headers: Record<string, string>, body: Uint8Array, chunked = false): Promise<string> {
  const lines = [`${method} ${path} HTTP/1.1`, "Host: chatd", "Connection: close", ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`)];
  lines.push(chunked ? "Transfer-Encoding: chunked" : `Content-Length: ${body.byteLength}`);
  return sendWholeThenRead(t.url, `${lines.join("\r\n")}\r\n\r\n`, chunked ? chunkedFrame(body) : body);
}

/** The status line, the Connection header and the JSON message of a raw answer. */
function parsed(answer: string): { status: number; connection: string | undefined; message: unknown } {
  const [head = "", payload = ""] = answer.split("\r\n\r\n");
  const connection = /^connection: (.*)$/im.exec(head)?.[1];
  let message: unknown;
  try {
    message = field(JSON.parse(payload), "message");
  } catch {
    message = undefined;
  }
  return { status: Number(head.split(" ")[1]), connection, message };
}

describe("bodies over the limit", () => {
  it("answers an upload over 10 MiB with 413 and the error shape, sized or chunked, read by a client still sending, then closes", async () => {
    for (const chunked of [false, true]) {
      const answer = parsed(await wholeRequest("POST", UPLOAD, { Authorization: `Bearer ${owner.token}`, "Content-Type": "image/png" }, png(2 * MAX_CHAT_FILE_BYTES), chunked));
      expect(answer, `chunked: ${chunked}`).toEqual({ status: 413, connection: "close", message: "File too large." });
    }
    // One byte over is over.
    const justOver = await send({ method: "POST", path: UPLOAD, headers: { Authorization: `Bearer ${owner.token}`, "Content-Type": "image/png" }, body: png(MAX_CHAT_FILE_BYTES + 1) });
    expect(justOver.status).toBe(413);
  });

  it("answers a JSON body over 4 MiB with 413 the same way, whatever the caller", async () => {
    const body = Buffer.from(`{"name":"${"x".repeat(3 * JSON_BODY_LIMIT_BYTES)}"}`);
    const callers: Array<Record<string, string>> = [{ Authorization: `Bearer ${owner.token}` }, {}];
    for (const chunked of [false, true]) {
      for (const headers of callers) {
        const answer = parsed(await wholeRequest("POST", "/api/v2/groups", { ...headers, "Content-Type": "application/json" }, body, chunked));
        expect(answer.status).toBe(413);
        expect(String(answer.message)).toMatch(/too large/);
      }
    }
  });

  it("refuses at once a body declared larger than it would ever read", async () => {
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(Number(new URL(t.url).port), "127.0.0.1");
      let text = "";
      socket.on("data", (chunk: Buffer) => (text += chunk.toString("utf8")));
      socket.on("end", () => resolve(text));
      socket.on("error", reject);
      socket.write(`POST /api/v2/groups HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${DRAIN_LIMIT_BYTES + 1}\r\n\r\n{"name":`);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 413/);
    expect(answer).toMatch(/too large/);
  });
});

describe("bodies nobody needed", () => {
  it("answers requests refused before their body is read (401, 404) to a client still sending it", async () => {
    const body = Buffer.from(`{"provider":"anthropic","model":"${"m".repeat(UNREAD_BODY_BYTES)}"}`);
    const anonymous = parsed(await wholeRequest("POST", MODEL_CONFIGS, { "Content-Type": "application/json" }, body));
    expect(anonymous.status).toBe(401);
    const unknownRoute = parsed(await wholeRequest("PATCH", "/api/v2/no-such-route", { Authorization: `Bearer ${owner.token}` }, body));
    expect(unknownRoute.status).toBe(404);
  });

  it("keeps a keep-alive connection usable after a refusal whose body was not needed", async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (let attempt = 0; attempt < 5; attempt++) {
        // Issue 11 defect 2: a fuzzed model config refused before its body was read.
        const refused = await send({ method: "POST", path: MODEL_CONFIGS, headers: { "Content-Type": "application/json" }, body: "{'a':1}".repeat(50_000) }, agent);
        expect(refused.status).toBe(401);
        const refusedToo = await send({ method: "DELETE", path: "/api/v2/external-auth/github", headers: { "Content-Type": "application/json" }, body: "{'a':1}".repeat(50_000) }, agent);
        expect(refusedToo.status).toBe(401);
        expect((await send({ method: "GET", path: "/healthz" }, agent)).status).toBe(200);
      }
    } finally {
      agent.destroy();
    }
  });
});

describe("NUL characters", () => {
  const auth = () => ({ Authorization: `Bearer ${owner.token}`, "Content-Type": "application/json" });

  it("refuses a NUL in a path or query parameter with 400 naming it, before any query", async () => {
    const path = await send({ method: "PUT", path: "/api/v2/users/%00/status/activate", headers: auth() });
    expect(path.status).toBe(400);
    expect(validationFields(path.json)).toEqual(["path.user"]);
    expect((await send({ method: "GET", path: "/api/v2/templates/a%00b", headers: auth() })).status).toBe(400);
    expect((await send({ method: "DELETE", path: "/api/v2/groups/a%00b/members/me", headers: auth() })).status).toBe(400);
    const query = await send({ method: "GET", path: "/api/v2/workspaces?q=a%00", headers: auth() });
    expect(query.status).toBe(400);
    expect(validationFields(query.json)).toEqual(["query.q"]);
  });

  it("refuses a NUL anywhere in a JSON body with 400 naming the field, and stores nothing", async () => {
    const response = await send({ method: "POST", path: MODEL_CONFIGS, headers: auth(), body: JSON.stringify({ provider: "anthropic", model: "a\u0000b", context_limit: 1000 }) });
    expect(response.status).toBe(400);
    expect(validationFields(response.json)).toEqual(["model"]);
    const nested = await send({ method: "POST", path: "/api/v2/templates", headers: auth(), body: JSON.stringify({ name: "nul", parameters: [{ name: "p", type: "string", description: "\u0000" }] }) });
    expect(validationFields(nested.json)).toEqual(["parameters.0.description"]);
    const key = await send({ method: "POST", path: "/api/v2/groups", headers: auth(), body: JSON.stringify({ name: "nul", "x\u0000": 1 }) });
    expect(key.status).toBe(400);
    expect((await t.request(MODEL_CONFIGS, { token: owner.token })).body).toEqual([]);
  });
});
