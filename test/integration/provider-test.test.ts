/**
 * `POST /api/experimental/chats/providers/{id}/test`: one cheap call against the provider's real
 * wire format (the mock LLM server), no retry, the error shown in the result and no key in it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { field, startTestServer, type TestServer, type TestUser } from "../helpers/server.js";
import { useMockLlm } from "../helpers/llm.js";
import { closedPort } from "../helpers/ports.js";

const PROVIDERS = "/api/experimental/chats/providers";
const KEY = "sk-ant-api03-providertestkey0123456789abcdef";

const mock = useMockLlm();
let t: TestServer;
let owner: TestUser;
let member: TestUser;

beforeAll(async () => {
  t = await startTestServer();
  owner = await t.createOwner();
  member = await t.createUser(owner);
});
afterAll(async () => {
  await t.close();
});


async function createProvider(provider: string, baseUrl: string): Promise<string> {
  const created = await t.request(PROVIDERS, { method: "POST", token: owner.token, body: { provider, api_key: KEY, base_url: baseUrl } });
  expect(created.status).toBe(201);
  return String(field(created.body, "id"));
}

describe("provider test", () => {
  let anthropicId: string;

  it("makes one short call to the provider's cheap default model and reports ok with the latency", async () => {
    anthropicId = await createProvider("anthropic", mock.baseUrls.anthropic);
    const result = await t.request(`${PROVIDERS}/${anthropicId}/test`, { method: "POST", token: owner.token });
    expect(result.status).toBe(200);
    expect(result.body).toMatchObject({ ok: true, model: "claude-haiku-4-5" });
    expect(Number(field(result.body, "latency_ms"))).toBeGreaterThanOrEqual(0);
    expect(mock.requests).toHaveLength(1);
    expect(mock.requests[0]).toMatchObject({ format: "anthropic", model: "claude-haiku-4-5", stream: false });
    expect(field(mock.requests[0]?.body, "max_tokens")).toBe(16);
  });

  it("tests the model named in the body", async () => {
    const result = await t.request(`${PROVIDERS}/${anthropicId}/test`, { method: "POST", token: owner.token, body: { model: "claude-sonnet-4-5" } });
    expect(result.body).toMatchObject({ ok: true, model: "claude-sonnet-4-5" });
  });

  it("shows the provider's error once, without retrying and without the key", async () => {
    mock.enqueue({ fault: { type: "http", status: 401, message: `invalid x-api-key ${KEY}` } });
    const result = await t.request(`${PROVIDERS}/${anthropicId}/test`, { method: "POST", token: owner.token });
    expect(result.status).toBe(200);
    expect(result.body).toMatchObject({ ok: false });
    expect(String(field(result.body, "error"))).toMatch(/status 401/);
    expect(result.text).not.toContain(KEY);
    expect(mock.requests).toHaveLength(1);
    mock.enqueue({ fault: { type: "http", status: 529 } });
    const overloaded = await t.request(`${PROVIDERS}/${anthropicId}/test`, { method: "POST", token: owner.token });
    expect(overloaded.body).toMatchObject({ ok: false });
    expect(mock.requests).toHaveLength(2);
  });

  it("reports an address that refuses connections at once", async () => {
    const googleId = await createProvider("google", `http://127.0.0.1:${await closedPort()}/v1beta`);
    const result = await t.request(`${PROVIDERS}/${googleId}/test`, { method: "POST", token: owner.token });
    expect(result.body).toMatchObject({ ok: false, model: "gemini-2.5-flash" });
    expect(String(field(result.body, "error"))).toContain("connection refused");
  });

  it("needs a model for an OpenAI-compatible provider without model configs; 403 for members, 400/404 for bad ids", async () => {
    const compatId = await createProvider("openai-compat", mock.baseUrls.openaiCompat);
    const noModel = await t.request(`${PROVIDERS}/${compatId}/test`, { method: "POST", token: owner.token });
    expect(noModel.status).toBe(400);
    expect(field(noModel.body, "message")).toBe("Name a model to test: this provider has no model configs and no default model.");
    const named = await t.request(`${PROVIDERS}/${compatId}/test`, { method: "POST", token: owner.token, body: { model: "llama3" } });
    expect(named.body).toMatchObject({ ok: true, model: "llama3" });
    expect((await t.request(`${PROVIDERS}/${compatId}/test`, { method: "POST", token: member.token })).status).toBe(403);
    expect((await t.request(`${PROVIDERS}/nope/test`, { method: "POST", token: owner.token })).status).toBe(400);
    expect((await t.request(`${PROVIDERS}/00000000-0000-0000-0000-000000000001/test`, { method: "POST", token: owner.token })).status).toBe(404);
    expect((await t.request(`${PROVIDERS}/${compatId}/test`, { method: "POST", token: owner.token, body: { model: 5 } })).status).toBe(400);
  });
});
