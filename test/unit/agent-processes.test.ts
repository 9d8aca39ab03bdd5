import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AgentError } from "../../src/agent/errors.js";
import { PIPE_CLOSE_WAIT_MS, PROCESS_LIST_LIMIT, ProcessManager, type ProcessExitEvent, type ProcessOwner } from "../../src/agent/processes.js";
import { waitFor } from "../helpers/wait.js";
import { isGone } from "../helpers/process.js";

const chatA: ProcessOwner = { chatId: "chat-a", chatIds: ["chat-a", "root"] };
const chatB: ProcessOwner = { chatId: "chat-b", chatIds: ["chat-b"] };
/** Long enough for any command here to finish on a loaded machine; a hang still fails fast enough. */
const WAIT_MS = 10_000;

let dir: string;
let manager: ProcessManager;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "chatd-proc-"));
  manager = new ProcessManager({ directory: dir, env: { ...process.env, FROM_AGENT: "agent" }, pipeCloseWaitMs: 300, reapAfterMs: 60_000 });
});
afterEach(async () => {
  manager.shutdown();
  await rm(dir, { recursive: true, force: true });
});

async function run(command: string, owner = chatA, extra: { workdir?: string; env?: Record<string, string> } = {}) {
  const started = await manager.start({ command, background: false, ...extra }, owner);
  const result = await manager.output({ id: started.id, wait_ms: WAIT_MS }, owner);
  return { id: started.id, ...result, text: Buffer.from(result.output_base64, "base64").toString("utf8") };
}


async function agentError(action: () => unknown): Promise<AgentError> {
  try {
    await action();
  } catch (error) {
    if (error instanceof AgentError) return error;
    throw error;
  }
  throw new Error("expected an AgentError");
}

