/**
 * The workspace's virtual desktop: an Xvfb display at the computer tool's declared size and an
 * x11vnc server on a Unix socket for it, started on first use and stopped with the agent.
 *
 * Invariants:
 * - The display number comes from Xvfb itself (`-displayfd`): no guessing free numbers, no sleeps.
 *   x11vnc counts as ready when it logs that it listens on the socket; both waits have deadlines.
 * - The size is DESKTOP_WIDTH×DESKTOP_HEIGHT, the display behavior.md section 6 declares to the
 *   model (1280×720), so model coordinates are screen coordinates with no scaling.
 * - VNC is reachable only through the socket in a 0700 directory (no TCP listener at all);
 *   the server bridges it over the agent connection.
 * - start() is idempotent and concurrent calls share one start; if Xvfb dies, the next start()
 *   starts a fresh one. stop() ends both programs and removes the socket directory; it is safe to
 *   call more than once, and a start() after it starts again.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { AgentError } from "../errors.js";
import { missingProgram, runProgram, type DesktopProgram } from "./programs.js";

import { DESKTOP_HEIGHT, DESKTOP_WIDTH } from "./schema.js";

export { DESKTOP_HEIGHT, DESKTOP_WIDTH } from "./schema.js";
/** 24-bit colour: what screenshots and VNC clients expect; 8-bit would dither the screen. */
const DESKTOP_DEPTH = 24;
/** Xvfb is up in well under a second; ten seconds means it will not come up. */
export const DESKTOP_START_TIMEOUT_MS = 10_000;
/** A program asked to stop gets this long to exit before SIGKILL. */
const STOP_GRACE_MS = 2_000;
/** Enough of a failing program's stderr to say why it failed. */
const STDERR_TAIL_CHARS = 2_000;
const VNC_READY_MARKER = "listening on unix socket:";

export interface DesktopInfo {
  /** The X display, e.g. ":1". */
  display: string;
  width: number;
  height: number;
  /** The x11vnc Unix socket (RFB 3.8). */
  vnc_socket: string;
}

interface Running {
  info: DesktopInfo;
  xvfb: ChildProcess;
  vnc: ChildProcess;
  directory: string;
}

export interface DesktopOptions {
  /** The environment X clients start from; DISPLAY is added. */
  env: NodeJS.ProcessEnv;
  log: (line: string) => void;
}

/** Collects the last STDERR_TAIL_CHARS of a stream, for error messages. */
function tail(stream: Readable | null): () => string {
  let text = "";
  stream?.on("data", (chunk: Buffer) => {
    text = (text + chunk.toString()).slice(-STDERR_TAIL_CHARS);
  });
  return () => text.trim();
}

/**
 * Resolves when `ready` sees the text it waits for in `stream`; rejects if the child fails to
 * spawn, exits first, or the deadline passes.
 */
function waitForOutput<T>(
  child: ChildProcess,
  program: DesktopProgram,
  stream: Readable | null,
  ready: (text: string) => T | undefined,
  stderr: () => string,
): Promise<T> {
  return new Promise((resolve, reject) => {
    let text = "";
    const finish = (settle: () => void) => {
      clearTimeout(timer);
      stream?.off("data", onData);
      child.off("error", onError);
      child.off("exit", onExit);
      settle();
    };
    const onData = (chunk: Buffer) => {
      text += chunk.toString();
      const value = ready(text);
      if (value !== undefined) finish(() => resolve(value));
    };
    const onError = (error: Error) => {
      finish(() => reject(isEnoent(error) ? missingProgram(program) : new AgentError("internal", `${program} failed to start: ${error.message}`)));
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
      finish(() => reject(new AgentError("internal", `${program} exited (${signal ?? `code ${code}`}) before it was ready: ${stderr() || "no output"}`)));
    };
    const timer = setTimeout(() => {
      finish(() => reject(new AgentError("internal", `${program} was not ready within ${DESKTOP_START_TIMEOUT_MS} ms: ${stderr() || "no output"}`)));
    }, DESKTOP_START_TIMEOUT_MS);
    stream?.on("data", onData);
    child.once("error", onError);
    child.once("exit", onExit);
  });
}

function isEnoent(error: Error): boolean {
  return "code" in error && error.code === "ENOENT";
}

/** SIGTERM, then SIGKILL after STOP_GRACE_MS; resolves once the child has exited. */
function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

export class Desktop {
  private starting: Promise<Running> | undefined;

  constructor(private readonly options: DesktopOptions) {}

  /** Starts the display and VNC server unless they run; resolves with where they are. */
  async start(): Promise<DesktopInfo> {
    return (await this.running()).info;
  }

