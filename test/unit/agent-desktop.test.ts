/**
 * The agent's virtual desktop against a real Xvfb, x11vnc, xdotool and ImageMagick (`.ci/run`
 * installs them): start, screenshots decoded and measured, a real X client (xterm) clicked and
 * typed into until the screen shows it, the RFB banner from x11vnc's socket, input validation,
 * the missing-program report, and the same through the agent's RPC. Skipped, with a warning,
 * where Xvfb is not installed.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { existsSync, realpathSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAgent, type RunningAgent } from "../../src/agent/agent.js";
import { desktopActionSchema, performAction, pngSize, screenshot, xdotoolArgs, type DesktopAction } from "../../src/agent/desktop/actions.js";
import { DESKTOP_HEIGHT, DESKTOP_WIDTH, Desktop } from "../../src/agent/desktop/desktop.js";
import { MAX_WAIT_MS } from "../../src/agent/desktop/schema.js";
import { AgentError } from "../../src/agent/errors.js";
import { AgentCallError, startFakeAgentServer, type FakeAgentServer } from "../helpers/agent-server.js";
import { decodePng, differingPixels, type DecodedPng } from "../helpers/png.js";
import { waitFor } from "../helpers/wait.js";

const TOKEN = "abcdefghij-ABCDEFGHIJKLMNOPQRSTUV";
/** Screenshots timed for the p50/p99 figures. */
const SCREENSHOT_SAMPLES = 20;
/** X clients render asynchronously; 10 s is far beyond a healthy Xvfb, well below the test timeout. */
const RENDER_DEADLINE_MS = 10_000;

const hasXvfb = (process.env.PATH ?? "").split(":").some((dir) => existsSync(path.join(dir, "Xvfb")));
if (!hasXvfb) console.warn("agent-desktop tests skipped: Xvfb is not installed (apt-get install -y xvfb x11vnc xdotool imagemagick xterm)");

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

function run(program: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(program, args, { env, timeout: RENDER_DEADLINE_MS }, (error, stdout) => (error ? reject(error) : resolve(stdout)));
  });
}

/** Reads the first `length` bytes a Unix-socket server sends. */
function readBanner(socketPath: string, length: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    let data = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error("no RFB banner in time"));
    }, RENDER_DEADLINE_MS);
    socket.on("data", (chunk) => {
      data = Buffer.concat([data, chunk]);
      if (data.length >= length) {
        clearTimeout(timer);
        socket.destroy();
        resolve(data.subarray(0, length).toString("latin1"));
      }
    });
    socket.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

