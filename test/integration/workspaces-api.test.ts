/**
 * The templates and workspaces HTTP API: CRUD and RBAC, parameter validation (400, nothing
 * created), builds and their logs, transitions and their conflicts, shares.
 */
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { can, userSubject } from "../../src/rbac/policy.js";
import { field, validationFields, type TestUser } from "../helpers/server.js";
import { startWorkspaceServer, waitForWorkspaceBuild, writeFakeAgent, type FakeAgent, type WorkspaceTestServer } from "../helpers/workspaces.js";
import { waitFor } from "../helpers/wait.js";

let t: WorkspaceTestServer;
let owner: TestUser;
let admin: TestUser;
let member: TestUser;
let other: TestUser;
let fake: FakeAgent;

/** A template whose setup script echoes its parameters and, when `gate` is set, waits for a file. */
const GATED_SCRIPT = [
  'echo "repo=${CHATD_PARAM_REPOSITORY:-} size=${CHATD_PARAM_SIZE:-} flag=${CHATD_PARAM_FLAG:-}"',
  'if [ "${CHATD_PARAM_GATE:-false}" = true ]; then while [ ! -e "$HOME/../gate" ]; do sleep 0.02; done; fi',
  "echo setup-done",
].join("\n");
const GATED_PARAMETERS = [
  { name: "repository", type: "string", required: true, validation_regex: "^(https?://|/)" },
  { name: "size", type: "number", default: 2, validation_min: 1, validation_max: 8 },
  { name: "flavor", type: "string", options: [{ name: "Vanilla", value: "vanilla" }, { name: "Mint", value: "mint" }] },
  { name: "flag", type: "bool" },
  { name: "gate", type: "bool", default: false },
];
let templateId = "";

beforeAll(async () => {
  fake = writeFakeAgent({ secretFile: "/nonexistent", dataDir: "/nonexistent", repoDir: "/nonexistent", serverPid: process.pid });
  t = await startWorkspaceServer({ agentCommand: fake.command });
  owner = await t.createOwner();
  admin = await t.createUser(owner, ["admin"]);
  member = await t.createUser(owner);
  other = await t.createUser(owner);
});
afterAll(async () => {
  await t.close();
  fake.remove();
});

const post = (pathname: string, token: string, body: unknown) => t.request(pathname, { method: "POST", token, body });
const names = (body: unknown): unknown[] => (Array.isArray(body) ? body.map((row) => field(row, "name")) : []);

describe("templates", () => {
  it("lets members read templates but not create, change or delete them", async () => {
    const list = await t.request("/api/v2/templates", { token: member.token });
    expect(list.status).toBe(200);
    expect(names(list.body)).toContain("local");
    const body = { name: "gated", setup_script: GATED_SCRIPT, parameters: GATED_PARAMETERS };
    expect((await post("/api/v2/templates", member.token, body)).status).toBe(403);
    expect((await t.request("/api/v2/templates/local", { method: "PATCH", token: member.token, body: { display_name: "x" } })).status).toBe(403);
    expect((await t.request("/api/v2/templates/local", { method: "DELETE", token: member.token })).status).toBe(403);
    const created = await post("/api/v2/templates", admin.token, body);
    expect(created.status, created.text).toBe(201);
    templateId = String(field(created.body, "id"));
    expect(created.body).toMatchObject({ name: "gated", provisioner: "local", start_command: "", created_by: admin.id, active_developers: 0 });
    // Commands are for template managers only.
    const asMember = await t.request(`/api/v2/templates/${templateId}`, { token: member.token });
    expect(field(asMember.body, "start_command")).toBeUndefined();
    expect(field(asMember.body, "parameters")).toEqual(expect.arrayContaining([expect.objectContaining({ name: "size", default: 2, mutable: true })]));
  });

  it("refuses bad templates with 400 naming the field, and duplicate names with 409", async () => {
    const badDefault = await post("/api/v2/templates", admin.token, {
      name: "bad",
      parameters: [{ name: "region", type: "string", validation_regex: "^eu-", default: "us-east" }],
    });
    expect(badDefault.status).toBe(400);
    expect(validationFields(badDefault.body)).toEqual(["parameters.0.default"]);
    const duplicateParam = await post("/api/v2/templates", admin.token, { name: "bad", parameters: [{ name: "a", type: "bool" }, { name: "A", type: "bool" }] });
    expect(validationFields(duplicateParam.body)).toEqual(["parameters.1.name"]);
    const commandless = await post("/api/v2/templates", admin.token, { name: "bad", provisioner: "command" });
    expect(commandless.status).toBe(400);
    expect(validationFields(commandless.body)).toEqual(["start_command"]);
    expect((await post("/api/v2/templates", admin.token, { name: "Bad Name" })).status).toBe(400);
    expect((await post("/api/v2/templates", admin.token, { name: "LOCAL".toLowerCase() })).status).toBe(409);
    expect((await t.request("/api/v2/templates/bad", { token: admin.token })).status).toBe(404);
  });

  it("updates, deprecates and deletes templates (admin); deleted ones are gone", async () => {
    const created = await post("/api/v2/templates", admin.token, { name: "scratch", display_name: "Scratch" });
    const id = String(field(created.body, "id"));
    const patched = await t.request(`/api/v2/templates/scratch`, { method: "PATCH", token: admin.token, body: { display_name: "Scratch pad", deprecated: true } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ id, display_name: "Scratch pad", deprecated: true });
    const visible = await t.request("/api/v2/templates?include_deprecated=false", { token: member.token });
    expect(names(visible.body)).not.toContain("scratch");
    const refused = await post("/api/v2/workspaces", member.token, { template_id: id });
    expect(refused.status).toBe(400);
    expect(validationFields(refused.body)).toEqual(["template_id"]);
    expect((await t.request(`/api/v2/templates/${id}`, { method: "DELETE", token: admin.token })).status).toBe(204);
    expect((await t.request(`/api/v2/templates/${id}`, { token: admin.token })).status).toBe(404);
    // The name is free again.
    expect((await post("/api/v2/templates", admin.token, { name: "scratch" })).status).toBe(201);
  });
});

