/**
 * `chatd templates` and `chatd workspaces …` as a user runs them: child processes against the
 * real server, with an empty config directory unless a test stores a login in it.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeCliConfig } from "../../src/cli/config-file.js";
import { field, startTestServer, type TestServer, type TestUser } from "../helpers/server.js";
import { runChatd } from "../helpers/process.js";

let t: TestServer;
let owner: TestUser;
let env: Record<string, string> = {};
let configHome: string;

beforeAll(async () => {
  t = await startTestServer();
  owner = await t.createOwner();
  const key = await t.request("/api/v2/users/me/keys", { method: "POST", token: owner.token, body: { name: "cli" } });
  configHome = fs.mkdtempSync(path.join(os.tmpdir(), "chatd-cli-home-"));
  env = { CHATD_URL: t.url, CHATD_TOKEN: String(field(key.body, "key")), XDG_CONFIG_HOME: configHome };
});
afterAll(async () => {
  await t.close();
  fs.rmSync(configHome, { recursive: true, force: true });
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
    const noToken = runChatd(["workspaces", "list"], { CHATD_URL: t.url, XDG_CONFIG_HOME: configHome });
    expect(await noToken.exited).toBe(2);
    const badSub = await chatd("workspaces", "frobnicate");
    expect(badSub.code).toBe(2);
    expect(badSub.stderr).toMatch(/^chatd: usage:/);
  }, 60_000);

  it("uses the server and token `chatd login` stored when none is given", async () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), "chatd-cli-login-"));
    try {
      writeCliConfig({ url: t.url, token: String(env.CHATD_TOKEN) }, { XDG_CONFIG_HOME: home });
      const cli = runChatd(["workspaces", "list"], { XDG_CONFIG_HOME: home });
      expect(await cli.exited, cli.stderr()).toBe(0);
      expect(cli.stderr()).toBe("");
    } finally {
      fs.rmSync(home, { recursive: true, force: true });
    }
  }, 60_000);
});
