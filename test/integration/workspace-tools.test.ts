/**
 * The workspace tools end to end, on the real server with the real `chatd agent` in a Local
 * workspace (inside bubblewrap when it is installed) and the mock provider speaking Anthropic's
 * wire format: create_workspace from a chat, then git, file writes and edits, reads and a commit;
 * execute's background, timeout, truncation and binary rules; and what the agent can see.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { eq, sql } from "drizzle-orm";
import { queryRows } from "../../src/db/raw.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chats, workspaceAgents, workspaces } from "../../src/db/schema/index.js";
import { configureAnthropicModel, startTestServer, type TestServer, type TestUser } from "../helpers/server.js";
import { useMockLlm } from "../helpers/llm.js";
import { createChatViaApi, finishedToolResults, localTemplateId, resultOf, scriptChat } from "../helpers/workspace-chat.js";
import { waitFor } from "../helpers/wait.js";

const HAS_BWRAP = (process.env.PATH ?? "").split(":").some((dir) => dir !== "" && fs.existsSync(path.join(dir, "bwrap")));
if (!HAS_BWRAP) console.warn("workspace-tools: bwrap is not installed, so the sandbox assertions are skipped (apt-get install -y bubblewrap)");

/** Secrets the server process holds that no agent may inherit. */
const SERVER_SECRETS = {
  OPENAI_API_KEY: "sk-openai-must-not-leak-1234",
  ANTHROPIC_API_KEY: "sk-ant-must-not-leak-5678",
  CHATD_DATABASE_URL: "postgres://leak:leak@127.0.0.1:1/leak",
  CHATD_ENCRYPTION_KEY: "bXVzdC1ub3QtbGVhay1tdXN0LW5vdC1sZWFrLTAwMDA=",
};

const mock = useMockLlm();
let t: TestServer;
let owner: TestUser;
let templateId = "";
let repoDir = "";
let workspaceId = "";
const saved: Record<string, string | undefined> = {};

beforeAll(async () => {
  for (const [name, value] of Object.entries(SERVER_SECRETS)) {
    saved[name] = process.env[name];
    process.env[name] = value;
  }
  t = await startTestServer();
  owner = await t.createOwner();
  await configureAnthropicModel(t, owner, mock.baseUrls.anthropic);
  templateId = await localTemplateId(t, owner);
  // Outside /tmp: the sandbox gives workspaces a private /tmp.
  repoDir = fs.mkdtempSync(path.join(fs.existsSync("/var/tmp") ? "/var/tmp" : os.tmpdir(), "chatd-e2e-"));
  const seed = path.join(repoDir, "seed");
  execFileSync("git", ["init", "-q", "-b", "main", seed]);
  fs.writeFileSync(path.join(seed, "README.md"), "# demo\n");
  fs.writeFileSync(path.join(seed, "AGENTS.md"), "Run `make check` before committing.\r\n<!-- maintainers only: not for the model -->\n");
  execFileSync("git", ["-C", seed, "add", "README.md", "AGENTS.md"]);
  execFileSync("git", ["-C", seed, "-c", "user.name=Seed", "-c", "user.email=seed@example.com", "commit", "-q", "-m", "seed"]);
  execFileSync("git", ["clone", "-q", "--bare", seed, path.join(repoDir, "origin.git")]);
}, 60_000);

afterAll(async () => {
  await t.close();
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  fs.rmSync(repoDir, { recursive: true, force: true });
});

async function postgresDataDirectory(): Promise<string | undefined> {
  if (t.server.database.kind !== "postgres") return undefined;
  const [row] = await queryRows(t.server.database.db, sql`SELECT current_setting('data_directory') AS dir`);
  return typeof row?.dir === "string" && fs.existsSync(row.dir) ? row.dir : undefined;
}

async function projectDir(): Promise<string> {
  const [agent] = await t.server.database.db.select().from(workspaceAgents).where(eq(workspaceAgents.workspaceId, workspaceId));
  if (!agent?.directory) throw new Error("agent has no directory");
  return agent.directory;
}

