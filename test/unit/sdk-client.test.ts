/** What a browser needs of ChatdClient (sdk/client.ts): cookie auth, same origin, typed errors. */
import { afterEach, describe, expect, it, vi } from "vitest";
import { ChatdClient, ChatdError } from "../../src/sdk/client.js";

interface Call {
  url: string;
  init: RequestInit | undefined;
}

function recording(answer: Response | (() => Response)) {
  const calls: Call[] = [];
  const fetch: typeof globalThis.fetch = async (input, init) => {
    calls.push({ url: String(input), init });
    return typeof answer === "function" ? answer() : answer.clone();
  };
  return { calls, fetch };
}

const headersOf = (call: Call | undefined) => new Headers(call?.init?.headers);

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("ChatdClient in a browser", () => {
  it("without a token sends no Authorization header and relies on the same-origin cookie", async () => {
    const { calls, fetch } = recording(() => new Response(null, { status: 204 }));
    const client = new ChatdClient({ baseUrl: "", fetch });
    expect(client.authorization).toBeUndefined();
    await client.updateChat("c1", { archived: true });
    expect(calls[0]?.url).toBe("/api/experimental/chats/c1");
    expect(calls[0]?.init?.method).toBe("PATCH");
    expect(calls[0]?.init?.credentials).toBe("same-origin");
    expect(headersOf(calls[0]).get("Authorization")).toBeNull();
    expect(headersOf(calls[0]).get("Content-Type")).toBe("application/json");
    expect(calls[0]?.init?.body).toBe('{"archived":true}');
  });

  it("with a token sends it as a Bearer header, never in the URL", async () => {
    const { calls, fetch } = recording(() => Response.json([]));
    await new ChatdClient({ baseUrl: "https://chatd.example/", token: "secret", fetch }).listChats({ archived: true, limit: 5 });
    expect(calls[0]?.url).toBe("https://chatd.example/api/experimental/chats?q=archived%3Atrue&limit=5");
    expect(headersOf(calls[0]).get("Authorization")).toBe("Bearer secret");
  });

  it("turns an error answer into a ChatdError with its detail and field problems", async () => {
    const body = { message: "Invalid input part.", detail: "content[0].text cannot be empty.", validations: [{ field: "content", detail: "bad" }] };
    const { fetch } = recording(() => Response.json(body, { status: 400 }));
    const error = await new ChatdClient({ baseUrl: "", fetch }).sendMessage("c1", { content: [{ type: "text", text: "" }] }).catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(ChatdError);
    expect(error).toMatchObject({ status: 400, message: body.message, detail: body.detail, validations: body.validations });
    const { fetch: gateway } = recording(() => new Response("<html>bad gateway</html>", { status: 502 }));
    expect(await new ChatdClient({ baseUrl: "", fetch: gateway }).me().catch((reason: unknown) => reason)).toMatchObject({ status: 502, message: "HTTP 502" });
  });

  it("rejects an answer that does not match the schema", async () => {
    const { fetch } = recording(() => Response.json({ id: "not a chat" }));
    await expect(new ChatdClient({ baseUrl: "", fetch }).getChat("c1")).rejects.toThrow();
  });

  it("uploads raw bytes with their type and name", async () => {
    const { calls, fetch } = recording(() => Response.json({ id: "0f8e2a51-3c6d-4e7f-8a9b-0c1d2e3f4a5b" }, { status: 201 }));
    const client = new ChatdClient({ baseUrl: "", fetch });
    const file = new Blob([new Uint8Array([1, 2, 3])], { type: "image/png" });
    expect(await client.uploadFile(file, 'ré"sumé.png')).toEqual({ id: "0f8e2a51-3c6d-4e7f-8a9b-0c1d2e3f4a5b" });
    expect(calls[0]?.init?.body).toBe(file);
    expect(headersOf(calls[0]).get("Content-Type")).toBe("image/png");
    expect(headersOf(calls[0]).get("Content-Disposition")).toBe(`attachment; filename="r__sum_.png"; filename*=UTF-8''r%C3%A9%22sum%C3%A9.png`);
    expect(client.fileUrl("f 1")).toBe("/api/experimental/chats/files/f%201");
  });

  it("answers whether the first user exists from 200 or 404", async () => {
    const exists = recording(() => Response.json({ message: "The initial user has already been created." }));
    expect(await new ChatdClient({ baseUrl: "", fetch: exists.fetch }).firstUserExists()).toBe(true);
    const missing = recording(() => Response.json({ message: "The initial user has not been created." }, { status: 404 }));
    expect(await new ChatdClient({ baseUrl: "", fetch: missing.fetch }).firstUserExists()).toBe(false);
    const broken = recording(() => Response.json({ message: "Internal error." }, { status: 500 }));
    await expect(new ChatdClient({ baseUrl: "", fetch: broken.fetch }).firstUserExists()).rejects.toMatchObject({ status: 500 });
  });

  it("sends a login as email or username by its form", async () => {
    const { calls, fetch } = recording(() => Response.json({ session_token: "t" }, { status: 201 }));
    const client = new ChatdClient({ baseUrl: "", fetch });
    await client.login({ login: "a@example.com", password: "pw" });
    await client.login({ login: "alice", password: "pw" });
    expect(calls.map((call) => call.init?.body)).toEqual(['{"email":"a@example.com","password":"pw"}', '{"username":"alice","password":"pw"}']);
  });

  it("builds WebSocket URLs from the base URL, or from the page when it is the same origin", () => {
    expect(new ChatdClient({ baseUrl: "http://127.0.0.1:3000" }).socketUrl("/api/x", new URLSearchParams({ a: "1" }))).toBe("ws://127.0.0.1:3000/api/x?a=1");
    expect(new ChatdClient({ baseUrl: "https://chatd.example" }).socketUrl("/api/x")).toBe("wss://chatd.example/api/x");
    const sameOrigin = new ChatdClient({ baseUrl: "" });
    expect(() => sameOrigin.socketUrl("/api/x")).toThrow(/page origin/);
    vi.stubGlobal("location", { origin: "https://ui.example:8443" });
    expect(sameOrigin.socketUrl("/api/x")).toBe("wss://ui.example:8443/api/x");
  });
});
