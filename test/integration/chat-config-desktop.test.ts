/**
 * `GET/PUT /api/experimental/chats/config/desktop-enabled` (behavior.md section 3): everyone
 * logged in reads `{enable_desktop}`, off by default; only an admin writes (a member gets 403);
 * bodies are validated.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readDesktopEnabled } from "../../src/chats/desktop-setting.js";
import { startTestServer, type TestServer, type TestUser } from "../helpers/server.js";

const PATH = "/api/experimental/chats/config/desktop-enabled";
let t: TestServer;
let owner: TestUser;
let member: TestUser;

beforeAll(async () => {
  t = await startTestServer();
  owner = await t.createOwner();
  member = await t.createUser(owner);
});
afterAll(async () => {
  await t?.close();
});

describe("desktop-enabled setting", () => {
  it("is off by default, admin turns it on and off, members read it but cannot write", async () => {
    expect(await t.request(PATH, { token: member.token })).toMatchObject({ status: 200, body: { enable_desktop: false } });

    const denied = await t.request(PATH, { method: "PUT", token: member.token, body: { enable_desktop: true } });
    expect(denied.status).toBe(403);
    expect(await readDesktopEnabled(t.server.database.db)).toBe(false);

    expect((await t.request(PATH, { method: "PUT", token: owner.token, body: { enable_desktop: true } })).status).toBe(204);
    expect(await t.request(PATH, { token: member.token })).toMatchObject({ status: 200, body: { enable_desktop: true } });
    expect(await t.request(PATH, { token: owner.token })).toMatchObject({ status: 200, body: { enable_desktop: true } });

    expect((await t.request(PATH, { method: "PUT", token: owner.token, body: { enable_desktop: false } })).status).toBe(204);
    expect(await t.request(PATH, { token: member.token })).toMatchObject({ status: 200, body: { enable_desktop: false } });
  });

  it("rejects a body without a boolean and requires a login", async () => {
    expect((await t.request(PATH, { method: "PUT", token: owner.token, body: { enable_desktop: "yes" } })).status).toBe(400);
    expect((await t.request(PATH, { method: "PUT", token: owner.token, body: {} })).status).toBe(400);
    expect((await t.request(PATH)).status).toBe(401);
  });
});