  /** The environment for X clients on this desktop (starts it if needed). */
  async clientEnv(): Promise<NodeJS.ProcessEnv> {
    const { info } = await this.running();
    return { ...this.options.env, DISPLAY: info.display };
  }

  /**
   * `{DISPLAY}` of the desktop if it runs (or is starting), else nothing; never starts it. Commands
   * the agent runs get it, so a GUI program the model launches opens on the desktop it sees.
   */
  async displayEnv(): Promise<Record<string, string>> {
    const running = await this.starting?.catch(() => undefined);
    return running ? { DISPLAY: running.info.display } : {};
  }

  /** The running programs' pids, for logs and for tests that kill one to see the desktop recover. */
  async pids(): Promise<{ xvfb: number | undefined; vnc: number | undefined }> {
    const { xvfb, vnc } = await this.running();
    return { xvfb: xvfb.pid, vnc: vnc.pid };
  }

  /** Runs an X client program (xdotool, import) against the desktop. */
  async run(program: DesktopProgram, args: string[]): Promise<Buffer> {
    return runProgram(program, args, await this.clientEnv());
  }

  async stop(): Promise<void> {
    const starting = this.starting;
    this.starting = undefined;
    if (!starting) return;
    const running = await starting.catch(() => undefined);
    if (running) await this.teardown(running);
  }

  private running(): Promise<Running> {
    let starting = this.starting;
    if (!starting) {
      starting = this.launch();
      this.starting = starting;
      // A failed start must not stick: the next call tries again (packages may now be installed).
      starting.catch(() => {
        if (this.starting === starting) this.starting = undefined;
      });
    }
    return starting;
  }

  private async launch(): Promise<Running> {
    const startedAt = performance.now();
    const directory = await mkdtemp(path.join(os.tmpdir(), "chatd-desktop-"));
    let xvfb: ChildProcess | undefined;
    let vnc: ChildProcess | undefined;
    try {
      // fd 3 is where -displayfd writes the number Xvfb chose.
      xvfb = spawn("Xvfb", ["-displayfd", "3", "-screen", "0", `${DESKTOP_WIDTH}x${DESKTOP_HEIGHT}x${DESKTOP_DEPTH}`, "-nolisten", "tcp"], {
        stdio: ["ignore", "ignore", "pipe", "pipe"],
        env: this.options.env,
      });
      const xvfbErr = tail(xvfb.stderr);
      const displayPipe = xvfb.stdio[3];
      const displayStream = displayPipe instanceof Readable ? displayPipe : null;
      const number = await waitForOutput(xvfb, "Xvfb", displayStream, (text) => /^(\d+)\n/.exec(text)?.[1], xvfbErr);
      const display = `:${number}`;

      const socket = path.join(directory, "vnc.sock");
      vnc = spawn(
        "x11vnc",
        // -rfbport 0 and -rfbportv6 -1: no TCP listener at all (a passwordless VNC port would hand
        // the desktop to anyone who can reach the workspace). Not -localhost: it makes x11vnc
        // refuse Unix-socket clients ("localhost does not match 127.0.0.1").
        ["-display", display, "-rfbport", "0", "-rfbportv6", "-1", "-unixsock", socket, "-nopw", "-forever", "-shared"],
        { stdio: ["ignore", "ignore", "pipe"], env: this.options.env },
      );
      const vncErr = tail(vnc.stderr);
      await waitForOutput(vnc, "x11vnc", vnc.stderr, (text) => (text.includes(VNC_READY_MARKER) ? true : undefined), vncErr);

      const running: Running = { info: { display, width: DESKTOP_WIDTH, height: DESKTOP_HEIGHT, vnc_socket: socket }, xvfb, vnc, directory };
      const current = this.starting;
      xvfb.once("exit", (code, signal) => {
        this.options.log(`desktop ${display}: Xvfb exited (${signal ?? `code ${code}`})`);
        // Forget this desktop so the next action starts a new one.
        if (this.starting === current) {
          this.starting = undefined;
          void this.teardown(running);
        }
      });
      this.options.log(`desktop ${display} started in ${Math.round(performance.now() - startedAt)} ms (VNC at ${socket})`);
      return running;
    } catch (error) {
      await Promise.all([vnc, xvfb].map((child) => (child ? stopChild(child) : Promise.resolve())));
      await rm(directory, { recursive: true, force: true });
      throw error;
    }
  }

  private async teardown(running: Running): Promise<void> {
    await stopChild(running.vnc);
    await stopChild(running.xvfb);
    await rm(running.directory, { recursive: true, force: true });
  }
}
