/**
 * `GET /chats/{chat}/stream/desktop` against a real Local workspace, its real agent and the
 * agent's real Xvfb + x11vnc (both databases): the RFB 3.8 handshake through the bridge, the same
 * from a second replica while the agent is on the first (PostgreSQL), the refusals (401, 404,
 * 400 without a workspace, 403 for a reader without application_connect/ssh, 400 once the agent
 * is gone), and both ends of a stream's life: a viewer that closes ends the agent's bridge, an
 * agent that goes ends the viewer's socket. The handshake tests are skipped, with a warning,
 * where Xvfb is not installed; the refusals run everywhere.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chats } from "../../src/db/schema/index.js";
import { latestAgent } from "../../src/workspaces/agents.js";
import { DESKTOP_HEIGHT, DESKTOP_WIDTH } from "../../src/agent/desktop/desktop.js";
import { VNC_END_FAILED, VNC_END_SLOW, VNC_WRITE_CHUNK_BYTES } from "../../src/workspaces/agent-conn/vnc.js";
import { MAX_VIEWER_BUFFERED_BYTES } from "../../src/api/routes/vnc-bridge.js";
import type { RequestFrame } from "../../src/agent/protocol.js";
import { connectFakeAgent, seedRunningWorkspace, type FakeAgent } from "../helpers/fake-agent.js";
import { chatFixture, chatIn } from "../helpers/chats.js";
import { testDatabaseKind } from "../helpers/env.js";
import { openByteSocket, rfbHandshake, RFB_SECURITY_NONE, type ByteSocket } from "../helpers/rfb.js";
import { field, startTestServer, type TestServer, type TestUser } from "../helpers/server.js";
import { waitFor } from "../helpers/wait.js";
import { localTemplateId } from "../helpers/workspace-chat.js";
import { refusedUpgrade } from "../helpers/ws.js";

const hasXvfb = (process.env.PATH ?? "").split(":").some((dir) => existsSync(path.join(dir, "Xvfb")));
if (!hasXvfb) console.warn("desktop stream handshake tests skipped: Xvfb is not installed (apt-get install -y xvfb x11vnc xdotool)");
const postgres = testDatabaseKind() === "postgres";

/** A Local workspace builds and starts a tsx-compiled agent: generous for a loaded CI machine. */
const WORKSPACE_READY_MS = 60_000;
/** The first open starts Xvfb and x11vnc; later ones reuse them. */
const HANDSHAKE_TEST_MS = 60_000;
/** Closes travel viewer → server → agent → x11vnc and back; seconds would mean a leak. */
const CLOSE_DEADLINE_MS = 15_000;

let a: TestServer;
let b: TestServer | undefined;
let owner: TestUser;
let member: TestUser;
let other: TestUser;
let admin: TestUser;
let workspaceId = "";
let agentId = "";
/** The member's chat in the member's workspace. */
let chatId = "";
const sockets: ByteSocket[] = [];

const desktopPath = (chat: string) => `/api/experimental/chats/${chat}/stream/desktop`;
const auth = (user: TestUser) => ({ Authorization: `Bearer ${user.token}` });

async function connect(server: TestServer, user: TestUser): Promise<ByteSocket> {
  const socket = await openByteSocket(`${server.url}${desktopPath(chatId)}`, auth(user));
  sockets.push(socket);
  return socket;
}

/** A chat owned by `ownerId`, in `workspace` (or none). */
async function chatFor(ownerId: string, workspace: string | null): Promise<string> {
  const db = a.server.database.db;
  const chat = await chatIn(db, await chatFixture(db), "waiting");
  await db.update(chats).set({ ownerId, workspaceId: workspace }).where(eq(chats.id, chat.id));
  return chat.id;
}

beforeAll(async () => {
  a = await startTestServer();
  if (postgres) b = await startTestServer({ database: a.database });
  owner = await a.createOwner();
  member = await a.createUser(owner);
  other = await a.createUser(owner);
  admin = await a.createUser(owner, ["admin"]);
  const created = await a.request("/api/v2/workspaces", { method: "POST", token: member.token, body: { template_id: await localTemplateId(a, member), name: "desktop-stream" } });
  expect(created.status, created.text).toBe(201);
  workspaceId = String(field(created.body, "id"));
  await waitFor(
    async () => {
      const workspace = await a.request(`/api/v2/workspaces/${workspaceId}`, { token: member.token });
      return field(workspace.body, "status") === "running" && field(field(workspace.body, "agent"), "status") === "connected";
    },
    { timeoutMs: WORKSPACE_READY_MS, intervalMs: 50, message: "workspace running with its agent connected" },
  );
  const agent = await latestAgent(a.server.database.db, workspaceId);
  if (!agent) throw new Error("no agent row");
  agentId = agent.id;
  expect(agent.replicaId).toBe(a.server.replicaId);
  chatId = await chatFor(member.id, workspaceId);
}, WORKSPACE_READY_MS + 30_000);

afterAll(async () => {
  for (const socket of sockets) socket.ws.terminate();
  await b?.close();
  await a?.close();
});