describe("workspaces", () => {
  let workspaceId = "";
  let firstBuildId = "";

  it("refuses invalid parameters with 400 naming each one, and creates nothing", async () => {
    const response = await post("/api/v2/workspaces", member.token, {
      template_id: templateId,
      parameters: { size: 99, flavor: "chocolate", flag: "maybe", bogus: "x" },
    });
    expect(response.status).toBe(400);
    expect(field(response.body, "message")).toBe("Invalid workspace parameters.");
    expect(validationFields(response.body).sort()).toEqual(["parameters.bogus", "parameters.flag", "parameters.flavor", "parameters.repository", "parameters.size"]);
    expect(JSON.stringify(response.body)).toContain('Parameter \\"size\\" must be at most 8.');
    const pattern = await post("/api/v2/workspaces", member.token, { template_id: templateId, parameters: { repository: "ftp://x" } });
    expect(validationFields(pattern.body)).toEqual(["parameters.repository"]);
    const badName = await post("/api/v2/workspaces", member.token, { template_id: templateId, name: "Not_OK", parameters: { repository: "/x" } });
    expect(validationFields(badName.body)).toEqual(["name"]);
    expect((await post("/api/v2/workspaces", member.token, { template_id: "nope" })).status).toBe(400);
    expect((await t.request("/api/v2/workspaces", { token: member.token })).body).toEqual([]);
  });

  it("creates a workspace whose setup script sees its parameters, and records the build log", async () => {
    const created = await post("/api/v2/workspaces", member.token, {
      template_id: templateId,
      name: "dev",
      parameters: { repository: "https://example.com/repo.git", flag: "true", gate: true },
    });
    expect(created.status, created.text).toBe(201);
    expect(created.body).toMatchObject({
      name: "dev",
      owner_id: member.id,
      owner_name: member.username,
      template_name: "gated",
      parameters: { repository: "https://example.com/repo.git", size: 2, flag: true, gate: true },
      // The build runs in the background: it may have begun by the time the answer is written.
      status: expect.stringMatching(/^(pending|starting)$/),
      ttl_ms: null,
    });
    workspaceId = String(field(created.body, "id"));
    firstBuildId = String(field(field(created.body, "latest_build"), "id"));

    // The gate holds the build in its setup script: another build must wait its turn.
    await waitFor(async () => field((await t.request(`/api/v2/workspaces/${workspaceId}`, { token: member.token })).body, "status") === "starting", {
      timeoutMs: 10_000,
    });
    const busy = await post(`/api/v2/workspaces/${workspaceId}/builds`, member.token, { transition: "stop" });
    expect(busy.status).toBe(409);
    expect(field(busy.body, "message")).toContain("in progress");
    const root = path.join(fs.realpathSync(t.dataDir), "workspaces", workspaceId);
    fs.writeFileSync(path.join(root, "gate"), "");

    const done = await waitForWorkspaceBuild(t, member.token, workspaceId, firstBuildId);
    expect(field(done, "status")).toBe("running");
    const build = await t.request(`/api/v2/workspacebuilds/${firstBuildId}`, { token: member.token });
    expect(build.body).toMatchObject({ build_number: 1, transition: "start", status: "succeeded", error: null, initiator_id: member.id });
    expect(String(field(build.body, "log"))).toContain("repo=https://example.com/repo.git size=2 flag=true");
    expect(String(field(build.body, "log"))).toContain("setup-done");

    const duplicate = await post("/api/v2/workspaces", member.token, { template_id: templateId, name: "dev", parameters: { repository: "/x" } });
    expect(duplicate.status).toBe(409);
  });

  it("refuses transitions that make no sense, and lets exactly one of two concurrent builds through", async () => {
    expect((await post(`/api/v2/workspaces/${workspaceId}/builds`, member.token, { transition: "start" })).status).toBe(409);
    expect((await post(`/api/v2/workspaces/${workspaceId}/builds`, member.token, { transition: "pause" })).status).toBe(400);
    const [a, b] = await Promise.all([
      post(`/api/v2/workspaces/${workspaceId}/builds`, member.token, { transition: "stop" }),
      post(`/api/v2/workspaces/${workspaceId}/builds`, member.token, { transition: "stop" }),
    ]);
    expect([a?.status, b?.status].sort()).toEqual([201, 409]);
    const stopId = String(field(a?.status === 201 ? a.body : b?.body, "id"));
    const stopped = await waitForWorkspaceBuild(t, member.token, workspaceId, stopId);
    expect(field(stopped, "status")).toBe("stopped");
    expect((await post(`/api/v2/workspaces/${workspaceId}/builds`, member.token, { transition: "stop" })).status).toBe(409);

    const builds = await t.request(`/api/v2/workspaces/${workspaceId}/builds`, { token: member.token });
    expect(Array.isArray(builds.body) ? builds.body.map((row) => [field(row, "build_number"), field(row, "transition")]) : []).toEqual([
      [2, "stop"],
      [1, "start"],
    ]);
    expect(builds.text).not.toContain("setup-done");
  });

  it("lists by owner and name, in pages", async () => {
    await post("/api/v2/workspaces", member.token, { template_id: templateId, name: "second", parameters: { repository: "/x" } });
    const mine = await t.request("/api/v2/workspaces?owner=me", { token: member.token });
    expect(names(mine.body)).toEqual(["second", "dev"]);
    expect(names((await t.request("/api/v2/workspaces?q=SEC", { token: member.token })).body)).toEqual(["second"]);
    expect(names((await t.request("/api/v2/workspaces?limit=1&offset=1", { token: member.token })).body)).toEqual(["dev"]);
    expect(names((await t.request(`/api/v2/workspaces?owner=${member.username}`, { token: admin.token })).body)).toEqual(["second", "dev"]);
    expect((await t.request("/api/v2/workspaces?limit=0", { token: member.token })).status).toBe(400);
  });

  it("lets an admin read and manage another's workspace, but not ssh into it", async () => {
    expect((await t.request(`/api/v2/workspaces/${workspaceId}`, { token: admin.token })).status).toBe(200);
    expect(names((await t.request("/api/v2/workspaces", { token: admin.token })).body)).toContain("dev");
    const adminSubject = userSubject(admin.id, ["admin"]);
    const object = await t.server.services.workspaces.policyObject(adminSubject, workspaceId);
    expect(can(adminSubject, "read", object)).toBe(true);
    expect(can(adminSubject, "ssh", object)).toBe(false);
    expect(can(adminSubject, "application_connect", object)).toBe(false);
    // Nor give itself (or anyone) that use through a share: a share grants no more than its grantor holds.
    for (const grantee of [admin, other]) {
      const share = await t.request(`/api/v2/workspaces/${workspaceId}/shares/${grantee.id}`, { method: "PUT", token: admin.token, body: { role: "use" } });
      expect([share.status, field(share.body, "message")]).toEqual([403, "Only someone who may use a workspace can share its use."]);
    }
    expect(can(adminSubject, "ssh", await t.server.services.workspaces.policyObject(adminSubject, workspaceId))).toBe(false);
    expect((await t.request(`/api/v2/workspaces/${workspaceId}/shares`, { token: admin.token })).body).toEqual([]);
  });

  it("hides a workspace from other members until shared; read shares read, use shares use", async () => {
    const other_ = userSubject(other.id, ["member"]);
    expect((await t.request(`/api/v2/workspaces/${workspaceId}`, { token: other.token })).status).toBe(404);
    expect((await t.request(`/api/v2/workspacebuilds/${firstBuildId}`, { token: other.token })).status).toBe(404);
    expect((await t.request(`/api/v2/workspacebuilds/not-a-uuid`, { token: other.token })).status).toBe(400);
    expect((await t.request(`/api/v2/workspaces/${workspaceId}/shares/${other.username}`, { method: "PUT", token: other.token, body: { role: "use" } })).status).toBe(404);

    const shared = await t.request(`/api/v2/workspaces/${workspaceId}/shares/${other.username}`, { method: "PUT", token: member.token, body: { role: "read" } });
    expect(shared.status).toBe(200);
    expect(shared.body).toMatchObject({ user_id: other.id, role: "read" });
    expect((await t.request(`/api/v2/workspaces/${workspaceId}`, { token: other.token })).status).toBe(200);
    expect(names((await t.request("/api/v2/workspaces", { token: other.token })).body)).toEqual(["dev"]);
    // The new-chat picker's list: a read share is visible but not usable.
    expect(names((await t.request("/api/v2/workspaces?usable=true", { token: other.token })).body)).toEqual([]);
    expect(names((await t.request("/api/v2/workspaces?usable=true", { token: member.token })).body)).toContain("dev");
    expect((await t.request("/api/v2/workspaces?usable=maybe", { token: other.token })).status).toBe(400);
    expect(can(other_, "ssh", await t.server.services.workspaces.policyObject(other_, workspaceId))).toBe(false);
    expect((await post(`/api/v2/workspaces/${workspaceId}/builds`, other.token, { transition: "start" })).status).toBe(403);
    expect((await t.request(`/api/v2/workspaces/${workspaceId}/shares/${owner.username}`, { method: "PUT", token: other.token, body: { role: "use" } })).status).toBe(403);

    await t.request(`/api/v2/workspaces/${workspaceId}/shares/${other.id}`, { method: "PUT", token: member.token, body: { role: "use" } });
    expect(can(other_, "ssh", await t.server.services.workspaces.policyObject(other_, workspaceId))).toBe(true);
    expect(names((await t.request("/api/v2/workspaces?usable=true", { token: other.token })).body)).toEqual(["dev"]);
    const shares = await t.request(`/api/v2/workspaces/${workspaceId}/shares`, { token: other.token });
    expect(shares.body).toEqual([expect.objectContaining({ username: other.username, role: "use" })]);

    expect((await t.request(`/api/v2/workspaces/${workspaceId}/shares/${member.username}`, { method: "PUT", token: member.token, body: { role: "use" } })).status).toBe(400);
    expect((await t.request(`/api/v2/workspaces/${workspaceId}/shares/nobody-at-all`, { method: "PUT", token: member.token, body: { role: "use" } })).status).toBe(404);
    expect((await t.request(`/api/v2/workspaces/${workspaceId}/shares/${other.username}`, { method: "PUT", token: member.token, body: { role: "own" } })).status).toBe(400);

    expect((await t.request(`/api/v2/workspaces/${workspaceId}/shares/${other.username}`, { method: "DELETE", token: member.token })).status).toBe(204);
    expect((await t.request(`/api/v2/workspaces/${workspaceId}`, { token: other.token })).status).toBe(404);
    expect((await t.request(`/api/v2/workspaces/${workspaceId}/shares/${other.username}`, { method: "DELETE", token: member.token })).status).toBe(404);
  });

  it("counts active developers and refuses to delete a template in use", async () => {
    const template = await t.request(`/api/v2/templates/${templateId}`, { token: member.token });
    expect(field(template.body, "active_developers")).toBe(1);
    // Most used first, then by name.
    expect(names((await t.request("/api/v2/templates", { token: member.token })).body)).toEqual(["gated", "local", "scratch"]);
    const fuzzy = await t.request("/api/v2/templates?q=gtd", { token: member.token });
    expect(names(fuzzy.body)).toEqual(["gated"]);
    const refused = await t.request(`/api/v2/templates/${templateId}`, { method: "DELETE", token: admin.token });
    expect(refused.status).toBe(409);
    const switched = await t.request(`/api/v2/templates/${templateId}`, { method: "PATCH", token: admin.token, body: { provisioner: "command", start_command: "true" } });
    expect(switched.status).toBe(409);
  });

  it("answers 400 for a malformed workspace id and 404 for an unknown one", async () => {
    expect((await t.request("/api/v2/workspaces/not-a-uuid", { token: member.token })).status).toBe(400);
    expect((await t.request("/api/v2/workspaces/00000000-0000-4000-8000-000000000000", { token: member.token })).status).toBe(404);
  });
});

describe("templates by name", () => {
  it("a workspace can name its template (what create_workspace's model and scripts know); an unknown name is a 400", async () => {
    const created = await t.request("/api/v2/workspaces", { method: "POST", token: member.token, body: { template_id: "local", name: "by-name" } });
    expect(created.status).toBe(201);
    const local = await t.request("/api/v2/templates/local", { token: member.token });
    expect(field(created.body, "template_id")).toBe(field(local.body, "id"));
    const unknown = await t.request("/api/v2/workspaces", { method: "POST", token: member.token, body: { template_id: "no-such-template", name: "nope" } });
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({ message: "Invalid template.", validations: [{ field: "template_id", detail: 'No template named "no-such-template".' }] });
    await waitForWorkspaceBuild(t, member.token, String(field(created.body, "id")));
  });
});
