/**
 * A stand-in for the chatd server's side of the workspace agent protocol: accepts agent
 * WebSockets at AGENT_CONNECT_PATH (401 for a wrong token), answers AGENT_GIT_AUTH_PATH, and lets
 * a test send typed requests and wait for responses and stream frames with deadlines.
 * Every frame the agent sends is parsed with the protocol's schema; anything else is recorded in
 * `invalidFrames` for the test to assert empty.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import type { z } from "zod";
import {
  AGENT_CONNECT_PATH,
  AGENT_GIT_AUTH_PATH,
  agentMethods,
  agentToServerFrame,
  type AgentMethod,
  type AgentParams,
  type AgentResult,
  type AgentToServerFrame,
  type GitWatchMessage,
  type helloFrame,
  type responseFrame,
} from "../../src/agent/protocol.js";
import { deferred, waitFor, type Deferred } from "./wait.js";

export type HelloFrame = z.infer<typeof helloFrame>;
export type ResponseFrame = z.infer<typeof responseFrame>;
export interface Scope {
  chat_id?: string;
  ancestor_chat_ids?: string[];
}

/** An `ok: false` response, as an exception. */
export class AgentCallError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

type Rpc = { [M in AgentMethod]: (params: AgentParams<M>, scope?: Scope) => Promise<AgentResult<M>> };

export interface AgentLink {
  hello: HelloFrame;
  frames: AgentToServerFrame[];
  /** Sends a request and resolves with the raw response frame. */
  request(method: string, params: unknown, scope?: Scope): Promise<ResponseFrame>;
  /** Typed calls: resolve with the parsed result, reject with AgentCallError. */
  rpc: Rpc;
  sendText(text: string): void;
  stream(streamId: string): GitWatchMessage[];
  waitForStream(streamId: string, count: number, message: string): Promise<GitWatchMessage[]>;
  /** Cuts the TCP connection without a close frame. */
  terminate(): void;
  /** Closes with a close frame carrying `code` (the real server's refusals). */
  closeWith(code: number, reason: string): void;
  closed: Promise<void>;
}

export interface FakeAgentServer {
  url: string;
  links: AgentLink[];
  /** The next agent connection (in arrival order) once its hello is in. */
  nextLink(timeoutMs?: number): Promise<AgentLink>;
  invalidFrames: string[];
  refusedUpgrades: number;
  gitAuthRequests: { query: URLSearchParams; authorization: string | undefined }[];
  close(): Promise<void>;
}

export interface FakeAgentServerOptions {
  token: string;
  /** Git credentials by remote URL; others answer 404. */
  credentials?: Record<string, { username: string; password: string }>;
  /** Extra HTTP routes (a fake git remote): return true when the request was answered. */
  route?: (request: IncomingMessage, response: ServerResponse) => boolean;
}

function resultCaller<P extends z.ZodType, R extends z.ZodType>(
  request: AgentLink["request"],
  method: AgentMethod,
  spec: { params: P; result: R },
): (params: z.input<P>, scope?: Scope) => Promise<z.output<R>> {
  return async (params, scope) => {
    const response = await request(method, params, scope);
    if (!response.ok) throw new AgentCallError(response.error.code, response.error.message);
    return spec.result.parse(response.result);
  };
}

function makeRpc(request: AgentLink["request"]): Rpc {
  const m = agentMethods;
  return {
    ping: resultCaller(request, "ping", m.ping),
    "process.start": resultCaller(request, "process.start", m["process.start"]),
    "process.list": resultCaller(request, "process.list", m["process.list"]),
    "process.output": resultCaller(request, "process.output", m["process.output"]),
    "process.signal": resultCaller(request, "process.signal", m["process.signal"]),
    "file.read": resultCaller(request, "file.read", m["file.read"]),
    "file.write": resultCaller(request, "file.write", m["file.write"]),
    "file.edit": resultCaller(request, "file.edit", m["file.edit"]),
    "instructions.read": resultCaller(request, "instructions.read", m["instructions.read"]),
    "git.watch.start": resultCaller(request, "git.watch.start", m["git.watch.start"]),
    "git.watch.refresh": resultCaller(request, "git.watch.refresh", m["git.watch.refresh"]),
    "git.watch.stop": resultCaller(request, "git.watch.stop", m["git.watch.stop"]),
    "desktop.start": resultCaller(request, "desktop.start", m["desktop.start"]),
    "desktop.action": resultCaller(request, "desktop.action", m["desktop.action"]),
    "desktop.stop": resultCaller(request, "desktop.stop", m["desktop.stop"]),
    "desktop.vnc.open": resultCaller(request, "desktop.vnc.open", m["desktop.vnc.open"]),
    "desktop.vnc.write": resultCaller(request, "desktop.vnc.write", m["desktop.vnc.write"]),
    "desktop.vnc.close": resultCaller(request, "desktop.vnc.close", m["desktop.vnc.close"]),
  };
}

