import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { field, startTestServer, validationFields, type TestServer, type TestUser } from "../helpers/server.js";

let t: TestServer;
let owner: TestUser;
let admin: TestUser;
let member: TestUser;

beforeAll(async () => {
  t = await startTestServer();
  owner = await t.createOwner();
  admin = await t.createUser(owner, ["admin"]);
  member = await t.createUser(owner);
});
afterAll(async () => {
  await t.close();
});

const ids = (body: unknown): unknown[] => (Array.isArray(body) ? body.map((row) => field(row, "id")) : []);

describe("user management", () => {
  it("lists every user for an admin in full pages, and refuses a member with 403", async () => {
    const all = await t.request("/api/v2/users?limit=2", { token: admin.token });
    expect(all.status).toBe(200);
    expect(ids(all.body)).toEqual([owner.id, admin.id]);
    const next = await t.request("/api/v2/users?limit=2&offset=2", { token: admin.token });
    expect(ids(next.body)).toEqual([member.id]);
    const refused = await t.request("/api/v2/users", { token: member.token });
    expect(refused.status).toBe(403);
    expect(JSON.stringify(refused.body)).not.toContain(admin.id);
    // A member still reads themselves.
    expect(field((await t.request("/api/v2/users/me", { token: member.token })).body, "id")).toBe(member.id);
  });

  it("answers a bad query with 400 naming the parameter", async () => {
    const response = await t.request("/api/v2/users?limit=0", { token: admin.token });
    expect(response.status).toBe(400);
    expect(field(response.body, "validations")).toEqual([expect.objectContaining({ field: "query.limit" })]);
  });

  it("resolves users by id, username and me; hides users a member may not read", async () => {
    expect(field((await t.request(`/api/v2/users/${member.username}`, { token: admin.token })).body, "id")).toBe(member.id);
    expect(field((await t.request(`/api/v2/users/${member.id}`, { token: admin.token })).body, "id")).toBe(member.id);
    expect(field((await t.request("/api/v2/users/me", { token: member.token })).body, "id")).toBe(member.id);
    expect((await t.request(`/api/v2/users/${owner.id}`, { token: member.token })).status).toBe(404);
    expect((await t.request("/api/v2/users/nobody-here", { token: admin.token })).status).toBe(404);
  });

  it("lets only admins create users, and only owners grant owner", async () => {
    const body = { username: "made-by-member", email: "mbm@example.com", password: "password-123" };
    expect((await t.request("/api/v2/users", { method: "POST", token: member.token, body })).status).toBe(403);
    const asAdmin = await t.request("/api/v2/users", { method: "POST", token: admin.token, body: { ...body, roles: ["owner"] } });
    expect(asAdmin.status).toBe(403);
    expect(field(asAdmin.body, "message")).toBe("Only an owner can grant the owner role.");
    const ok = await t.request("/api/v2/users", { method: "POST", token: admin.token, body: { ...body, roles: ["admin"] } });
    expect(ok.status).toBe(201);
    expect(field(ok.body, "roles")).toEqual(["admin", "member"]);
  });

  it("reports duplicates with 409 and invalid fields with 400 naming each field; neither changes anything", async () => {
    const duplicate = await t.request("/api/v2/users", {
      method: "POST",
      token: owner.token,
      body: { username: member.username.toUpperCase(), email: "other@example.com", password: "password-123" },
    });
    expect(duplicate.status).toBe(409);
    expect(field(duplicate.body, "message")).toBe("A user with that username already exists.");
    const duplicateEmail = await t.request("/api/v2/users", {
      method: "POST",
      token: owner.token,
      body: { username: "fresh-name", email: member.email, password: "password-123" },
    });
    expect(duplicateEmail.status).toBe(409);

    const invalid = await t.request("/api/v2/users", {
      method: "POST",
      token: owner.token,
      body: { username: "-bad-", email: "not-an-email", password: "short", roles: ["superuser"] },
    });
    expect(invalid.status).toBe(400);
    expect(validationFields(invalid.body)).toEqual(["username", "email", "password", "roles.0"]);
    const list = await t.request("/api/v2/users?limit=1000", { token: owner.token });
    expect(list.text).not.toContain("fresh-name");
    expect(list.text).not.toContain("not-an-email");
  });

  it("changes roles under the owner rules", async () => {
    const target = await t.createUser(owner);
    // A member cannot see another user, so cannot change one either: the lookup's 404.
    expect((await t.request(`/api/v2/users/${target.id}/roles`, { method: "PATCH", token: member.token, body: { roles: ["admin"] } })).status).toBe(404);
    expect((await t.request("/api/v2/users/me/roles", { method: "PATCH", token: member.token, body: { roles: ["admin"] } })).status).toBe(403);
    const promoted = await t.request(`/api/v2/users/${target.id}/roles`, { method: "PATCH", token: admin.token, body: { roles: ["admin"] } });
    expect(promoted.status).toBe(200);
    expect(field(promoted.body, "roles")).toEqual(["admin", "member"]);
    expect((await t.request(`/api/v2/users/${target.id}/roles`, { method: "PATCH", token: admin.token, body: { roles: ["owner"] } })).status).toBe(403);
    expect((await t.request(`/api/v2/users/${owner.id}/roles`, { method: "PATCH", token: admin.token, body: { roles: [] } })).status).toBe(403);
    expect((await t.request(`/api/v2/users/${admin.id}/roles`, { method: "PATCH", token: admin.token, body: { roles: [] } })).status).toBe(400);
    const byOwner = await t.request(`/api/v2/users/${target.id}/roles`, { method: "PATCH", token: owner.token, body: { roles: ["owner"] } });
    expect(field(byOwner.body, "roles")).toEqual(["owner", "member"]);
    // The new role takes effect on the target's existing token at once.
    expect((await t.request("/api/v2/groups", { token: target.token })).status).toBe(200);
  });

  it("gives a member the same 404 for managing another user as for a user that does not exist, so users cannot be probed", async () => {
    const target = await t.createUser(owner);
    const missing = "9b2f3c4d-1111-4222-8333-444455556666";
    for (const ref of [target.id, target.username, missing]) {
      const roles = await t.request(`/api/v2/users/${ref}/roles`, { method: "PATCH", token: member.token, body: { roles: ["member"] } });
      const suspend = await t.request(`/api/v2/users/${ref}/status/suspend`, { method: "PUT", token: member.token });
      const activate = await t.request(`/api/v2/users/${ref}/status/activate`, { method: "PUT", token: member.token });
      expect([roles.status, suspend.status, activate.status], ref).toEqual([404, 404, 404]);
      expect(field(suspend.body, "message")).toBe("User not found.");
    }
    expect(field((await t.request(`/api/v2/users/${target.id}`, { token: owner.token })).body, "status")).toBe("active");
  });

  it("lets an admin see a user but not their API tokens (403), and an owner both", async () => {
    const target = await t.createUser(owner);
    expect((await t.request(`/api/v2/users/${target.id}`, { token: admin.token })).status).toBe(200);
    expect((await t.request(`/api/v2/users/${target.id}/keys`, { token: admin.token })).status).toBe(403);
    expect((await t.request(`/api/v2/users/${target.id}/keys`, { method: "POST", token: admin.token, body: {} })).status).toBe(403);
    expect((await t.request(`/api/v2/users/${target.id}/keys`, { token: owner.token })).status).toBe(200);
  });

  it("does not let an admin suspend an owner", async () => {
    expect((await t.request(`/api/v2/users/${owner.id}/status/suspend`, { method: "PUT", token: admin.token })).status).toBe(403);
  });
});

