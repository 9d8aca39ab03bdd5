/**
 * The SDK's client methods and stream followers against the real server: every path, body and
 * status code the web UI relies on, parsed with the wire schemas.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChatdClient, ChatdError } from "../../src/sdk/client.js";
import { followChat, followWatch, type ChatWatchEvent, type StreamEvent } from "../../src/sdk/stream.js";
import { configureAnthropicModel, startTestServer, type TestServer } from "../helpers/server.js";
import { useMockLlm } from "../helpers/llm.js";

const mock = useMockLlm();
let t: TestServer;
const PASSWORD = "a-long-password-for-sdk";
const PNG = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52]);
const UNKNOWN = "00000000-0000-4000-8000-000000000000";

beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.close();
});

/** Resolves with the first error a promise rejects with (fails when it resolves). */
async function refusal(promise: Promise<unknown>): Promise<ChatdError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!(error instanceof ChatdError)) throw new Error(`expected a ChatdError, got ${String(error)}`);
  return error;
}

let session: ChatdClient;

describe("ChatdClient", () => {
  it("creates the first user, logs in by email or username, manages API keys and logs out", async () => {
    const anonymous = new ChatdClient({ baseUrl: t.url });
    expect(anonymous.authorization).toBeUndefined();
    expect(await anonymous.firstUserExists()).toBe(false);
    const invalid = await refusal(anonymous.createFirstUser({ username: "sdk-owner", email: "not-an-email", password: "short" }));
    expect(invalid.status).toBe(400);
    expect(invalid.validations.map((problem) => problem.field)).toEqual(["email", "password"]);

    const owner = await anonymous.createFirstUser({ username: "sdk-owner", email: "sdk@example.com", password: PASSWORD });
    expect(owner.roles).toContain("owner");
    expect(await anonymous.firstUserExists()).toBe(true);
    expect((await refusal(anonymous.createFirstUser({ username: "other", email: "o@example.com", password: PASSWORD }))).status).toBe(409);

    const byEmail = await anonymous.login({ login: "sdk@example.com", password: PASSWORD });
    const byUsername = await anonymous.login({ login: "SDK-owner", password: PASSWORD });
    expect(byEmail.session_token).not.toBe(byUsername.session_token);
    expect(await refusal(anonymous.login({ login: "sdk-owner", password: "wrong-password" }))).toMatchObject({ status: 401, message: "Incorrect email or password." });
    expect((await refusal(anonymous.me())).status).toBe(401);

    session = new ChatdClient({ baseUrl: `${t.url}/`, token: byEmail.session_token });
    expect((await session.me()).id).toBe(owner.id);
    const created = await session.createKey({ name: "sdk" });
    expect(created.key.startsWith(`${created.id}-`)).toBe(true);
    expect((await session.listKeys()).map((key) => [key.id, key.name])).toContainEqual([created.id, "sdk"]);
    const scripted = new ChatdClient({ baseUrl: t.url, token: created.key });
    expect((await scripted.me()).username).toBe("sdk-owner");
    await session.deleteKey(created.id);
    expect((await refusal(scripted.me())).status).toBe(401);
    expect((await refusal(session.deleteKey(created.id))).status).toBe(404);

    const other = new ChatdClient({ baseUrl: t.url, token: byUsername.session_token });
    await other.logout();
    expect((await refusal(other.me())).status).toBe(401);
    expect((await session.me()).id).toBe(owner.id);
  });

  it("runs a chat: create, watch, follow, history, send, edit, queue, archive, files, prompt, models", async () => {
    const me = await session.me();
    const token = (session.authorization ?? "").replace(/^Bearer /, "");
    await configureAnthropicModel(t, { ...me, password: PASSWORD, token }, mock.baseUrls.anthropic);
    expect((await session.chatModels()).providers.find((provider) => provider.provider === "anthropic")?.available).toBe(true);
    expect((await session.modelConfigs()).map((config) => config.model)).toEqual(["claude-sonnet-4-5"]);

    const stopWatch = new AbortController();
    const watched: ChatWatchEvent[] = [];
    let watchOpened: () => void = () => undefined;
    const opened = new Promise<void>((resolve) => (watchOpened = resolve));
    const watching = followWatch(session, { signal: stopWatch.signal, onOpen: () => watchOpened(), onEvent: (event) => watched.push(event) });
    await opened;

    const chat = await session.createChat({ content: [{ type: "text", text: "hello from the sdk" }] });
    expect(chat.status).toBe("pending");
    const events: StreamEvent[] = [];
    const stop = new AbortController();
    let sawRunning = false;
    await followChat(session, chat.id, {
      signal: stop.signal,
      onEvent: (event) => {
        events.push(event);
        if (event.type !== "status") return;
        if (event.status.status === "running") sawRunning = true;
        if (sawRunning && event.status.status === "waiting") stop.abort();
      },
    });
    expect(events.some((event) => event.type === "message_part")).toBe(true);
    expect(events.filter((event) => event.type === "message").map((event) => event.type === "message" && event.message.role)).toEqual(["user", "assistant"]);
    expect(watched.some((event) => event.kind === "created" && event.chat.id === chat.id)).toBe(true);

    expect((await session.listChats()).map((listed) => listed.id)).toEqual([chat.id]);
    expect(await session.listChats({ limit: 1, afterId: chat.id })).toEqual([]);
    const history = await session.messages(chat.id);
    expect(history.has_more).toBe(false);
    const userMessage = history.messages.find((message) => message.role === "user");
    expect(userMessage?.content[0]?.text).toBe("hello from the sdk");

    const sent = await session.sendMessage(chat.id, { content: [{ type: "text", text: "second" }] });
    expect(sent.queued ? sent.queued_message?.content[0]?.text : sent.message?.content[0]?.text).toBe("second");
    const edited = await session.editMessage(chat.id, userMessage?.id ?? 0, { content: [{ type: "text", text: "hello again" }] });
    expect(edited.content[0]?.text).toBe("hello again");
    // The edit made the chat pending again; a pending chat is left to run, a running one stops.
    expect(["pending", "waiting"]).toContain((await session.interrupt(chat.id)).status);
    await session.deleteQueued(chat.id, 999_999);
    expect((await refusal(session.promoteQueued(chat.id, 999_999))).status).toBe(404);

    await session.updateChat(chat.id, { archived: true });
    expect((await session.listChats({ archived: true })).map((listed) => listed.id)).toEqual([chat.id]);
    expect(await session.listChats({ archived: false })).toEqual([]);
    expect((await session.getChat(chat.id)).archived).toBe(true);

    const upload = await session.uploadFile(new Blob([PNG], { type: "image/png" }), "shot ü's.png");
    const served = await fetch(session.fileUrl(upload.id), { headers: { Authorization: session.authorization ?? "" } });
    expect(served.status).toBe(200);
    expect(served.headers.get("Content-Type")).toBe("image/png");
    expect(served.headers.get("Content-Disposition")).toContain("filename*=UTF-8''shot%20%C3%BC%27s.png");
    expect((await refusal(session.uploadFile(new Blob(["<svg/>"], { type: "image/svg+xml" }), "x.svg"))).status).toBe(400);

    expect(await session.putUserPrompt("  Be brief.  ")).toEqual({ custom_prompt: "Be brief." });
    expect(await session.getUserPrompt()).toEqual({ custom_prompt: "Be brief." });
    expect(Array.isArray(await session.workspaces())).toBe(true);

    stopWatch.abort();
    await watching;
  });

  it("stops following a chat the server refuses, with the API's message", async () => {
    const error = await refusal(followChat(session, UNKNOWN, { signal: new AbortController().signal, onEvent: () => undefined }));
    expect(error).toMatchObject({ status: 404, message: "Chat not found." });
    const loggedOut = new ChatdClient({ baseUrl: t.url, token: "not-a-token" });
    expect((await refusal(followWatch(loggedOut, { signal: new AbortController().signal, onEvent: () => undefined }))).status).toBe(401);
  });
});
