/**
 * A machine without bubblewrap: the server warns at start, the Local template says its workspaces
 * are not isolated, and a workspace still works (its agent connects and runs commands).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configureAnthropicModel, field, startTestServer, type TestServer, type TestUser } from "../helpers/server.js";
import { useMockLlm } from "../helpers/llm.js";
import { createChatViaApi, finishedToolResults, localTemplateId, resultOf, scriptChat } from "../helpers/workspace-chat.js";

const mock = useMockLlm();
let t: TestServer;
let owner: TestUser;
let bin = "";

/** A PATH with the basic tools a workspace needs, and no bwrap. */
function pathWithoutBwrap(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "chatd-nobwrap-"));
  for (const tool of ["sh", "git", "ls", "cat", "echo", "env", "mkdir", "rm"]) {
    const target = execFileSync("sh", ["-c", `command -v ${tool}`]).toString().trim();
    if (target.startsWith("/")) fs.symlinkSync(target, path.join(dir, tool));
  }
  return dir;
}

beforeAll(async () => {
  bin = pathWithoutBwrap();
  t = await startTestServer({ workspaces: { hostEnv: { PATH: bin, LANG: "C.UTF-8" } } });
  owner = await t.createOwner();
  await configureAnthropicModel(t, owner, mock.baseUrls.anthropic);
}, 60_000);
afterAll(async () => {
  await t.close();
  fs.rmSync(bin, { recursive: true, force: true });
});

describe("without bubblewrap", () => {
  it("warns at start, and the Local template says its workspaces are not isolated", async () => {
    expect(t.logs.some((line) => line.includes('"level":40') && line.includes("not isolated"))).toBe(true);
    const template = await t.request(`/api/v2/templates/${await localTemplateId(t, owner)}`, { token: owner.token });
    expect(field(template.body, "isolated")).toBe(false);
    expect(field(template.body, "warnings")).toEqual([expect.stringContaining("bubblewrap (bwrap) is not installed")]);
  });

  it("still runs a workspace", async () => {
    scriptChat(mock, [
      [{ name: "create_workspace", input: { template_id: await localTemplateId(t, owner) } }],
      [{ name: "execute", input: { command: "echo unsandboxed" } }],
      "ok",
    ]);
    const chatId = await createChatViaApi(t, owner, "Work without a sandbox");
    const [created, echoed] = (await finishedToolResults(t, chatId)).map(resultOf);
    expect(created).toMatchObject({ created: true, agent_status: "ready" });
    expect(echoed).toMatchObject({ success: true, output: "unsandboxed\n" });
  }, 60_000);
});
