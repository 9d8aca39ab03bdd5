/** The transport-agnostic stream followers (sdk/follow.ts) against fake sockets and a fake API. */
import { afterEach, describe, expect, it } from "vitest";
import { ChatdClient, ChatdError } from "../../src/sdk/client.js";
import {
  followChat,
  followWatch,
  RECONNECT_INITIAL_DELAY_MS,
  type SocketEvent,
  type SocketEventType,
  type WebSocketLike,
} from "../../src/sdk/follow.js";
import type { ChatWatchEvent, StreamEvent } from "../../src/sdk/schemas/index.js";

const CHAT_ID = "0f8e2a51-3c6d-4e7f-8a9b-0c1d2e3f4a5b";
const USER_ID = "1f8e2a51-3c6d-4e7f-8a9b-0c1d2e3f4a5b";
const NOW = "2026-01-01T10:00:00.000Z";

class FakeSocket implements WebSocketLike {
  readonly #listeners = new Map<SocketEventType, Set<(event: SocketEvent) => void>>();
  closed = false;

  constructor(readonly url: string) {}

  addEventListener(type: SocketEventType, listener: (event: SocketEvent) => void): void {
    const set = this.#listeners.get(type) ?? new Set();
    set.add(listener);
    this.#listeners.set(type, set);
  }

  removeEventListener(type: SocketEventType, listener: (event: SocketEvent) => void): void {
    this.#listeners.get(type)?.delete(listener);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    queueMicrotask(() => this.#emit("close", { type: "close", code: 1000 }));
  }