describe.skipIf(!hasXvfb)("agent desktop on a real Xvfb", () => {
  const logs: string[] = [];
  const desktop = new Desktop({ env: process.env, log: (line) => logs.push(line) });
  let xterm: ChildProcess | undefined;
  let startMs = 0;

  beforeAll(async () => {
    const started = performance.now();
    await desktop.start();
    startMs = performance.now() - started;
  });

  afterAll(async () => {
    xterm?.kill("SIGKILL");
    await desktop.stop();
  });

  it("starts at the computer tool's size, once, and screenshots are PNGs of that size", async () => {
    const info = await desktop.start();
    const again = await desktop.start();
    expect(again).toEqual(info);
    expect(info).toMatchObject({ width: 1280, height: 720 });
    expect(info.display).toMatch(/^:\d+$/);
    const png = await screenshot(desktop);
    expect(pngSize(png)).toEqual({ width: DESKTOP_WIDTH, height: DESKTOP_HEIGHT });
    const decoded = decodePng(png);
    expect(decoded.rgb.length).toBe(DESKTOP_WIDTH * DESKTOP_HEIGHT * 3);

    const rounds: number[] = [];
    for (let i = 0; i < SCREENSHOT_SAMPLES; i++) {
      const before = performance.now();
      await performAction(desktop, { action: "screenshot" });
      rounds.push(performance.now() - before);
    }
    console.log(
      `desktop: start ${startMs.toFixed(0)} ms; screenshot round trip over ${SCREENSHOT_SAMPLES}: p50 ${percentile(rounds, 50).toFixed(1)} ms, p99 ${percentile(rounds, 99).toFixed(1)} ms; PNG ${png.length} bytes`,
    );
  });

  it("answers the RFB 3.8 banner on x11vnc's socket", async () => {
    const { vnc_socket } = await desktop.start();
    expect(await readBanner(vnc_socket, 12)).toBe("RFB 003.008\n");
  });

  it("clicks into a real xterm and types; the screenshot shows the text", async () => {
    const env = await desktop.clientEnv();
    // `cat` instead of a shell: nothing is drawn until we type, so every change is ours.
    xterm = spawn("xterm", ["-geometry", "80x24+0+0", "-bg", "white", "-fg", "black", "-e", "cat"], { env, stdio: "ignore" });
    await run("xdotool", ["search", "--sync", "--onlyvisible", "--class", "xterm"], env);
    // Mapped is not painted: wait until two screenshots agree, then that is the baseline.
    let baseline: DecodedPng = decodePng(await screenshot(desktop));
    await waitFor(
      async () => {
        const next = decodePng(await screenshot(desktop));
        const stable = differingPixels(baseline, next) === 0;
        baseline = next;
        return stable;
      },
      { timeoutMs: RENDER_DEADLINE_MS, message: "xterm settles" },
    );
    expect(differingPixels(baseline, decodePng(await screenshot(desktop)))).toBe(0);

    const clicked = decodePng(await performAction(desktop, { action: "left_click", coordinate: [100, 100] }));
    expect(clicked.width).toBe(DESKTOP_WIDTH);
    const typed = decodePng(await performAction(desktop, { action: "type", text: "hello desktop" }));
    let changed = differingPixels(baseline, typed);
    const immediately = changed;
    await waitFor(
      async () => {
        changed = differingPixels(baseline, decodePng(await performAction(desktop, { action: "key", text: "Return" })));
        return changed > 0;
      },
      { timeoutMs: RENDER_DEADLINE_MS, message: "typed text appears on screen" },
    );
    console.log(`desktop: ${immediately} pixels changed in the screenshot returned by type; ${changed} after Return`);
    expect(changed).toBeGreaterThan(50);
  });

  it("refuses coordinates outside the display and key names xdotool would misread", async () => {
    const info = await desktop.start();
    expect(() => xdotoolArgs({ action: "left_click", coordinate: [DESKTOP_WIDTH, 10] }, info)).toThrow(/outside the 1280x720 display/);
    expect(() => xdotoolArgs({ action: "left_click_drag", start_coordinate: [0, 0], coordinate: [5, DESKTOP_HEIGHT] }, info)).toThrow(AgentError);
    expect(desktopActionSchema.safeParse({ action: "left_click", coordinate: [-1, 5] }).success).toBe(false);
    expect(desktopActionSchema.safeParse({ action: "key", text: "ctrl+a; rm -rf /" }).success).toBe(false);
    expect(desktopActionSchema.safeParse({ action: "key", text: "--help" }).success).toBe(false);
    expect(desktopActionSchema.safeParse({ action: "key", text: "ctrl+a Return" }).success).toBe(true);
    const wait: DesktopAction = desktopActionSchema.parse({ action: "wait" });
    expect(wait).toEqual({ action: "wait", duration: 1000 });
    expect(desktopActionSchema.safeParse({ action: "wait", duration: MAX_WAIT_MS + 1 }).success).toBe(false);
    expect(xdotoolArgs({ action: "type", text: "-x --sync" }, info)).toEqual(["type", "--delay", "12", "--", "-x --sync"]);
    // A click without a coordinate lands where the pointer is (Anthropic's computer tool allows it).
    expect(xdotoolArgs({ action: "left_click" }, info)).toEqual(["click", "1"]);
    expect(xdotoolArgs({ action: "triple_click", coordinate: [3, 4] }, info)).toEqual(["mousemove", "3", "4", "click", "--repeat", "3", "1"]);
    expect(xdotoolArgs({ action: "scroll", coordinate: [10, 20], scroll_direction: "down", scroll_amount: 3 }, info)).toEqual([
      "mousemove", "10", "20", "click", "--repeat", "3", "5",
    ]);
    // Every action kind runs on the real display.
    for (const action of [
      { action: "mouse_move", coordinate: [5, 5] },
      { action: "right_click", coordinate: [900, 600] },
      { action: "middle_click", coordinate: [900, 600] },
      { action: "double_click", coordinate: [900, 600] },
      { action: "triple_click" },
      { action: "left_mouse_down" },
      { action: "mouse_move", coordinate: [950, 620] },
      { action: "left_mouse_up" },
      { action: "scroll", coordinate: [900, 600], scroll_direction: "up", scroll_amount: 2 },
      { action: "left_click_drag", start_coordinate: [700, 500], coordinate: [800, 550] },
      { action: "wait", duration: 10 },
    ] satisfies DesktopAction[]) {
      expect(pngSize(await performAction(desktop, action))).toEqual({ width: DESKTOP_WIDTH, height: DESKTOP_HEIGHT });
    }
  });

  it("names the missing program and its Debian package", async () => {
    const bare = new Desktop({ env: { ...process.env, PATH: "/nonexistent" }, log: () => undefined });
    await expect(bare.start()).rejects.toThrow(/needs Xvfb.*Debian package: xvfb/);
    await bare.stop();
  });
});

