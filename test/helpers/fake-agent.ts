/**
 * A protocol-level stand-in for `chatd agent`: dials the connect endpoint with a token, says hello,
 * and answers requests with a handler the test gives. For tests of the server side of the agent
 * link (auth, forwarding, disconnects) without processes or files.
 */
import WebSocket from "ws";
import { AGENT_CONNECT_PATH, requestFrame, type AgentToServerFrame, type GitWatchMessage, type RequestFrame } from "../../src/agent/protocol.js";
import { safeJson } from "../../src/util/parse.js";
import { and, eq } from "drizzle-orm";
import type { Database } from "../../src/db/client.js";
import { templates, workspaceBuilds, workspaces } from "../../src/db/schema/index.js";
import { issueAgent } from "../../src/workspaces/agents.js";

export type FakeAnswer = { result: unknown } | { error: { code: "not_found" | "bad_request" | "internal" | "unknown_method"; message: string } } | "silent";

export interface FakeAgent {
  requests: RequestFrame[];
  /** Pushes a git watch message on a stream the server opened. */
  push(streamId: string, data: GitWatchMessage): void;
  /** Sends any agent frame (a `vnc` frame, say), as the real agent would. */
  send(frame: AgentToServerFrame): void;
  /** Bytes queued on the agent's socket: a test that floods the server waits while this is high. */
  bufferedAmount(): number;
  close(): void;
  closed: Promise<void>;
}

export async function connectFakeAgent(url: string, token: string, answer: (request: RequestFrame) => FakeAnswer | Promise<FakeAnswer>): Promise<FakeAgent> {
  const ws = new WebSocket(`${url.replace(/^http/, "ws")}${AGENT_CONNECT_PATH}`, { headers: { Authorization: `Bearer ${token}` } });
  const requests: RequestFrame[] = [];
  const closed = new Promise<void>((resolve) => ws.once("close", () => resolve()));
  ws.on("message", (data: WebSocket.RawData) => {
    const frame = requestFrame.safeParse(safeJson(data.toString()));
    if (!frame.success) return;
    requests.push(frame.data);
    void Promise.resolve(answer(frame.data)).then((reply) => {
      if (reply === "silent") return;
      const body = "result" in reply ? { ok: true, result: reply.result } : { ok: false, error: reply.error };
      ws.send(JSON.stringify({ type: "response", id: frame.data.id, ...body }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("unexpected-response", (_request, response) => reject(new Error(`agent connect refused: ${response.statusCode}`)));
    ws.once("error", reject);
  });
  ws.send(JSON.stringify({ type: "hello", protocol: 1, version: "test", os: "linux", directory: "/fake" }));
  return {
    requests,
    push: (streamId, data) => ws.send(JSON.stringify({ type: "stream", stream_id: streamId, data })),
    send: (frame) => ws.send(JSON.stringify(frame)),
    bufferedAmount: () => ws.bufferedAmount,
    close: () => ws.close(),
    closed,
  };
}

/** A workspace with a succeeded start build and its agent's token, written straight to the database. */
export async function seedRunningWorkspace(db: Database, ownerId: string, name = `ws-${Math.random().toString(16).slice(2, 8)}`) {
  let [template] = await db.select().from(templates).where(and(eq(templates.name, "fake-agent-test"), eq(templates.deleted, false)));
  template ??= (await db.insert(templates).values({ name: "fake-agent-test", provisioner: "command" }).returning())[0];
  if (!template) throw new Error("no template");
  const [workspace] = await db.insert(workspaces).values({ ownerId, templateId: template.id, name }).returning();
  if (!workspace) throw new Error("no workspace");
  const [build] = await db
    .insert(workspaceBuilds)
    .values({ workspaceId: workspace.id, buildNumber: 1, transition: "start", status: "succeeded" })
    .returning();
  if (!build) throw new Error("no build");
  const { agent, token } = await issueAgent(db, { workspaceId: workspace.id, buildId: build.id });
  return { workspace, build, agent, token };
}