function makeLink(socket: WebSocket, hello: HelloFrame, invalid: string[]): AgentLink & { receive(frame: AgentToServerFrame): void } {
  const frames: AgentToServerFrame[] = [];
  const pending = new Map<number, Deferred<ResponseFrame>>();
  let nextId = 1;
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  void closed.then(() => {
    for (const waiter of pending.values()) waiter.reject(new Error("agent connection closed"));
  });
  const request: AgentLink["request"] = (method, params, scope = {}) => {
    const id = nextId++;
    const waiter = deferred<ResponseFrame>();
    pending.set(id, waiter);
    socket.send(JSON.stringify({ type: "request", id, method, params, ...scope }));
    return waiter.promise;
  };
  const stream = (streamId: string) => frames.flatMap((frame) => (frame.type === "stream" && frame.stream_id === streamId ? [frame.data] : []));
  return {
    hello,
    frames,
    request,
    rpc: makeRpc(request),
    sendText: (text) => socket.send(text),
    stream,
    waitForStream: async (streamId, count, message) => {
      await waitFor(() => stream(streamId).length >= count, { message, timeoutMs: 15_000 });
      return stream(streamId);
    },
    terminate: () => socket.terminate(),
    closeWith: (code, reason) => socket.close(code, reason),
    closed,
    receive: (frame) => {
      frames.push(frame);
      if (frame.type !== "response") return;
      const waiter = pending.get(frame.id);
      if (!waiter) invalid.push(`response to unknown request ${frame.id}`);
      pending.delete(frame.id);
      waiter?.resolve(frame);
    },
  };
}

export async function startFakeAgentServer(options: FakeAgentServerOptions): Promise<FakeAgentServer> {
  const links: AgentLink[] = [];
  const invalidFrames: string[] = [];
  const gitAuthRequests: FakeAgentServer["gitAuthRequests"] = [];
  let refusedUpgrades = 0;
  let consumed = 0;

  const http = createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://fake");
    if (url.pathname === AGENT_GIT_AUTH_PATH) {
      gitAuthRequests.push({ query: url.searchParams, authorization: request.headers.authorization });
      const credentials = options.credentials?.[url.searchParams.get("url") ?? ""];
      if (request.headers.authorization !== `Bearer ${options.token}`) response.writeHead(401).end();
      else if (!credentials) response.writeHead(404, { "content-type": "application/json" }).end('{"message":"no token"}');
      else response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(credentials));
      return;
    }
    if (options.route?.(request, response)) return;
    response.writeHead(404).end();
  });
  const wss = new WebSocketServer({ noServer: true });
  http.on("upgrade", (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (new URL(request.url ?? "/", "http://fake").pathname !== AGENT_CONNECT_PATH) {
      socket.destroy();
      return;
    }
    if (request.headers.authorization !== `Bearer ${options.token}`) {
      refusedUpgrades++;
      socket.end("HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      let link: ReturnType<typeof makeLink> | undefined;
      ws.on("message", (data) => {
        const text = data.toString();
        const parsed = agentToServerFrame.safeParse(JSON.parse(text));
        if (!parsed.success) {
          invalidFrames.push(text);
          return;
        }
        if (!link) {
          if (parsed.data.type !== "hello") {
            invalidFrames.push(`first frame was not hello: ${text}`);
            return;
          }
          link = makeLink(ws, parsed.data, invalidFrames);
          links.push(link);
          return;
        }
        link.receive(parsed.data);
      });
    });
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const address = http.address();
  if (address === null || typeof address === "string") throw new Error("the fake server has no TCP address");
  return {
    url: `http://127.0.0.1:${address.port}`,
    links,
    nextLink: async (timeoutMs = 15_000) => {
      await waitFor(() => links.length > consumed, { message: "an agent connection with its hello", timeoutMs });
      const link = links[consumed++];
      if (!link) throw new Error("no link");
      return link;
    },
    invalidFrames,
    get refusedUpgrades() {
      return refusedUpgrades;
    },
    gitAuthRequests,
    close: async () => {
      for (const client of wss.clients) client.terminate();
      wss.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
