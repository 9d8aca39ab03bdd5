/** `chatd templates` and `chatd workspaces …` as a user runs them: child processes against the real server. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { field, startTestServer, type TestServer, type TestUser } from "../helpers/server.js";
import { runChatd } from "../helpers/process.js";

let t: TestServer;
let owner: TestUser;
let env: Record<string, string> = {};

beforeAll(async () => {
  t = await startTestServer();
  owner = await t.createOwner();
  const key = await t.request("/api/v2/users/me/keys", { method: "POST", token: owner.token, body: { name: "cli" } });
  env = { CHATD_URL: t.url, CHATD_TOKEN: String(field(key.body, "key")) };
});
afterAll(async () => {
  await t.close();
});

async function chatd(...args: string[]) {
  const cli = runChatd(args, env);
  const code = await cli.exited;
  return { code, stdout: cli.stdout(), stderr: cli.stderr() };
}

describe("chatd workspaces", () => {
  it("lists templates, creates a workspace and waits for its agent, stops, starts and deletes it by name", async () => {
    const templates = await chatd("templates");
    expect(templates.code).toBe(0);
    expect(templates.stdout).toMatch(/^local\tLocal\tlocal/m);

    const created = await chatd("workspaces", "create", "from-cli", "--param", "repository=");
    expect(created.code, created.stderr).toBe(0);
    const id = created.stdout.trim();
    expect(field((await t.request(`/api/v2/workspaces/${id}`, { token: owner.token })).body, "agent")).toMatchObject({ status: "connected" });

    expect((await chatd("workspaces", "list")).stdout).toMatch(/^from-cli\trunning\tlocal\tagent connected\t/m);
    expect((await chatd("workspaces", "stop", "from-cli")).code).toBe(0);
    expect(field((await t.request(`/api/v2/workspaces/${id}`, { token: owner.token })).body, "status")).toBe("stopped");
    expect((await chatd("workspaces", "start", id)).code).toBe(0);
    expect(field((await t.request(`/api/v2/workspaces/${id}`, { token: owner.token })).body, "status")).toBe("running");
    expect((await chatd("workspaces", "delete", "from-cli")).code).toBe(0);
    expect(field((await t.request(`/api/v2/workspaces/${id}`, { token: owner.token })).body, "status")).toBe("deleted");
  }, 90_000);

  it("explains mistakes: unknown names, bad parameters, missing token", async () => {
    const unknown = await chatd("workspaces", "stop", "nope");
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no workspace of yours is named "nope"');
    const badParam = await chatd("workspaces", "create", "x", "--param", "novalue");
    expect(badParam.code).toBe(2);
    expect(badParam.stderr).toContain("--param takes name=value");
    const unknownParam = await chatd("workspaces", "create", "y", "--param", "color=red");
    expect(unknownParam.code).toBe(1);
    expect(unknownParam.stderr).toContain("Invalid workspace parameters.");
    expect(unknownParam.stderr).toContain("parameters.color");
    const noToken = runChatd(["workspaces", "list"], { CHATD_URL: t.url });
    expect(await noToken.exited).toBe(2);
  }, 60_000);
});