describe("a chat without a workspace", () => {
  it("creates one from the Local template and works in its git repository", async () => {
    const origin = path.join(repoDir, "origin.git");
    scriptChat(mock, [
      [{ name: "create_workspace", input: { template_id: templateId, parameters: { repository: origin } } }],
      [{ name: "execute", input: { command: "git status" } }],
      [{ name: "write_file", input: { path: "hello.txt", content: "hello\nworld\n" } }],
      [{ name: "edit_files", input: { files: [{ path: "hello.txt", edits: [{ search: "world", replace: "chatd" }] }] } }],
      [{ name: "read_file", input: { path: "hello.txt" } }],
      [{ name: "execute", input: { command: 'git add hello.txt && git -c user.name=Agent -c user.email=agent@example.com commit -q -m "Add hello" && git log --oneline -1' } }],
      "All done.",
    ]);
    const chatId = await createChatViaApi(t, owner, "Set up the demo repository and add a hello file");
    const results = await finishedToolResults(t, chatId, 120_000);
    expect(results.map((r) => r.tool_name)).toEqual(["create_workspace", "execute", "write_file", "edit_files", "read_file", "execute"]);
    for (const result of results) expect(result.is_error, JSON.stringify(result.result)).toBeUndefined();

    const created = resultOf(results[0]);
    expect(created).toMatchObject({ created: true, agent_status: "ready" });
    const [chat] = await t.server.database.db.select().from(chats).where(eq(chats.id, chatId));
    workspaceId = chat?.workspaceId ?? "";
    expect(workspaceId).toBe(created.workspace_id);

    expect(resultOf(results[1])).toMatchObject({ success: true, exit_code: 0 });
    expect(String(resultOf(results[1]).output)).toContain("On branch main");
    expect(resultOf(results[2])).toEqual({ ok: true });
    expect(resultOf(results[3])).toEqual({ ok: true });
    expect(resultOf(results[4])).toMatchObject({ total_lines: 2, lines_read: 2 });
    expect(String(resultOf(results[4]).content)).toMatch(/1\thello\n\s*2\tchatd/);
    expect(String(resultOf(results[5]).output)).toContain("Add hello");

    // Every result went back to the model: the request after each step carries it.
    const streamed = mock.requests.filter((r) => r.stream);
    expect(streamed).toHaveLength(7);
    expect(JSON.stringify(streamed[5]?.body)).toContain("chatd");
    expect(JSON.stringify(streamed[6]?.body)).toContain("Add hello");
    // The workspace's agent saw the chat's context: the <workspace-context> block after creation.
    const context = JSON.stringify(streamed[1]?.body);
    expect(context).toContain("<workspace-context>");
    expect(context).toContain("Run `make check` before committing.");
    expect(context).toContain("AGENTS.md");
    expect(context).not.toContain("maintainers only");
    expect(JSON.stringify(streamed[0]?.body)).not.toContain("<workspace-context>");

    const project = await projectDir();
    expect(fs.readFileSync(path.join(project, "hello.txt"), "utf8")).toBe("hello\nchatd\n");
    expect(execFileSync("git", ["-C", project, "log", "--format=%s", "-1"]).toString().trim()).toBe("Add hello");
    // The heartbeat of a running chat (or creation) marks the workspace used.
    const [row] = await t.server.database.db.select().from(workspaces).where(eq(workspaces.id, workspaceId));
    expect(row?.deleted).toBe(false);
  }, 150_000);
});

describe("execute", () => {
  it("backgrounds a trailing &, detaches on timeout, keeps head and tail, and round-trips binary output", async () => {
    expect(workspaceId).not.toBe("");
    scriptChat(mock, [
      [
        { name: "execute", input: { command: "sleep 0.2; echo from-background &" } },
        { name: "execute", input: { command: "sleep 1.5; echo finished-late; exit 3", timeout: "300ms" } },
        { name: "execute", input: { command: "for i in $(seq 1 20000); do echo line-$i; done" } },
        { name: "execute", input: { command: "printf 'a\\000b\\377\\376'" } },
        { name: "execute", input: { command: "cat hello.txt" } },
        { name: "execute", input: { command: "exit 7" } },
      ],
      [{ name: "process_list", input: {} }],
      "checked",
    ]);
    const chatId = await createChatViaApi(t, owner, "Exercise execute", workspaceId);
    const first = await finishedToolResults(t, chatId, 60_000);
    const [background, timedOut, long, binary, dump, failing] = first.map(resultOf);

    expect(background).toMatchObject({ success: true });
    expect(typeof background?.background_process_id).toBe("string");
    expect(timedOut).toMatchObject({ success: false, exit_code: -1, error: "command timed out after 300ms" });
    const timedOutId = String(timedOut?.background_process_id);

    expect(long?.truncated).toMatchObject({ strategy: "head_tail" });
    const truncation = long?.truncated;
    if (typeof truncation !== "object" || truncation === null) throw new Error("no truncation metadata");
    expect(String(long?.output)).toMatch(/^line-1\n/);
    expect(String(long?.output)).toMatch(/line-20000\n$/);
    expect(String(long?.output)).toMatch(/\.\.\. \[omitted \d+ bytes\] \.\.\./);
    expect(Buffer.byteLength(String(long?.output))).toBeLessThanOrEqual(33 * 1024);

    expect(Buffer.from(String(binary?.output_base64), "base64")).toEqual(Buffer.from([0x61, 0x00, 0x62, 0xff, 0xfe]));
    expect(String(binary?.output)).toContain("a\u0000b");
    expect(dump?.note).toBe("Consider using read_file instead of dumping file contents with shell commands.");
    expect(failing).toMatchObject({ success: false, exit_code: 7 });

    const listed = resultOf(first[6]);
    expect(Array.isArray(listed.processes)).toBe(true);

    // The timed-out command kept running on the agent: process_output waits for its exit code.
    scriptChat(mock, [[{ name: "process_output", input: { process_id: timedOutId, wait_timeout: "20s" } }], "ok"]);
    await t.request(`/api/experimental/chats/${chatId}/messages`, { method: "POST", token: owner.token, body: { content: [{ type: "text", text: "and now?" }] } });
    await waitFor(async () => (await finishedToolResults(t, chatId)).length === 8, { timeoutMs: 30_000, message: "process_output result" });
    const output = resultOf((await finishedToolResults(t, chatId))[7]);
    expect(output).toMatchObject({ success: false, exit_code: 3 });
    expect(String(output.output)).toContain("finished-late");
  }, 90_000);
});

