import { eq, sql } from "drizzle-orm";
import { queryRows } from "../../src/db/raw.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chatProviders } from "../../src/db/schema/index.js";
import { field, startTestServer, validationFields, type TestServer, type TestUser } from "../helpers/server.js";

const PROVIDERS = "/api/experimental/chats/providers";
const CONFIGS = "/api/experimental/chats/model-configs";
const MODELS = "/api/experimental/chats/models";
const ENV_OPENAI_KEY = "sk-proj-envpresetkey0123456789abcdef";
const STORED_ANTHROPIC_KEY = "sk-ant-api03-storedkey0123456789abcdefXYZ";

let t: TestServer;
let owner: TestUser;
let admin: TestUser;
let member: TestUser;

beforeAll(async () => {
  t = await startTestServer({ env: { OPENAI_API_KEY: ENV_OPENAI_KEY } });
  owner = await t.createOwner();
  admin = await t.createUser(owner, ["admin"]);
  member = await t.createUser(owner);
});
afterAll(async () => {
  await t.close();
});

const list = (body: unknown): unknown[] => (Array.isArray(body) ? body : []);
const byProvider = (body: unknown, name: string) => list(body).find((entry) => field(entry, "provider") === name);

describe("providers", () => {
  it("lists every supported provider with its source; env presets show up without a row", async () => {
    const response = await t.request(PROVIDERS, { token: admin.token });
    expect(response.status).toBe(200);
    expect(list(response.body).map((entry) => field(entry, "provider"))).toEqual(["openai", "anthropic", "google", "openai-compat"]);
    expect(byProvider(response.body, "openai")).toMatchObject({
      id: "00000000-0000-0000-0000-000000000000",
      source: "env_preset",
      has_api_key: true,
      enabled: true,
    });
    expect(byProvider(response.body, "google")).toMatchObject({ source: "supported", has_api_key: false });
    expect(response.text).not.toContain(ENV_OPENAI_KEY);
  });

  it("is admin-only: members get 403 on every provider route", async () => {
    expect((await t.request(PROVIDERS, { token: member.token })).status).toBe(403);
    expect((await t.request(PROVIDERS, { method: "POST", token: member.token, body: { provider: "google" } })).status).toBe(403);
  });

  it("creates a provider with its key sealed at rest, and refuses a duplicate and a bad provider", async () => {
    const created = await t.request(PROVIDERS, {
      method: "POST",
      token: admin.token,
      body: { provider: "anthropic", api_key: STORED_ANTHROPIC_KEY, base_url: "http://127.0.0.1:9/v1/" },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ provider: "anthropic", source: "database", has_api_key: true, enabled: true, base_url: "http://127.0.0.1:9/v1", display_name: "Anthropic" });
    expect(created.text).not.toContain(STORED_ANTHROPIC_KEY);
    const [row] = await t.server.database.db.select().from(chatProviders).where(eq(chatProviders.provider, "anthropic"));
    expect(row?.apiKeySealed).toMatch(/^v1:/);
    expect(row?.apiKeySealed).not.toContain(STORED_ANTHROPIC_KEY);

    const duplicate = await t.request(PROVIDERS, { method: "POST", token: admin.token, body: { provider: "anthropic" } });
    expect(duplicate.status).toBe(409);
    expect(field(duplicate.body, "message")).toBe("Chat provider already exists.");
    const invalid = await t.request(PROVIDERS, { method: "POST", token: admin.token, body: { provider: "azure" } });
    expect(invalid.status).toBe(400);
    expect(field(invalid.body, "message")).toBe("Invalid provider.");
    const badUrl = await t.request(PROVIDERS, { method: "POST", token: admin.token, body: { provider: "google", base_url: "ftp://x" } });
    expect(badUrl.status).toBe(400);
    expect(validationFields(badUrl.body)).toEqual(["base_url"]);
  });

  it("patches a provider partially, and clears its key with an empty api_key", async () => {
    const current = byProvider((await t.request(PROVIDERS, { token: admin.token })).body, "anthropic");
    const id = String(field(current, "id"));
    const renamed = await t.request(`${PROVIDERS}/${id}`, { method: "PATCH", token: admin.token, body: { display_name: "Claude", enabled: false } });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ display_name: "Claude", enabled: false, has_api_key: true, base_url: "http://127.0.0.1:9/v1" });
    const cleared = await t.request(`${PROVIDERS}/${id}`, { method: "PATCH", token: admin.token, body: { api_key: "", enabled: true } });
    expect(cleared.body).toMatchObject({ has_api_key: false, enabled: true });
    expect((await t.request(`${PROVIDERS}/not-a-uuid`, { method: "PATCH", token: admin.token, body: {} })).status).toBe(400);
    const missing = await t.request(`${PROVIDERS}/00000000-0000-0000-0000-000000000001`, { method: "PATCH", token: admin.token, body: {} });
    expect(missing.status).toBe(404);
  });
});