describe("groups", () => {
  it("lets admins create, rename, fill, empty and delete groups; members get 403", async () => {
    expect((await t.request("/api/v2/groups", { token: member.token })).status).toBe(403);
    expect((await t.request("/api/v2/groups", { method: "POST", token: member.token, body: { name: "x" } })).status).toBe(403);

    const created = await t.request("/api/v2/groups", { method: "POST", token: admin.token, body: { name: "backend", display_name: "Backend" } });
    expect(created.status).toBe(201);
    const id = String(field(created.body, "id"));
    expect((await t.request("/api/v2/groups", { method: "POST", token: admin.token, body: { name: "BACKEND" } })).status).toBe(409);

    const added = await t.request(`/api/v2/groups/${id}/members`, { method: "POST", token: admin.token, body: { user_id: member.id } });
    expect(added.status).toBe(201);
    expect(field(added.body, "members")).toEqual([expect.objectContaining({ id: member.id, username: member.username })]);
    const missingUser = await t.request(`/api/v2/groups/${id}/members`, {
      method: "POST",
      token: admin.token,
      body: { user_id: "00000000-0000-0000-0000-000000000000" },
    });
    expect(missingUser.status).toBe(400);

    const renamed = await t.request("/api/v2/groups/backend", { method: "PATCH", token: admin.token, body: { name: "platform" } });
    expect(field(renamed.body, "name")).toBe("platform");
    expect(field(renamed.body, "display_name")).toBe("Backend");

    expect((await t.request(`/api/v2/groups/platform/members/${member.id}`, { method: "DELETE", token: admin.token })).status).toBe(204);
    expect((await t.request(`/api/v2/groups/platform/members/${member.id}`, { method: "DELETE", token: admin.token })).status).toBe(404);
    expect((await t.request(`/api/v2/groups/${id}`, { method: "DELETE", token: admin.token })).status).toBe(204);
    expect((await t.request(`/api/v2/groups/${id}`, { token: admin.token })).status).toBe(404);
  });
});