  #emit(type: SocketEventType, event: SocketEvent): void {
    for (const listener of [...(this.#listeners.get(type) ?? [])]) listener(event);
  }

  listenerCount(): number {
    return [...this.#listeners.values()].reduce((n, set) => n + set.size, 0);
  }

  open(): void {
    this.#emit("open", { type: "open" });
  }

  frame(frame: { type: "ping" | "data" | "error"; data?: unknown }): void {
    this.#emit("message", { type: "message", data: JSON.stringify(frame) });
  }

  raw(data: unknown): void {
    this.#emit("message", { type: "message", data });
  }

  /** The server went away (or refused the upgrade, when the socket never opened). */
  drop(): void {
    this.closed = true;
    this.#emit("error", { type: "error", message: "socket hang up" });
    this.#emit("close", { type: "close", code: 1006 });
  }
}

/** Sockets the follower opened, in order, and a way to wait for the next one. */
function fakeSockets() {
  const sockets: FakeSocket[] = [];
  const waiters: Array<() => void> = [];
  return {
    sockets,
    connect: (url: string) => {
      const socket = new FakeSocket(url);
      sockets.push(socket);
      waiters.splice(0).forEach((wake) => wake());
      return socket;
    },
    /** Resolves with socket number `n` (1-based) once it exists. */
    async nth(n: number): Promise<FakeSocket> {
      for (;;) {
        const socket = sockets[n - 1];
        if (socket) return socket;
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    },
  };
}

/** A client whose API answers `GET path` with `answer()`; records every path asked. */
function fakeClient(answer: (path: string) => Response | Promise<Response>) {
  const asked: string[] = [];
  const fetch: typeof globalThis.fetch = async (input) => {
    const path = new URL(String(input)).pathname;
    asked.push(path);
    return answer(path);
  };
  return { client: new ChatdClient({ baseUrl: "https://chatd.test", token: "tok", fetch }), asked };
}

const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });

const part = (episode: string, seq: number, text: string): StreamEvent => ({
  type: "message_part",
  chat_id: CHAT_ID,
  message_part: { role: "assistant", part: { type: "text", text }, episode, seq },
});
const message = (id: number, text: string): StreamEvent => ({
  type: "message",
  chat_id: CHAT_ID,
  message: { id, chat_id: CHAT_ID, created_by: null, model_config_id: null, created_at: NOW, role: "assistant", content: [{ type: "text", text }] },
});
const status = (value: "running" | "waiting"): StreamEvent => ({ type: "status", chat_id: CHAT_ID, status: { status: value } });

const query = (socket: FakeSocket) => Object.fromEntries(new URL(socket.url).searchParams);
const describeEvent = (event: StreamEvent) =>
  event.type === "message_part"
    ? `part ${event.message_part.episode}:${event.message_part.seq}`
    : event.type === "message"
      ? `message ${event.message.id}`
      : event.type === "preview_reset"
        ? `reset ${event.preview_reset.episode}`
        : event.type;

const stops: AbortController[] = [];
afterEach(() => stops.splice(0).forEach((stop) => stop.abort()));
function stopper(): AbortController {
  const stop = new AbortController();
  stops.push(stop);
  return stop;
}

describe("followChat", () => {
  it("reconnects with its cursor and delivers no event twice", async () => {
    const { sockets, connect, nth } = fakeSockets();
    const { client } = fakeClient(() => json(200, {}));
    const stop = stopper();
    const seen: string[] = [];
    const reconnects: number[] = [];
    const done = followChat(client, CHAT_ID, {
      signal: stop.signal,
      connect,
      onEvent: (event) => seen.push(describeEvent(event)),
      onReconnect: (delay) => reconnects.push(delay),
    });

    const first = await nth(1);
    expect(first.url).toBe(`wss://chatd.test/api/experimental/chats/${CHAT_ID}/stream?after_id=0`);
    first.open();
    first.frame({ type: "ping" });
    first.frame({ type: "data", data: [status("running"), message(5, "hi"), part("ep1", 1, "a"), part("ep1", 2, "b")] });
    first.drop();

    const second = await nth(2);
    expect(query(second)).toEqual({ after_id: "5", after_part: "ep1:2" });
    second.open();
    // A server that resends what the client has: the parts pass the gate once.
    second.frame({ type: "data", data: [status("running"), part("ep1", 2, "b"), part("ep1", 3, "c")] });
    second.frame({ type: "data", data: [{ type: "preview_reset", chat_id: CHAT_ID, preview_reset: { episode: "ep2" } }, part("ep2", 1, "x")] });
    second.drop();

    const third = await nth(3);
    expect(query(third)).toEqual({ after_id: "5", after_part: "ep2:1" });
    third.open();
    third.frame({ type: "data", data: [{ type: "preview_reset", chat_id: CHAT_ID, preview_reset: { episode: "ep3" } }] });
    third.drop();

    const fourth = await nth(4);
    // After a reset the cursor is the new episode's start, so the server sends no second reset.
    expect(query(fourth)).toEqual({ after_id: "5", after_part: "ep3:0" });
    stop.abort();
    await done;

    expect(seen).toEqual([
      "status",
      "message 5",
      "part ep1:1",
      "part ep1:2",
      "status",
      "part ep1:3",
      "reset ep2",
      "part ep2:1",
      "reset ep3",
    ]);
    // Every connection opened, so each drop retries after the initial delay again.
    expect(reconnects).toEqual([RECONNECT_INITIAL_DELAY_MS, RECONNECT_INITIAL_DELAY_MS, RECONNECT_INITIAL_DELAY_MS]);
    expect(sockets).toHaveLength(4);
  });

  it("ignores frames it cannot read and events it does not know", async () => {
    const { connect, nth } = fakeSockets();
    const { client } = fakeClient(() => json(200, {}));
    const stop = stopper();
    const seen: StreamEvent[] = [];
    const done = followChat(client, CHAT_ID, { signal: stop.signal, connect, onEvent: (event) => seen.push(event) });
    const socket = await nth(1);
    socket.open();
    socket.raw("not json");
    socket.raw(new Uint8Array([1, 2, 3]));
    socket.frame({ type: "error", data: { message: "failed to read chat updates" } });
    socket.frame({ type: "data", data: [{ type: "future_event", chat_id: CHAT_ID }, message(7, "ok")] });
    stop.abort();
    await done;
    expect(seen.map(describeEvent)).toEqual(["message 7"]);
  });

  it("stops with the API's error when a socket that never opened belongs to a refused chat", async () => {
    const { sockets, connect, nth } = fakeSockets();
    const { client, asked } = fakeClient(() => json(404, { message: "Chat not found." }));
    const done = followChat(client, CHAT_ID, { signal: stopper().signal, connect, onEvent: () => undefined });
    (await nth(1)).drop();
    const error = await done.then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(ChatdError);
    expect(error).toMatchObject({ status: 404, message: "Chat not found." });
    expect(asked).toEqual([`/api/experimental/chats/${CHAT_ID}`]);
    expect(sockets).toHaveLength(1);
  });

  it("keeps retrying, with growing delays, while the refusal is not the chat's (server down, 5xx)", async () => {
    const { connect, nth } = fakeSockets();
    let calls = 0;
    const { client } = fakeClient(() => {
      calls += 1;
      if (calls === 1) throw new TypeError("fetch failed");
      return json(503, { message: "Starting." });
    });
    const stop = stopper();
    const reconnects: number[] = [];
    const done = followChat(client, CHAT_ID, { signal: stop.signal, connect, onEvent: () => undefined, onReconnect: (delay) => reconnects.push(delay) });
    (await nth(1)).drop();
    (await nth(2)).drop();
    const third = await nth(3);
    third.open();
    stop.abort();
    await done;
    expect(reconnects).toEqual([RECONNECT_INITIAL_DELAY_MS, RECONNECT_INITIAL_DELAY_MS * 2]);
    expect(third.closed).toBe(true);
  });

  it("stops when aborted, connected or waiting to reconnect, and leaves no listener behind", async () => {
    const { connect, nth } = fakeSockets();
    const { client } = fakeClient(() => json(200, {}));
    const connected = stopper();
    const first = followChat(client, CHAT_ID, { signal: connected.signal, connect, onEvent: () => undefined });
    const socket = await nth(1);
    socket.open();
    connected.abort();
    await first;
    expect(socket.closed).toBe(true);
    expect(socket.listenerCount()).toBe(0);

    const waiting = stopper();
    const started = Date.now();
    const second = followChat(client, CHAT_ID, {
      signal: waiting.signal,
      connect,
      onEvent: () => undefined,
      onReconnect: () => queueMicrotask(() => waiting.abort()),
    });
    const next = await nth(2);
    next.open();
    next.drop();
    await second;
    expect(Date.now() - started).toBeLessThan(RECONNECT_INITIAL_DELAY_MS);

    const already = new AbortController();
    already.abort();
    await followChat(client, CHAT_ID, { signal: already.signal, connect, onEvent: () => undefined });
  });
});

describe("followWatch", () => {
  const watchChat = { id: CHAT_ID, owner_id: USER_ID, title: "t", status: "running", created_at: NOW, updated_at: NOW, parent_chat_id: null, root_chat_id: CHAT_ID, workspace_id: null, archived: false };

  it("announces every (re)connection at its first frame and parses events", async () => {
    const { connect, nth } = fakeSockets();
    const { client } = fakeClient(() => json(200, {}));
    const stop = stopper();
    const log: string[] = [];
    const events: ChatWatchEvent[] = [];
    const done = followWatch(client, {
      signal: stop.signal,
      connect,
      onOpen: () => log.push("open"),
      onEvent: (event) => {
        events.push(event);
        log.push(event.kind);
      },
    });
    const first = await nth(1);
    expect(first.url).toBe("wss://chatd.test/api/experimental/chats/watch");
    first.open();
    expect(log).toEqual([]);
    first.frame({ type: "ping" });
    first.frame({ type: "data", data: { kind: "status_change", chat: watchChat } });
    first.frame({ type: "data", data: { kind: "renamed", chat: watchChat } });
    first.frame({ type: "ping" });
    first.drop();
    const second = await nth(2);
    second.open();
    second.frame({ type: "ping" });
    second.frame({ type: "data", data: { kind: "diff_status_change", chat: { ...watchChat, diff_status: { chat_id: CHAT_ID, url: "https://github.com/o/r/tree/b" } } } });
    stop.abort();
    await done;
    expect(log).toEqual(["open", "status_change", "open", "diff_status_change"]);
    expect(events[1]?.chat.diff_status?.url).toBe("https://github.com/o/r/tree/b");
  });

  it("stops when the session is refused, asking who the caller is", async () => {
    const { connect, nth } = fakeSockets();
    const { client, asked } = fakeClient(() => json(401, { message: "You must be logged in to do this." }));
    const done = followWatch(client, { signal: stopper().signal, connect, onEvent: () => undefined });
    (await nth(1)).drop();
    await expect(done).rejects.toMatchObject({ status: 401 });
    expect(asked).toEqual(["/api/v2/users/me"]);
  });
});