describe("model configs", () => {
  let firstId = "";
  let secondId = "";

  it("validates with behavior.md's messages", async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ provider: "azure", model: "x", context_limit: 1000 }, "Invalid provider."],
      [{ provider: "openai", model: "  ", context_limit: 1000 }, "Model is required."],
      [{ provider: "openai", model: "gpt-5" }, "Context limit is required."],
      [{ provider: "openai", model: "gpt-5", context_limit: 0 }, "Context limit is required."],
      [{ provider: "openai", model: "gpt-5", context_limit: 1000, compression_threshold: 101 }, "Invalid compression threshold."],
      [{ provider: "openai", model: "gpt-5", context_limit: 1000, model_config: { cost: { input_price_per_million_tokens: -1 } } }, "Invalid model config."],
      [{ provider: "google", model: "gemini-2.5-pro", context_limit: 1000 }, "Chat provider is not configured."],
    ];
    for (const [body, message] of cases) {
      const response = await t.request(CONFIGS, { method: "POST", token: admin.token, body });
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(field(response.body, "message")).toBe(message);
    }
    const negative = await t.request(CONFIGS, {
      method: "POST",
      token: admin.token,
      body: { provider: "openai", model: "gpt-5", context_limit: 1000, model_config: { cost: { output_price_per_million_tokens: "-0.5" } } },
    });
    expect(validationFields(negative.body)).toEqual(["model_config.cost.output_price_per_million_tokens"]);
    expect(list((await t.request(CONFIGS, { token: admin.token })).body)).toEqual([]);
  });

  it("makes the first config the default, creating the env preset's provider row, and keeps prices exact", async () => {
    const created = await t.request(CONFIGS, {
      method: "POST",
      token: admin.token,
      body: {
        provider: "openai",
        model: "gpt-5",
        display_name: "GPT-5",
        context_limit: 400_000,
        model_config: {
          max_output_tokens: 8000,
          cost: { input_price_per_million_tokens: 1.25, output_price_per_million_tokens: "10.00", cache_read_price_per_million_tokens: 0.1 },
          provider_options: { openai: { web_search_enabled: true, search_context_size: "low" } },
        },
      },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ provider: "openai", model: "gpt-5", is_default: true, enabled: true, compression_threshold: 70, context_limit: 400_000 });
    const cost = field(field(created.body, "model_config"), "cost");
    expect(field(cost, "input_price_per_million_tokens")).toBe("1.25");
    expect(field(cost, "cache_read_price_per_million_tokens")).toBe("0.1");
    expect(typeof field(cost, "output_price_per_million_tokens")).toBe("string");
    firstId = String(field(created.body, "id"));
    const providers = await t.request(PROVIDERS, { token: admin.token });
    expect(byProvider(providers.body, "openai")).toMatchObject({ source: "database", has_api_key: true });
  });

  it("keeps a single default: a new is_default config takes it; un-defaulting promotes another", async () => {
    const second = await t.request(CONFIGS, {
      method: "POST",
      token: admin.token,
      body: { provider: "anthropic", model: "claude-sonnet-4-5", context_limit: 200_000, is_default: true, compression_threshold: 80 },
    });
    expect(second.status).toBe(201);
    secondId = String(field(second.body, "id"));
    const defaults = () =>
      t.request(CONFIGS, { token: admin.token }).then((r) => list(r.body).filter((c) => field(c, "is_default") === true).map((c) => field(c, "id")));
    expect(await defaults()).toEqual([secondId]);

    const undefaulted = await t.request(`${CONFIGS}/${secondId}`, { method: "PATCH", token: admin.token, body: { is_default: false } });
    expect(undefaulted.status).toBe(200);
    expect(field(undefaulted.body, "is_default")).toBe(false);
    expect(await defaults()).toEqual([firstId]);

    const patched = await t.request(`${CONFIGS}/${secondId}`, { method: "PATCH", token: admin.token, body: { display_name: "Sonnet", enabled: false } });
    expect(patched.body).toMatchObject({ display_name: "Sonnet", enabled: false, compression_threshold: 80 });
  });

  it("lets members read enabled configs only, and answers 403 to their writes", async () => {
    const visible = await t.request(CONFIGS, { token: member.token });
    expect(visible.status).toBe(200);
    expect(list(visible.body).map((c) => field(c, "id"))).toEqual([firstId]);
    expect((await t.request(CONFIGS, { method: "POST", token: member.token, body: { provider: "openai", model: "x", context_limit: 1 } })).status).toBe(403);
    expect((await t.request(`${CONFIGS}/${firstId}`, { method: "PATCH", token: member.token, body: { enabled: false } })).status).toBe(403);
    expect((await t.request(`${CONFIGS}/${firstId}`, { method: "DELETE", token: member.token })).status).toBe(403);
  });

  it("soft-deletes, re-ensuring a default; bad and unknown ids answer 400 and 404", async () => {
    expect((await t.request(`${CONFIGS}/${firstId}`, { method: "DELETE", token: admin.token })).status).toBe(204);
    const remaining = list((await t.request(CONFIGS, { token: admin.token })).body);
    expect(remaining.map((c) => [field(c, "id"), field(c, "is_default")])).toEqual([[secondId, true]]);
    expect((await t.request(`${CONFIGS}/${firstId}`, { method: "DELETE", token: admin.token })).status).toBe(404);
    const bad = await t.request(`${CONFIGS}/nope`, { method: "DELETE", token: admin.token });
    expect(bad.status).toBe(400);
    expect(field(bad.body, "message")).toBe("Invalid chat model config ID.");
  });
});