describe("refusals before the upgrade", () => {
  it("answers 401 without a credential and 404 to a member who cannot read the chat", async () => {
    expect(await refusedUpgrade(`${a.url}${desktopPath(chatId)}`, {})).toBe(401);
    expect(await refusedUpgrade(`${a.url}${desktopPath(chatId)}`, auth(other))).toBe(404);
  });

  it("answers 400 for a chat without a workspace", async () => {
    const bare = await chatFor(member.id, null);
    expect(await refusedUpgrade(`${a.url}${desktopPath(bare)}`, auth(member))).toBe(400);
  });

  it("answers 403 to an admin, who may read the member's chat but holds neither application_connect nor ssh on the workspace", async () => {
    expect((await a.request(`/api/experimental/chats/${chatId}`, { token: admin.token })).status).toBe(200);
    expect(await refusedUpgrade(`${a.url}${desktopPath(chatId)}`, auth(admin))).toBe(403);
  });
});

describe.skipIf(!hasXvfb)("the RFB handshake through the bridge", () => {
  it(
    "reaches the agent's x11vnc: version, security None, ServerInit at the desktop's size",
    async () => {
      const viewer = await connect(a, member);
      const init = await rfbHandshake(viewer);
      expect(init.version).toBe("RFB 003.008\n");
      expect(init.securityTypes).toContain(RFB_SECURITY_NONE);
      expect({ width: init.width, height: init.height }).toEqual({ width: 1280, height: 720 });
      expect({ width: init.width, height: init.height }).toEqual({ width: DESKTOP_WIDTH, height: DESKTOP_HEIGHT });
      viewer.ws.close();
      await viewer.closed;
    },
    HANDSHAKE_TEST_MS,
  );

  it.runIf(postgres)(
    "works from replica B while the agent is connected to replica A",
    async () => {
      if (!b) throw new Error("no second replica");
      expect((await latestAgent(a.server.database.db, workspaceId))?.replicaId).toBe(a.server.replicaId);
      const viewer = await connect(b, member);
      const init = await rfbHandshake(viewer);
      expect(init.version).toBe("RFB 003.008\n");
      expect({ width: init.width, height: init.height }).toEqual({ width: 1280, height: 720 });
      // The stream is A's (the agent's link is there); B holds none.
      expect(a.server.services.agents.connections.vncStreamCount(agentId)).toBe(1);
      expect(b.server.services.agents.connections.vncStreamCount(agentId)).toBe(0);
      viewer.ws.close();
      await viewer.closed;
      await waitFor(() => a.server.services.agents.connections.vncStreamCount(agentId) === 0, {
        timeoutMs: CLOSE_DEADLINE_MS,
        message: "A's stream closed after the viewer on B left",
      });
    },
    HANDSHAKE_TEST_MS,
  );

  it(
    "ends the agent's bridge when the viewer closes",
    async () => {
      const connections = a.server.services.agents.connections;
      await waitFor(() => connections.vncStreamCount(agentId) === 0, { timeoutMs: CLOSE_DEADLINE_MS, message: "earlier streams gone" });
      const first = await connect(a, member);
      const second = await connect(a, member);
      await rfbHandshake(first);
      await rfbHandshake(second);
      expect(connections.vncStreamCount(agentId)).toBe(2);
      first.ws.close();
      await first.closed;
      // The count drops only when the agent reports the bridge closed (its `closed: true` frame).
      await waitFor(() => connections.vncStreamCount(agentId) === 1, { timeoutMs: CLOSE_DEADLINE_MS, message: "the agent closed the first bridge" });
      // The other viewer is untouched: x11vnc still answers it (a FramebufferUpdateRequest of one pixel).
      second.write(Uint8Array.of(3, 0, 0, 0, 0, 0, 0, 1, 0, 1));
      const update = await second.read(4);
      expect(update.readUInt8(0)).toBe(0);
      second.ws.close();
      await second.closed;
      await waitFor(() => connections.vncStreamCount(agentId) === 0, { timeoutMs: CLOSE_DEADLINE_MS, message: "the agent closed the second bridge" });
    },
    HANDSHAKE_TEST_MS,
  );
});

/** The `stream_id` param of a desktop.vnc.* request. */
function streamIdOf(request: RequestFrame | undefined): string {
  const params = request?.params;
  const id = typeof params === "object" && params !== null && "stream_id" in params ? params.stream_id : undefined;
  if (typeof id !== "string") throw new Error(`no stream_id in ${JSON.stringify(request)}`);
  return id;
}

/** A chat of the member's in a seeded workspace whose agent is a protocol-level fake. */
async function fakeAgentChat(): Promise<{ agent: FakeAgent; chat: string }> {
  const db = a.server.database.db;
  const seeded = await seedRunningWorkspace(db, member.id);
  const agent = await connectFakeAgent(a.url, seeded.token, () => ({ result: {} }));
  await waitFor(async () => (await latestAgent(db, seeded.workspace.id))?.replicaId === a.server.replicaId, { message: "fake agent recorded" });
  return { agent, chat: await chatFor(member.id, seeded.workspace.id) };
}

