/**
 * A provider configured through the API reaches the provider over the wire: the stored (sealed)
 * key is opened and sent, the base URL honoured, the config's call settings applied.
 */
import { generateText } from "ai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMockLlm, type MockLlm } from "../../src/llm/mock/index.js";
import { ModelUnavailableError, resolveModel } from "../../src/llm/resolve.js";
import { field, startTestServer, type TestServer, type TestUser } from "../helpers/server.js";

const KEY = "sk-ant-api03-resolvetestkey-0123456789";
let t: TestServer;
let admin: TestUser;
let mock: MockLlm;

beforeAll(async () => {
  [t, mock] = await Promise.all([startTestServer(), startMockLlm()]);
  admin = await t.createOwner();
});
afterAll(async () => {
  await Promise.all([t.close(), mock.close()]);
});

describe("resolveModel", () => {
  it("calls the configured provider at its base URL with its stored key and the config's settings", async () => {
    const provider = await t.request("/api/experimental/chats/providers", {
      method: "POST",
      token: admin.token,
      body: { provider: "anthropic", api_key: KEY, base_url: mock.baseUrls.anthropic },
    });
    expect(provider.status).toBe(201);
    const config = await t.request("/api/experimental/chats/model-configs", {
      method: "POST",
      token: admin.token,
      body: {
        provider: "anthropic",
        model: "claude-sonnet-4-5",
        context_limit: 200_000,
        model_config: { max_output_tokens: 1234, temperature: 0.5, provider_options: { anthropic: { web_search_enabled: true, allowed_domains: ["example.com"] } } },
      },
    });
    const id = String(field(config.body, "id"));

    const resolved = await resolveModel(t.server.database.db, t.server.services.cipher, t.server.services.providerEnvKeys, id);
    expect(resolved.provider).toBe("anthropic");
    expect(Object.keys(resolved.tools)).toEqual(["web_search"]);
    mock.enqueue({ parts: [{ type: "text", text: "resolved" }], usage: { input: 3, output: 1 } });
    const result = await generateText({ model: resolved.model, prompt: "hello", ...resolved.settings, tools: resolved.tools });
    expect(result.text).toBe("resolved");

    const request = mock.requests.at(-1);
    expect(request?.model).toBe("claude-sonnet-4-5");
    expect(request?.headers["x-api-key"]).toBe("[present]");
    expect(field(request?.body, "max_tokens")).toBe(1234);
    expect(field(request?.body, "temperature")).toBe(0.5);
    expect(JSON.stringify(field(request?.body, "tools"))).toContain("example.com");
  });

  it("refuses a disabled provider and a deleted config with a clear error", async () => {
    const configs = await t.request("/api/experimental/chats/model-configs", { token: admin.token });
    const id = String(field(Array.isArray(configs.body) ? configs.body[0] : undefined, "id"));
    const providers = await t.request("/api/experimental/chats/providers", { token: admin.token });
    const anthropic = Array.isArray(providers.body) ? providers.body.find((p) => field(p, "provider") === "anthropic") : undefined;
    await t.request(`/api/experimental/chats/providers/${String(field(anthropic, "id"))}`, { method: "PATCH", token: admin.token, body: { enabled: false } });
    await expect(resolveModel(t.server.database.db, t.server.services.cipher, {}, id)).rejects.toThrow(ModelUnavailableError);
    await t.request(`/api/experimental/chats/model-configs/${id}`, { method: "DELETE", token: admin.token });
    await expect(resolveModel(t.server.database.db, t.server.services.cipher, {}, id)).rejects.toThrow(/does not exist or was deleted/);
  });
});