describe("models", () => {
  it("groups enabled configs by provider with availability; falls back to every provider when none", async () => {
    await t.request(`${CONFIGS}/${String(field(list((await t.request(CONFIGS, { token: admin.token })).body)[0], "id"))}`, {
      method: "PATCH",
      token: admin.token,
      body: { enabled: true },
    });
    await t.request(CONFIGS, { method: "POST", token: admin.token, body: { provider: "openai", model: "gpt-5-mini", context_limit: 400_000 } });
    await t.request(CONFIGS, { method: "POST", token: admin.token, body: { provider: "openai", model: "gpt-4.1", context_limit: 1_000_000 } });
    const response = await t.request(MODELS, { token: member.token });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      providers: [
        {
          provider: "anthropic",
          available: false,
          unavailable_reason: "missing_api_key",
          models: [{ id: "anthropic:claude-sonnet-4-5", provider: "anthropic", model: "claude-sonnet-4-5", display_name: "Sonnet" }],
        },
        {
          provider: "openai",
          available: true,
          models: [
            { id: "openai:gpt-4.1", provider: "openai", model: "gpt-4.1", display_name: "gpt-4.1" },
            { id: "openai:gpt-5-mini", provider: "openai", model: "gpt-5-mini", display_name: "gpt-5-mini" },
          ],
        },
      ],
    });
  });

  it("refuses to delete a provider whose model configs something still references", async () => {
    // Chats (a later table) reference model configs without cascading; a stand-in table does the same.
    const configs = list((await t.request(CONFIGS, { token: admin.token })).body);
    const anthropicConfig = configs.find((c) => field(c, "provider") === "anthropic");
    await queryRows(t.server.database.db, sql`CREATE TABLE fk_probe (model_config_id uuid NOT NULL REFERENCES chat_model_configs(id))`);
    await queryRows(t.server.database.db, sql`INSERT INTO fk_probe VALUES (${String(field(anthropicConfig, "id"))})`);
    const providers = (await t.request(PROVIDERS, { token: admin.token })).body;
    const id = String(field(byProvider(providers, "anthropic"), "id"));
    const refused = await t.request(`${PROVIDERS}/${id}`, { method: "DELETE", token: admin.token });
    expect(refused.status).toBe(400);
    expect(field(refused.body, "message")).toBe("Provider models are still referenced by existing chats.");
    expect(byProvider((await t.request(PROVIDERS, { token: admin.token })).body, "anthropic")).toMatchObject({ source: "database" });
    await queryRows(t.server.database.db, sql`DROP TABLE fk_probe`);
  });

  it("deleting a provider cascades to its model configs", async () => {
    const providers = (await t.request(PROVIDERS, { token: admin.token })).body;
    const id = String(field(byProvider(providers, "openai"), "id"));
    expect((await t.request(`${PROVIDERS}/${id}`, { method: "DELETE", token: admin.token })).status).toBe(204);
    const configs = list((await t.request(CONFIGS, { token: admin.token })).body);
    expect(configs.map((c) => field(c, "provider"))).toEqual(["anthropic"]);
    expect((await t.request(`${PROVIDERS}/${id}`, { method: "DELETE", token: admin.token })).status).toBe(404);
  });

  it("lists every supported provider, availability only, when no config exists", async () => {
    const fresh = await startTestServer();
    try {
      const first = await fresh.createOwner();
      const response = await fresh.request(MODELS, { token: first.token });
      expect(list(field(response.body, "providers")).map((p) => [field(p, "provider"), field(p, "available"), list(field(p, "models")).length])).toEqual([
        ["openai", false, 0],
        ["anthropic", false, 0],
        ["google", false, 0],
        ["openai-compat", false, 0],
      ]);
    } finally {
      await fresh.close();
    }
  });
});

describe("secrets", () => {
  it("never writes a provider key to the logs", () => {
    const output = t.logs.join("");
    expect(output).toContain(PROVIDERS);
    expect(output).not.toContain(STORED_ANTHROPIC_KEY);
    expect(output).not.toContain(ENV_OPENAI_KEY);
  });
});