describe("the agent's environment and sandbox", () => {
  function descendants(root: number): number[] {
    const children = new Map<number, number[]>();
    for (const entry of fs.readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
        const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
        children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
      } catch {
        // The process ended while we looked.
      }
    }
    const all = [root];
    for (let i = 0; i < all.length; i++) all.push(...(children.get(all[i] ?? -1) ?? []));
    return all;
  }

  it("holds no provider key, database URL or encryption key (read from /proc)", async () => {
    const [agent] = await t.server.database.db.select().from(workspaceAgents).where(eq(workspaceAgents.workspaceId, workspaceId));
    expect(agent?.pid).toBeGreaterThan(0);
    const pids = descendants(agent?.pid ?? 0);
    let read = 0;
    for (const pid of pids) {
      let environ: string;
      try {
        environ = fs.readFileSync(`/proc/${pid}/environ`, "utf8");
      } catch {
        continue;
      }
      read++;
      const names = environ.split("\0").map((entry) => entry.split("=")[0]);
      for (const [name, value] of Object.entries(SERVER_SECRETS)) {
        expect(names).not.toContain(name);
        expect(environ).not.toContain(value);
      }
      expect(names).not.toContain("CHATD_AGENT_TOKEN");
    }
    // bwrap and the node agent under it, at least.
    expect(read).toBeGreaterThanOrEqual(HAS_BWRAP ? 2 : 1);
  });

  it.skipIf(!HAS_BWRAP)("lets execute write only inside the workspace, and hides the data directory and key file", async () => {
    const dataDir = t.database.location.dataDir;
    const keyFile = path.join(dataDir, "encryption.key");
    expect(fs.existsSync(keyFile) || t.server.database.kind === "postgres").toBe(true);
    const project = await projectDir();
    const postgresDir = await postgresDataDirectory();
    scriptChat(mock, [
      [
        { name: "execute", input: { command: `cat ${keyFile}` } },
        { name: "execute", input: { command: `ls -A ${dataDir}` } },
      ],
      [
        // The hidden data directory is an empty tmpfs inside the sandbox: a write there lands in
        // memory that vanishes with the sandbox, never in the real directory (checked below).
        { name: "execute", input: { command: `touch ${path.join(dataDir, "escape")}` } },
        { name: "execute", input: { command: `touch ${path.join(process.cwd(), "escape")}` } },
        { name: "execute", input: { command: "touch /usr/escape" } },
        { name: "execute", input: { command: `touch ${path.join(project, "inside")} && echo /tmp-ok > /tmp/x && cat /tmp/x` } },
        // PostgreSQL's files, when the server runs on this machine; PGlite's are in the data dir.
        { name: "execute", input: { command: `ls -A ${postgresDir ?? dataDir}` } },
      ],
      "checked",
    ]);
    const chatId = await createChatViaApi(t, owner, "Probe the sandbox", workspaceId);
    const [key, listing, dataWrite, repoWrite, usrWrite, inside, databaseFiles] = (await finishedToolResults(t, chatId)).map(resultOf);
    expect(key?.success).toBe(false);
    expect(String(listing?.output).trim().split("\n")).toEqual(["workspaces"]);
    expect(dataWrite).toBeDefined();
    expect(repoWrite?.success).toBe(false);
    expect(usrWrite?.success).toBe(false);
    expect(inside).toMatchObject({ success: true });
    expect(String(inside?.output)).toContain("/tmp-ok");
    expect(fs.existsSync(path.join(project, "inside"))).toBe(true);
    if (postgresDir) expect(databaseFiles).toMatchObject({ success: true, exit_code: 0 });
    if (postgresDir) expect(databaseFiles?.output).toBeUndefined();
    expect(fs.existsSync(path.join(dataDir, "escape"))).toBe(false);
    expect(fs.existsSync(path.join(process.cwd(), "escape"))).toBe(false);
  }, 60_000);
});
