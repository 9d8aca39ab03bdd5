import { count, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sessions } from "../../src/db/schema/index.js";
import { field, startTestServer, type TestServer, type TestUser } from "../helpers/server.js";

let t: TestServer;
let owner: TestUser;

beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.close();
});

async function sessionCount(): Promise<number> {
  const [row] = await t.server.database.db.select({ n: count() }).from(sessions);
  return row?.n ?? -1;
}

describe("first user", () => {
  it("reports 404 before the first user exists, creates an owner with 201, then refuses with 409", async () => {
    expect((await t.request("/api/v2/users/first")).status).toBe(404);
    owner = await t.createOwner();
    const me = await t.request("/api/v2/users/me", { token: owner.token });
    expect(me.status).toBe(200);
    expect(field(me.body, "roles")).toEqual(["owner", "member"]);
    expect(me.text).not.toMatch(/hashed|scrypt/);
    expect((await t.request("/api/v2/users/first")).status).toBe(200);

    const again = await t.request("/api/v2/users/first", {
      method: "POST",
      body: { username: "second", email: "second@example.com", password: "password-123" },
    });
    expect(again.status).toBe(409);
    expect(field(again.body, "message")).toBe("The initial user has already been created.");
  });
});

describe("login", () => {
  it("accepts the email or the username, case-insensitively, and sets an HttpOnly session cookie", async () => {
    const byEmail = await t.request("/api/v2/users/login", {
      method: "POST",
      body: { email: owner.email.toUpperCase(), password: owner.password },
    });
    expect(byEmail.status).toBe(201);
    const cookie = byEmail.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(/^chatd_session=[a-z0-9]{10}-[A-Za-z0-9]{22};/);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);

    const byUsername = await t.request("/api/v2/users/login", {
      method: "POST",
      body: { username: owner.username, password: owner.password },
    });
    expect(byUsername.status).toBe(201);

    const cookieValue = cookie.split(";")[0] ?? "";
    const viaCookie = await t.request("/api/v2/users/me", { headers: { Cookie: cookieValue } });
    expect(viaCookie.status).toBe(200);
    expect(field(viaCookie.body, "id")).toBe(owner.id);
  });

  it("answers a wrong password with 401 and creates no session", async () => {
    const before = await sessionCount();
    const wrong = await t.request("/api/v2/users/login", {
      method: "POST",
      body: { email: owner.email, password: "not-the-password" },
    });
    expect(wrong.status).toBe(401);
    expect(field(wrong.body, "message")).toBe("Incorrect email or password.");
    const unknown = await t.request("/api/v2/users/login", {
      method: "POST",
      body: { email: "nobody@example.com", password: "whatever-password" },
    });
    expect(unknown.status).toBe(401);
    expect(field(unknown.body, "message")).toBe("Incorrect email or password.");
    expect(await sessionCount()).toBe(before);
  });

  it("names the missing field when neither email nor username is given", async () => {
    const response = await t.request("/api/v2/users/login", { method: "POST", body: { password: "x" } });
    expect(response.status).toBe(400);
    expect(field(response.body, "validations")).toEqual([{ field: "email", detail: "Either email or username is required." }]);
  });

  it("refuses requests without a credential, with a malformed one, or with a token in the query string", async () => {
    expect((await t.request("/api/v2/users/me")).status).toBe(401);
    expect((await t.request("/api/v2/users/me", { token: "garbage" })).status).toBe(401);
    expect((await t.request("/api/v2/users/me", { token: `${owner.token.slice(0, 11)}${"A".repeat(22)}` })).status).toBe(401);
    expect((await t.request(`/api/v2/users/me?session_token=${owner.token}`)).status).toBe(401);
  });

  it("logs out: the session token stops working", async () => {
    const token = await t.login(owner.username, owner.password);
    expect((await t.request("/api/v2/users/me", { token })).status).toBe(200);
    const logout = await t.request("/api/v2/users/logout", { method: "POST", token });
    expect(logout.status).toBe(200);
    expect(logout.headers.get("set-cookie") ?? "").toMatch(/chatd_session=;/);
    expect((await t.request("/api/v2/users/me", { token })).status).toBe(401);
  });

  it("refuses an expired session", async () => {
    const token = await t.login(owner.username, owner.password);
    const id = token.split("-")[0] ?? "";
    await t.server.database.db.update(sessions).set({ expiresAt: new Date(Date.now() - 1000) }).where(eq(sessions.id, id));
    expect((await t.request("/api/v2/users/me", { token })).status).toBe(401);
  });

  it("slows down repeated failures per account: 429 with Retry-After, even for the right password", async () => {
    const victim = await t.createUser(owner, undefined, "throttled-user");
    for (let i = 0; i < 5; i++) {
      const response = await t.request("/api/v2/users/login", {
        method: "POST",
        body: { username: victim.username, password: `wrong-${i}-password` },
      });
      expect(response.status).toBe(401);
    }
    const blocked = await t.request("/api/v2/users/login", {
      method: "POST",
      body: { username: victim.username, password: victim.password },
    });
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(String(field(blocked.body, "message"))).toMatch(/Too many failed login attempts/);
    // Another account from the same address is not blocked yet (the address allows more tries).
    expect((await t.request("/api/v2/users/login", { method: "POST", body: { username: owner.username, password: owner.password } })).status).toBe(201);
  });
});