describe("ProcessManager", () => {
  it("runs sh -c, merges stdout and stderr, and reports the exit code", async () => {
    const result = await run("echo out; echo err >&2; exit 3");
    expect(result.running).toBe(false);
    expect(result.exit_code).toBe(3);
    expect(result.text).toContain("out\n");
    expect(result.text).toContain("err\n");
    expect(result.truncated).toBeUndefined();
  });

  it("passes binary output through base64 exactly", async () => {
    const result = await run("printf 'a\\000b\\377\\n'");
    expect(Buffer.from(result.output_base64, "base64").equals(Buffer.from([0x61, 0x00, 0x62, 0xff, 0x0a]))).toBe(true);
  });

  it("closes stdin, adds the request env to the agent env, and resolves workdirs", async () => {
    await mkdir(path.join(dir, "sub"));
    expect((await run("cat; echo eof")).text).toBe("eof\n");
    expect((await run('echo "$FROM_AGENT $FROM_REQUEST"', chatA, { env: { FROM_REQUEST: "request" } })).text).toBe("agent request\n");
    expect((await run("pwd")).text).toBe(`${dir}\n`);
    expect((await run("pwd", chatA, { workdir: "sub" })).text).toBe(`${path.join(dir, "sub")}\n`);
    expect((await run("pwd", chatA, { workdir: "/" })).text).toBe("/\n");
    const missing = await agentError(() => manager.start({ command: "true", workdir: "nope", background: false }, chatA));
    expect(missing.code).toBe("bad_request");
    expect(missing.message).toContain(path.join(dir, "nope"));
  });

  it("answers a snapshot at once, and a wait that times out while the process runs", async () => {
    const started = await manager.start({ command: "sleep 30", background: true }, chatA);
    expect(await manager.output({ id: started.id, wait_ms: 0 }, chatA)).toEqual({ running: true, output_base64: "" });
    const before = Date.now();
    const waited = await manager.output({ id: started.id, wait_ms: 150 }, chatA);
    expect(waited.running).toBe(true);
    expect(Date.now() - before).toBeGreaterThanOrEqual(140);
  });

  it("terminate and kill reach the whole process group, grandchildren included", async () => {
    const started = await manager.start({ command: "sleep 300 & echo $!; wait", background: true }, chatA);
    let grandchild = 0;
    await waitFor(
      async () => {
        const text = Buffer.from((await manager.output({ id: started.id, wait_ms: 0 }, chatA)).output_base64, "base64").toString();
        grandchild = Number.parseInt(text, 10);
        return grandchild > 0;
      },
      { message: "the grandchild's pid" },
    );
    expect(isGone(grandchild)).toBe(false);
    const signalled = manager.signal({ id: started.id, signal: "terminate" }, chatA);
    expect(signalled.message).toContain("SIGTERM");
    const result = await manager.output({ id: started.id, wait_ms: WAIT_MS }, chatA);
    expect(result).toMatchObject({ running: false, exit_code: 128 + 15 });
    await waitFor(() => isGone(grandchild), { message: "grandchild killed with its group" });

    const second = await manager.start({ command: "sleep 300", background: true }, chatA);
    manager.signal({ id: second.id, signal: "kill" }, chatA);
    expect(await manager.output({ id: second.id, wait_ms: WAIT_MS }, chatA)).toMatchObject({ running: false, exit_code: 128 + 9 });
    expect(manager.signal({ id: second.id, signal: "kill" }, chatA).message).toContain("already exited");
  });

  it("scopes processes to the chat that started them", async () => {
    const started = await manager.start({ command: "sleep 30", background: true }, chatA);
    expect(manager.list(chatB).processes).toEqual([]);
    expect((await agentError(() => manager.output({ id: started.id, wait_ms: 0 }, chatB))).code).toBe("not_found");
    expect((await agentError(() => manager.signal({ id: started.id, signal: "kill" }, chatB))).code).toBe("not_found");
    expect(manager.list(chatA).processes.map((p) => p.id)).toEqual([started.id]);
    expect((await agentError(() => manager.output({ id: "0000", wait_ms: 0 }, chatA))).code).toBe("not_found");
  });

  it("lists running processes first, then newest first, at most 10", async () => {
    const running = await manager.start({ command: "sleep 30", background: true }, chatA);
    const exited: string[] = [];
    for (let i = 0; i < 12; i++) {
      const started = await manager.start({ command: `exit ${i}`, background: false }, chatA);
      await manager.output({ id: started.id, wait_ms: WAIT_MS }, chatA);
      exited.push(started.id);
    }
    const listed = manager.list(chatA).processes;
    expect(listed).toHaveLength(PROCESS_LIST_LIMIT);
    expect(listed[0]).toMatchObject({ id: running.id, running: true, background: true, command: "sleep 30", workdir: dir });
    expect(listed[0]?.exit_code).toBeUndefined();
    expect(listed.slice(1).map((p) => p.id)).toEqual(exited.slice().reverse().slice(0, PROCESS_LIST_LIMIT - 1));
    expect(listed[1]).toMatchObject({ running: false, exit_code: 11, background: false });
    expect(listed[1]?.exited_at_unix).toBeGreaterThanOrEqual(listed[1]?.started_at_unix ?? Infinity);
  });

  it("finalizes after the pipe-close wait when a background grandchild holds the pipe", async () => {
    expect(PIPE_CLOSE_WAIT_MS).toBe(5_000);
    const before = Date.now();
    const result = await run("sleep 30 & echo started");
    expect(result).toMatchObject({ running: false, exit_code: 0, text: "started\n" });
    // sh exited at once; the 300 ms configured wait for the pipe is what held the result back.
    expect(Date.now() - before).toBeGreaterThanOrEqual(250);
    expect(Date.now() - before).toBeLessThan(WAIT_MS);
  });

  it("emits one exit event per process, with the chat and its ancestors", async () => {
    const events: ProcessExitEvent[] = [];
    manager.onExit((event) => events.push(event));
    const { id } = await run("true");
    expect(events).toEqual([{ id, chatIds: ["chat-a", "root"], workdir: dir }]);
  });

  it("forgets exited processes after the reap delay", async () => {
    const quick = new ProcessManager({ directory: dir, env: process.env, reapAfterMs: 50 });
    const started = await quick.start({ command: "true", background: false }, chatA);
    await quick.output({ id: started.id, wait_ms: WAIT_MS }, chatA);
    await waitFor(() => quick.list(chatA).processes.length === 0, { message: "reaped" });
    expect((await agentError(() => quick.output({ id: started.id, wait_ms: 0 }, chatA))).code).toBe("not_found");
  });

  it("kills every process group on shutdown and refuses new work", async () => {
    const started = await manager.start({ command: "sleep 300", background: true }, chatA);
    manager.shutdown();
    expect(await manager.output({ id: started.id, wait_ms: WAIT_MS }, chatA)).toMatchObject({ running: false, exit_code: 128 + 9 });
    expect((await agentError(() => manager.start({ command: "true", background: false }, chatA))).code).toBe("internal");
  });
});