describe.skipIf(!hasXvfb)("agent desktop after Xvfb dies", () => {
  it("forgets the dead display, cleans up its VNC server and starts a fresh one on the next action", async () => {
    const logs: string[] = [];
    const desktop = new Desktop({ env: process.env, log: (line) => logs.push(line) });
    try {
      const first = await desktop.start();
      const { xvfb } = await desktop.pids();
      if (xvfb === undefined) throw new Error("Xvfb has no pid");
      process.kill(xvfb, "SIGKILL");
      await waitFor(() => logs.some((line) => line.includes("Xvfb exited")) && !existsSync(first.vnc_socket), {
        timeoutMs: RENDER_DEADLINE_MS,
        message: "the dead desktop is torn down",
      });
      const png = await performAction(desktop, { action: "screenshot" });
      expect(pngSize(png)).toEqual({ width: DESKTOP_WIDTH, height: DESKTOP_HEIGHT });
      const second = await desktop.start();
      expect(second.vnc_socket).not.toBe(first.vnc_socket);
      expect(await readBanner(second.vnc_socket, 12)).toBe("RFB 003.008\n");
    } finally {
      await desktop.stop();
    }
  });
});

describe.skipIf(!hasXvfb)("agent desktop over the agent RPC", () => {
  let dir: string;
  let server: FakeAgentServer;
  let agent: RunningAgent;

  beforeAll(async () => {
    dir = realpathSync(await mkdtemp(path.join(tmpdir(), "chatd-agent-desktop-")));
    server = await startFakeAgentServer({ token: TOKEN });
    agent = await startAgent({ url: server.url, token: TOKEN, directory: dir, log: () => undefined });
  });

  afterAll(async () => {
    expect(server.invalidFrames).toEqual([]);
    await agent?.stop();
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("starts the desktop on demand, answers actions with screenshots, refuses bad input, stops", async () => {
    const link = await server.nextLink();
    const shot = await link.rpc["desktop.action"]({ action: "screenshot" });
    expect(shot).toMatchObject({ width: DESKTOP_WIDTH, height: DESKTOP_HEIGHT });
    expect(pngSize(Buffer.from(shot.png_base64, "base64"))).toEqual({ width: DESKTOP_WIDTH, height: DESKTOP_HEIGHT });
    const info = await link.rpc["desktop.start"]({});
    expect(info).toMatchObject({ width: DESKTOP_WIDTH, height: DESKTOP_HEIGHT });
    expect(await readBanner(info.vnc_socket, 12)).toBe("RFB 003.008\n");

    const rounds: number[] = [];
    for (let i = 0; i < SCREENSHOT_SAMPLES; i++) {
      const before = performance.now();
      await link.rpc["desktop.action"]({ action: "screenshot" });
      rounds.push(performance.now() - before);
    }
    console.log(`desktop over RPC: screenshot round trip over ${SCREENSHOT_SAMPLES}: p50 ${percentile(rounds, 50).toFixed(1)} ms, p99 ${percentile(rounds, 99).toFixed(1)} ms`);

    const outside = await link.rpc["desktop.action"]({ action: "left_click", coordinate: [5000, 5] }).catch((error: unknown) => error);
    expect(outside).toBeInstanceOf(AgentCallError);
    expect(outside).toMatchObject({ code: "bad_request" });
    const unknown = await link.request("desktop.action", { action: "zoom" });
    expect(unknown).toMatchObject({ ok: false, error: { code: "bad_request" } });

    // The VNC bridge: x11vnc's banner arrives as `vnc` frames, our reply reaches it (it answers
    // with its security types: one, None, as it runs with -nopw), and a close ends with `closed`.
    const vncBytes = (streamId: string) =>
      Buffer.concat(link.frames.flatMap((frame) => (frame.type === "vnc" && frame.stream_id === streamId ? [Buffer.from(frame.data_base64, "base64")] : [])));
    const vncClosed = (streamId: string) => link.frames.some((frame) => frame.type === "vnc" && frame.stream_id === streamId && frame.closed === true);
    await link.rpc["desktop.vnc.open"]({ stream_id: "v1" });
    await waitFor(() => vncBytes("v1").length >= 12, { timeoutMs: RENDER_DEADLINE_MS, message: "RFB banner over the agent link" });
    expect(vncBytes("v1").subarray(0, 12).toString("latin1")).toBe("RFB 003.008\n");
    await link.rpc["desktop.vnc.write"]({ stream_id: "v1", data_base64: Buffer.from("RFB 003.008\n").toString("base64") });
    await waitFor(() => vncBytes("v1").length >= 14, { timeoutMs: RENDER_DEADLINE_MS, message: "security types over the agent link" });
    expect([...vncBytes("v1").subarray(12, 14)]).toEqual([1, 1]);
    const stranger = await link.rpc["desktop.vnc.write"]({ stream_id: "nope", data_base64: "" }).catch((error: unknown) => error);
    expect(stranger).toMatchObject({ code: "not_found" });
    await link.rpc["desktop.vnc.close"]({ stream_id: "v1" });
    expect(vncClosed("v1")).toBe(true);
    // Stopping the desktop ends open bridges too.
    await link.rpc["desktop.vnc.open"]({ stream_id: "v2" });

    expect(await link.rpc["desktop.stop"]({})).toEqual({});
    expect(vncClosed("v2")).toBe(true);
    expect(existsSync(info.vnc_socket)).toBe(false);
  });
});