describe("API tokens", () => {
  it("creates a token shown once, authenticates with it, lists it without the secret, and deletes it", async () => {
    const created = await t.request("/api/v2/users/me/keys", { method: "POST", token: owner.token, body: { name: "ci" } });
    expect(created.status).toBe(201);
    const id = field(created.body, "id");
    const key = field(created.body, "key");
    expect(typeof key).toBe("string");
    if (typeof key !== "string" || typeof id !== "string") return;
    expect(key.startsWith(`${id}-`)).toBe(true);

    const me = await t.request("/api/v2/users/me", { token: key });
    expect(me.status).toBe(200);
    expect(field(me.body, "id")).toBe(owner.id);

    const list = await t.request("/api/v2/users/me/keys", { token: key });
    expect(list.status).toBe(200);
    expect(list.text).toContain(id);
    expect(list.text).not.toContain(key);
    expect(list.text).not.toContain(key.slice(11));

    expect((await t.request(`/api/v2/users/me/keys/${id}`, { method: "DELETE", token: owner.token })).status).toBe(204);
    expect((await t.request("/api/v2/users/me", { token: key })).status).toBe(401);
    expect((await t.request(`/api/v2/users/me/keys/${id}`, { method: "DELETE", token: owner.token })).status).toBe(404);
  });

  it("does not let a member touch another user's tokens", async () => {
    const member = await t.createUser(owner);
    const created = await t.request("/api/v2/users/me/keys", { method: "POST", token: owner.token, body: {} });
    const id = String(field(created.body, "id"));
    expect((await t.request(`/api/v2/users/${owner.id}/keys`, { token: member.token })).status).toBe(404);
    expect((await t.request(`/api/v2/users/${owner.id}/keys/${id}`, { method: "DELETE", token: member.token })).status).toBe(404);
    expect((await t.request(`/api/v2/users/me/keys/${id}`, { method: "DELETE", token: member.token })).status).toBe(404);
  });

  it("rejects a lifetime out of range and names the field", async () => {
    const response = await t.request("/api/v2/users/me/keys", { method: "POST", token: owner.token, body: { lifetime_seconds: 5 } });
    expect(response.status).toBe(400);
    expect(field(response.body, "validations")).toEqual([expect.objectContaining({ field: "lifetime_seconds" })]);
  });
});

describe("suspension", () => {
  it("refuses a suspended user's existing token and new logins, and lets them back after activation", async () => {
    const member = await t.createUser(owner);
    const suspend = await t.request(`/api/v2/users/${member.id}/status/suspend`, { method: "PUT", token: owner.token });
    expect(suspend.status).toBe(200);
    expect(field(suspend.body, "status")).toBe("suspended");

    const refused = await t.request("/api/v2/users/me", { token: member.token });
    expect(refused.status).toBe(401);
    expect(field(refused.body, "message")).toMatch(/suspended/);
    const login = await t.request("/api/v2/users/login", { method: "POST", body: { username: member.username, password: member.password } });
    expect(login.status).toBe(401);
    expect(field(login.body, "message")).toMatch(/suspended/);

    expect((await t.request(`/api/v2/users/${member.id}/status/activate`, { method: "PUT", token: owner.token })).status).toBe(200);
    expect((await t.request("/api/v2/users/me", { token: member.token })).status).toBe(200);
  });

  it("does not let a user suspend themselves", async () => {
    const response = await t.request(`/api/v2/users/me/status/suspend`, { method: "PUT", token: owner.token });
    expect(response.status).toBe(400);
  });
});