describe("the bridge with a protocol-level agent", () => {
  it("relays viewer input in order, split into writes the agent accepts", async () => {
    const { agent, chat } = await fakeAgentChat();
    const viewer = await openByteSocket(`${a.url}${desktopPath(chat)}`, auth(member));
    sockets.push(viewer);
    await waitFor(() => agent.requests.some((r) => r.method === "desktop.vnc.open"), { message: "stream opened" });
    const streamId = streamIdOf(agent.requests.find((r) => r.method === "desktop.vnc.open"));
    agent.send({ type: "vnc", stream_id: streamId, data_base64: Buffer.from("RFB 003.008\n").toString("base64") });
    expect((await viewer.read(12)).toString("latin1")).toBe("RFB 003.008\n");
    const big = Buffer.alloc(VNC_WRITE_CHUNK_BYTES * 2 + 10, 0);
    for (let i = 0; i < big.length; i++) big[i] = i % 251;
    viewer.write(Uint8Array.of(1, 2, 3));
    viewer.write(big);
    const written = () => Buffer.concat(agent.requests.filter((r) => r.method === "desktop.vnc.write").map((r) => {
      const params = r.params;
      const data = typeof params === "object" && params !== null && "data_base64" in params && typeof params.data_base64 === "string" ? params.data_base64 : "";
      return Buffer.from(data, "base64");
    }));
    await waitFor(() => written().length === big.length + 3, { message: "every input byte reached the agent" });
    expect(written().equals(Buffer.concat([Buffer.of(1, 2, 3), big]))).toBe(true);
    expect(agent.requests.filter((r) => r.method === "desktop.vnc.write")).toHaveLength(4);
    // The agent's end of the stream closes the viewer normally.
    agent.send({ type: "vnc", stream_id: streamId, data_base64: "", closed: true });
    expect(await viewer.closed).toBe(1000);
    agent.close();
    await agent.closed;
  });

  it("cuts a viewer that stops reading with 1013 instead of buffering x11vnc's output", async () => {
    const { agent, chat } = await fakeAgentChat();
    const viewer = await openByteSocket(`${a.url}${desktopPath(chat)}`, auth(member));
    sockets.push(viewer);
    await waitFor(() => agent.requests.some((r) => r.method === "desktop.vnc.open"), { message: "stream opened" });
    const streamId = streamIdOf(agent.requests.find((r) => r.method === "desktop.vnc.open"));
    // The viewer reads nothing from here on, so the server's unsent bytes grow.
    viewer.ws.pause();
    const frame = { type: "vnc" as const, stream_id: streamId, data_base64: Buffer.alloc(VNC_WRITE_CHUNK_BYTES, 7).toString("base64") };
    const cut = () => agent.requests.some((r) => r.method === "desktop.vnc.close");
    // Far more than the cap plus what the kernel's socket buffers can hold, sent as fast as the agent's own socket drains.
    const budget = MAX_VIEWER_BUFFERED_BYTES * 4;
    let sent = 0;
    while (!cut() && sent < budget) {
      if (agent.bufferedAmount() > VNC_WRITE_CHUNK_BYTES * 16) await new Promise<void>((resolve) => setImmediate(resolve));
      else {
        agent.send(frame);
        sent += VNC_WRITE_CHUNK_BYTES;
      }
    }
    await waitFor(cut, { timeoutMs: CLOSE_DEADLINE_MS, message: "the server closed the stream on the agent" });
    expect(sent).toBeGreaterThan(MAX_VIEWER_BUFFERED_BYTES);
    viewer.ws.resume();
    expect(await viewer.closed).toBe(VNC_END_SLOW);
    agent.close();
    await agent.closed;
  });
});

// Last: it stops the workspace.
describe("when the agent goes", () => {
  it(
    "closes the viewer's socket, and later viewers get 400",
    async () => {
      const viewers: ByteSocket[] = [];
      if (hasXvfb) {
        viewers.push(await connect(a, member));
        if (b) viewers.push(await connect(b, member));
        for (const viewer of viewers) await rfbHandshake(viewer);
      }
      const stop = await a.request(`/api/v2/workspaces/${workspaceId}/builds`, { method: "POST", token: member.token, body: { transition: "stop" } });
      expect(stop.status, stop.text).toBe(201);
      for (const viewer of viewers) expect(await viewer.closed).toBe(VNC_END_FAILED);
      expect(a.server.services.agents.connections.vncStreamCount(agentId)).toBe(0);
      await waitFor(async () => ((await latestAgent(a.server.database.db, workspaceId))?.replicaId ?? null) === null, {
        timeoutMs: CLOSE_DEADLINE_MS,
        message: "the agent is no longer connected anywhere",
      });
      expect(await refusedUpgrade(`${a.url}${desktopPath(chatId)}`, auth(member))).toBe(400);
      if (b) expect(await refusedUpgrade(`${b.url}${desktopPath(chatId)}`, auth(member))).toBe(400);
    },
    HANDSHAKE_TEST_MS,
  );
});
