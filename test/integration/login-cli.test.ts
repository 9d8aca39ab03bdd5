/**
 * `chatd login`, `chatd logout` and `chatd chats` as a user runs them: child processes against the
 * real server, each with its own config directory. A terminal, where one is needed, is a
 * pseudo-terminal made by util-linux `script`.
 */
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { configureAnthropicModel, field, startTestServer, type TestServer, type TestUser } from "../helpers/server.js";
import { useMockLlm } from "../helpers/llm.js";
import { runChatd } from "../helpers/process.js";
import { waitFor } from "../helpers/wait.js";

const CHATD_BIN = fileURLToPath(new URL("../../bin/chatd.mjs", import.meta.url));
/** A CLI process compiles its sources with tsx first; on a loaded machine that takes seconds. */
const OUTPUT_TIMEOUT_MS = 30_000;
const HAS_SCRIPT = spawnSync("script", ["--version"]).status === 0;

const mock = useMockLlm();
let t: TestServer;
let owner: TestUser;
let home: string;

beforeAll(async () => {
  t = await startTestServer();
  owner = await t.createOwner();
  await configureAnthropicModel(t, owner, mock.baseUrls.anthropic);
});
afterAll(async () => {
  await t.close();
});
beforeEach(() => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), "chatd-login-"));
});
afterEach(() => {
  fs.rmSync(home, { recursive: true, force: true });
});

const configFile = () => path.join(home, "chatd", "config.json");
/** Only the config directory: no CHATD_URL or CHATD_TOKEN, so what the CLI uses is the stored login. */
const loginEnv = (extra: Record<string, string> = {}) => ({ XDG_CONFIG_HOME: home, ...extra });

async function chatd(args: string[], env: Record<string, string> = loginEnv()) {
  const cli = runChatd(args, env);
  const code = await cli.exited;
  return { code, stdout: cli.stdout(), stderr: cli.stderr() };
}

/** The environment of a child: this one's without chatd settings, plus `extra`. */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith("CHATD_") && name !== "NO_COLOR") env[name] = value;
  return { ...env, ...extra };
}

