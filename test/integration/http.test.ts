import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JSON_BODY_LIMIT_BYTES } from "../../src/api/app.js";
import { field, startTestServer, type TestServer, type TestUser } from "../helpers/server.js";

let t: TestServer;
let owner: TestUser;

beforeAll(async () => {
  t = await startTestServer();
  owner = await t.createOwner();
});
afterAll(async () => {
  await t.close();
});

describe("HTTP surface", () => {
  it("answers /healthz with 200 and the database kind", async () => {
    const response = await t.request("/healthz");
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ status: "ok", database: t.database.location.kind });
  });

  it("answers unknown routes with a JSON 404", async () => {
    for (const path of ["/api/v2/nope", "/api/experimental/chats/whatever/else", "/not-a-page"]) {
      const response = await t.request(path, { token: owner.token });
      expect(response.status).toBe(404);
      expect(response.headers.get("content-type")).toMatch(/application\/json/);
      expect(String(field(response.body, "message"))).toMatch(/Route not found/);
    }
  });

  it("serves a plain page at / until the web UI is built", async () => {
    const response = await t.request("/");
    expect(response.status).toBe(200);
    expect(response.text).toMatch(/web UI has not been built/);
  });

  it("refuses a body over 4 MiB with 413 and changes nothing", async () => {
    const name = "x".repeat(JSON_BODY_LIMIT_BYTES);
    const response = await t.request("/api/v2/groups", { method: "POST", token: owner.token, body: { name } });
    expect(response.status).toBe(413);
    expect(String(field(response.body, "message"))).toMatch(/too large/);
    const groups = await t.request("/api/v2/groups", { token: owner.token });
    expect(groups.body).toEqual([]);
  });

  it("answers malformed JSON with 400", async () => {
    const response = await t.request("/api/v2/groups", { method: "POST", token: owner.token, body: "{not json" });
    expect(response.status).toBe(400);
    expect(field(response.body, "message")).toBe("Request body must be valid JSON.");
  });

  it("echoes a request id, or makes one", async () => {
    const given = await t.request("/healthz", { headers: { "X-Request-Id": "abc-123" } });
    expect(given.headers.get("x-request-id")).toBe("abc-123");
    const made = await t.request("/healthz", { headers: { "X-Request-Id": "bad id with spaces" } });
    expect(made.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("exposes Prometheus metrics with the request histogram, labelled by route pattern", async () => {
    await t.request(`/api/v2/users/${owner.id}`, { token: owner.token });
    const response = await t.request("/metrics");
    expect(response.status).toBe(200);
    expect(response.text).toMatch(/chatd_http_request_duration_seconds_bucket\{.*route="\/api\/v2\/users\/:user"/);
    expect(response.text).not.toContain(owner.id);
    expect(response.text).toContain("chatd_stream_parts_dropped_total 0");
    expect(response.text).toContain("chatd_stream_slow_consumers_closed_total 0");
  });

  it("publishes an OpenAPI document generated from the route schemas", async () => {
    const response = await t.request("/api/openapi.json");
    expect(response.status).toBe(200);
    const paths = field(response.body, "paths");
    expect(Object.keys(typeof paths === "object" && paths !== null ? paths : {})).toEqual(
      expect.arrayContaining([
        "/healthz",
        "/api/v2/users/first",
        "/api/v2/users/{user}/roles",
        "/api/v2/groups/{group}/members",
        "/api/v2/templates",
        "/api/v2/workspaces/{workspace}/builds",
        "/api/v2/workspaces/{workspace}/shares/{user}",
        "/api/v2/external-auth/{provider}",
        "/api/experimental/chats/config/workspace-ttl",
      ]),
    );
    const createUser = field(field(paths, "/api/v2/users"), "post");
    const schema = field(field(field(field(createUser, "requestBody"), "content"), "application/json"), "schema");
    expect(field(schema, "required")).toEqual(["username", "email", "password"]);
  });
});

describe("logs", () => {
  it("never contain a password, a session token, or a provider-key-shaped secret", async () => {
    const providerKey = "sk-ant-api03-" + "Zx9".repeat(20);
    const password = "correct-horse-battery-staple";
    const user = await t.createUser(owner, undefined, "log-watcher");
    await t.request(`/api/v2/users/${user.id}/roles`, { method: "PATCH", token: owner.token, body: { roles: [] } });
    const login = await t.request("/api/v2/users/login", { method: "POST", body: { username: user.username, password: user.password } });
    const token = String(field(login.body, "session_token"));
    await t.request("/api/v2/users/login", { method: "POST", body: { username: user.username, password } });
    // A secret in every place a client might put one: header, cookie, query string, body.
    await t.request(`/api/v2/users/me?api_key=${providerKey}`, {
      token,
      headers: { "X-Api-Key": providerKey, Cookie: `chatd_session=${token}; other=${providerKey}` },
    });
    await t.request("/api/v2/groups", { method: "POST", token: owner.token, body: { name: "g", api_key: providerKey } });
    await t.request("/api/v2/users/me", { headers: { Authorization: `Bearer ${providerKey}` } });
    t.server.log.info({ detail: `provider said: invalid key ${providerKey}`, token }, "free text with secrets");
    t.server.log.flush();

    const output = t.logs.join("");
    expect(output).toContain("/api/v2/users/login");
    expect(output).toContain("free text with secrets");
    for (const secret of [providerKey, token, token.slice(11), password, user.password, owner.token]) {
      expect(output).not.toContain(secret);
    }
  });
});
