/** `chatd chat` as a user runs it: a child process talking to the real server over HTTP and WebSocket. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configureAnthropicModel, field, startTestServer, type TestServer, type TestUser } from "../helpers/server.js";
import { useMockLlm } from "../helpers/llm.js";
import { runChatd } from "../helpers/process.js";

const mock = useMockLlm();
let t: TestServer;
let owner: TestUser;
let apiKey = "";

beforeAll(async () => {
  t = await startTestServer();
  owner = await t.createOwner();
  await configureAnthropicModel(t, owner, mock.baseUrls.anthropic, {
    model_config: { cost: { input_price_per_million_tokens: "3", output_price_per_million_tokens: "15" } },
  });
  const key = await t.request("/api/v2/users/me/keys", { method: "POST", token: owner.token, body: { name: "cli" } });
  apiKey = String(field(key.body, "key"));
});
afterAll(async () => {
  await t.close();
});

describe("chatd chat", () => {
  it("creates a chat, prints it live, then the cost, and exits 0", async () => {
    const turn = (request: { stream: boolean }) =>
      request.stream
        ? { parts: [{ type: "reasoning" as const, text: "Think it over." }, { type: "text" as const, text: "The answer is 42." }], usage: { input: 1000, output: 100 } }
        : { parts: [{ type: "text" as const, text: "Answer question" }] };
    mock.enqueue(turn, turn);
    const cli = runChatd(["chat", "What", "is", "the", "answer?"], { CHATD_URL: t.url, CHATD_TOKEN: apiKey });
    expect(await cli.exited).toBe(0);
    expect(cli.stdout()).toContain("The answer is 42.");
    expect(cli.stdout()).toContain("Think it over.");
    expect(cli.stdout()).toContain("> What is the answer?");
    // 1,000 input tokens at $3/M plus 100 output tokens at $15/M.
    expect(cli.stderr()).toContain("cost: $0.004500");
    expect(cli.stderr()).not.toContain(apiKey);

    const chatId = /chat ([0-9a-f-]{36})/.exec(cli.stderr())?.[1] ?? "";
    const follow = runChatd(["chat", "--follow", chatId], { CHATD_URL: t.url, CHATD_TOKEN: apiKey });
    expect(await follow.exited).toBe(0);
    expect(follow.stdout()).toContain("The answer is 42.");
  });

  it("refuses without a token, and reports the server's message for an unknown chat", async () => {
    const noToken = runChatd(["chat", "hi"], { CHATD_URL: t.url });
    expect(await noToken.exited).toBe(2);
    expect(noToken.stderr()).toContain("CHATD_TOKEN");
    const unknown = runChatd(["chat", "--follow", "00000000-0000-4000-8000-000000000000"], { CHATD_URL: t.url, CHATD_TOKEN: apiKey });
    expect(await unknown.exited).toBe(1);
    expect(unknown.stderr()).toMatch(/404|not found/i);
  });
});