/** Runs chatd with `input` written to its stdin (a pipe, not a terminal). */
async function chatdWithInput(args: string[], input: string, env: Record<string, string> = loginEnv()) {
  const child = spawn(process.execPath, [CHATD_BIN, ...args], { env: childEnv(env), stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => void (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => void (stderr += chunk.toString()));
  child.stdin.end(input);
  const code = await new Promise<number | string>((resolve) => child.once("exit", (c, signal) => resolve(c ?? signal ?? "unknown")));
  return { code, stdout, stderr };
}

/** Runs chatd on a pseudo-terminal; `answer` is called with what it printed so far, and may type. */
function chatdOnTerminal(args: string[], env: Record<string, string>) {
  const command = [process.execPath, CHATD_BIN, ...args].map((arg) => `'${arg.replace(/'/g, "'\\''")}'`).join(" ");
  const child = spawn("script", ["-q", "-e", "-c", command, "/dev/null"], { env: childEnv(env), stdio: ["pipe", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => void (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => void (output += chunk.toString()));
  const exited = new Promise<number | string>((resolve) => child.once("exit", (c, signal) => resolve(c ?? signal ?? "unknown")));
  return { child, output: () => output, exited };
}

async function keyIds(user: TestUser): Promise<unknown[]> {
  const keys = await t.request("/api/v2/users/me/keys", { token: user.token });
  return Array.isArray(keys.body) ? keys.body.map((key) => field(key, "id")) : [];
}

describe("chatd login", () => {
  it("stores a token (0600, directory 0700) that chats and templates then use; logout revokes it", async () => {
    const login = await chatdWithInput(["login", "--url", t.url], `${owner.username}\n${owner.password}\n`);
    expect(login.code, login.stderr).toBe(0);
    expect(login.stdout).toBe(`logged in to ${t.url} as ${owner.username}; the API token is stored in ${configFile()}\n`);
    expect(login.stdout + login.stderr).not.toContain(owner.password);
    expect(fs.statSync(configFile()).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.dirname(configFile())).mode & 0o777).toBe(0o700);
    const stored: unknown = JSON.parse(fs.readFileSync(configFile(), "utf8"));
    expect(stored).toMatchObject({ url: t.url, username: owner.username, token: expect.any(String), key_id: expect.any(String) });
    const keyId = field(stored, "key_id");
    expect(await keyIds(owner)).toContain(keyId);

    const chats = await chatd(["chats"]);
    expect(chats.code, chats.stderr).toBe(0);
    const templates = await chatd(["templates"]);
    expect(templates.code, templates.stderr).toBe(0);
    expect(templates.stdout).toMatch(/^local\tLocal\tlocal/m);

    // Explicit settings win over the stored login, and the stored token never goes to another server.
    const envToken = await chatd(["chats"], loginEnv({ CHATD_TOKEN: "not-a-real-token" }));
    expect(envToken.code).toBe(1);
    expect(envToken.stderr).toMatch(/^chatd: [^\n]*\(HTTP 401\); run chatd login, or check CHATD_TOKEN\n$/);
    const elsewhere = await chatd(["chats", "--url", "http://127.0.0.1:9"]);
    expect(elsewhere.code).toBe(2);
    expect(elsewhere.stderr).toBe(
      `chatd: no API token: run chatd login, or set CHATD_TOKEN (an API token: POST /api/v2/users/me/keys), or pass --token (the stored login is for ${t.url})\n`,
    );

    const logout = await chatd(["logout"]);
    expect(logout.code).toBe(0);
    expect(logout.stdout).toBe(`logged out of ${t.url}; the token was revoked\n`);
    expect(fs.existsSync(configFile())).toBe(false);
    expect(await keyIds(owner)).not.toContain(keyId);
    expect((await chatd(["chats", "--url", t.url])).code).toBe(2);
  }, 90_000);

  it("takes --username and CHATD_USER_PASSWORD, replaces an earlier login, and refuses a wrong password on one line", async () => {
    const first = await chatdWithInput(["login", "--url", t.url], `${owner.email}\n${owner.password}\n`);
    expect(first.code, first.stderr).toBe(0);
    const firstKey = field(JSON.parse(fs.readFileSync(configFile(), "utf8")), "key_id");

    const second = await chatd(["login", "--username", owner.username], loginEnv({ CHATD_URL: t.url, CHATD_USER_PASSWORD: owner.password }));
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toBe(`chatd: replaced the previous login (${t.url}): the token was revoked\n`);
    const ids = await keyIds(owner);
    expect(ids).not.toContain(firstKey);
    expect(ids).toContain(field(JSON.parse(fs.readFileSync(configFile(), "utf8")), "key_id"));

    const wrong = await chatd(["login", "--url", t.url, "--username", owner.username], loginEnv({ CHATD_USER_PASSWORD: "not-the-password" }));
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/^chatd: [^\n]*\(HTTP 401\)[^\n]*\n$/);
    const missing = await chatdWithInput(["login", "--url", t.url], "");
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("stdin ended before the username");
  }, 90_000);

  it.skipIf(!HAS_SCRIPT)("reads the password on a terminal without echoing it", async () => {
    const cli = chatdOnTerminal(["login", "--url", t.url, "--username", owner.username], { XDG_CONFIG_HOME: home });
    await waitFor(() => cli.output().includes("Password: "), { timeoutMs: OUTPUT_TIMEOUT_MS, message: "the password question" });
    cli.child.stdin.write(`${owner.password}\r`);
    expect(await cli.exited, cli.output()).toBe(0);
    expect(cli.output()).toContain(`logged in to ${t.url} as ${owner.username}`);
    expect(cli.output()).not.toContain(owner.password);
    cli.child.stdin.end();
  }, 60_000);
});

describe("chatd chats", () => {
  it("lists the caller's chats, tab-separated and without colour when piped; --json gives the API's objects", async () => {
    const member = await t.createUser(owner);
    const ownChat = await t.request("/api/experimental/chats", { method: "POST", token: owner.token, body: { content: [{ type: "text", text: "Mine to list" }] } });
    const othersChat = await t.request("/api/experimental/chats", { method: "POST", token: member.token, body: { content: [{ type: "text", text: "Not yours" }] } });
    expect(ownChat.status).toBe(201);
    expect(othersChat.status).toBe(201);
    const key = await t.request("/api/v2/users/me/keys", { method: "POST", token: owner.token, body: { name: "cli" } });
    const env = loginEnv({ CHATD_URL: t.url, CHATD_TOKEN: String(field(key.body, "key")) });

    const listed = await t.request("/api/experimental/chats", { token: owner.token });
    const expected = Array.isArray(listed.body) ? listed.body.map((chat) => [field(chat, "id"), field(chat, "title"), field(chat, "status"), field(chat, "updated_at")].join("\t")) : [];
    expect(expected.length).toBeGreaterThan(0);
    const plain = await chatd(["chats"], env);
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout).not.toMatch(/\x1b/);
    // The chat may move on between the two reads; the lines name the same chats in the same order.
    const ids = (text: string) => text.trim().split("\n").map((line) => line.split("\t")[0]);
    expect(ids(plain.stdout)).toEqual(expected.map((line) => line.split("\t")[0]));
    for (const line of plain.stdout.trim().split("\n")) expect(line).toMatch(/^[0-9a-f-]{36}\t[^\t]*\t(waiting|pending|running|error)\t\d{4}-\d\d-\d\dT[^\t]+\t\d+$/);
    expect(plain.stdout).toContain(String(field(ownChat.body, "id")));
    expect(plain.stdout).not.toContain(String(field(othersChat.body, "id")));

    const json = await chatd(["chats", "--json", "--limit", "1"], env);
    expect(json.code).toBe(0);
    const parsed: unknown = JSON.parse(json.stdout);
    expect(Array.isArray(parsed) && parsed.length === 1 && field(parsed[0], "id") === ids(plain.stdout)[0]).toBe(true);
    const badLimit = await chatd(["chats", "--limit", "0"], env);
    expect(badLimit.code).toBe(2);
    expect(badLimit.stderr).toBe("chatd: --limit takes 1 to 200\n");
  }, 90_000);

  it.skipIf(!HAS_SCRIPT)("is a table on a terminal, coloured unless NO_COLOR is set", async () => {
    const key = await t.request("/api/v2/users/me/keys", { method: "POST", token: owner.token, body: { name: "cli" } });
    const env = { XDG_CONFIG_HOME: home, CHATD_URL: t.url, CHATD_TOKEN: String(field(key.body, "key")) };
    const coloured = chatdOnTerminal(["chats"], env);
    expect(await coloured.exited, coloured.output()).toBe(0);
    expect(coloured.output()).toMatch(/ID +TITLE +STATUS +UPDATED/);
    expect(coloured.output()).toContain("\x1b[");
    const plain = chatdOnTerminal(["chats"], { ...env, NO_COLOR: "1" });
    expect(await plain.exited, plain.output()).toBe(0);
    expect(plain.output()).toMatch(/ID +TITLE +STATUS +UPDATED/);
    expect(plain.output()).not.toMatch(/\x1b/);
  }, 60_000);
});
