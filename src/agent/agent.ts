/**
 * The workspace agent as one object: wires the askpass socket, the child environment, the
 * process manager, the git watches and the server connection together, and takes them apart
 * again on stop().
 *
 * Invariants:
 * - The agent's directory is absolute: --directory, else $HOME. Relative paths and default
 *   workdirs resolve against it, and `hello` reports it.
 * - stop() kills every process group the agent started, ends all watches, closes the socket,
 *   stops the virtual desktop (if one was started) and removes the askpass directory; it is safe
 *   to call more than once.
 */
import path from "node:path";
import { VERSION } from "../version.js";
import { startAskpass } from "./askpass.js";
import { AgentConnection } from "./connection.js";
import { Desktop } from "./desktop/desktop.js";
import { VncBridges } from "./desktop/vnc.js";
import { createDispatcher } from "./dispatch.js";
import { childEnvironment } from "./env.js";
import { GitWatchManager, type GitWatchOptions } from "./gitwatch.js";
import { homeDirectory } from "./paths.js";
import { ProcessManager } from "./processes.js";
import { AGENT_PROTOCOL_VERSION } from "./protocol.js";
import { TouchedPaths } from "./touched.js";

export interface AgentOptions {
  /** The server's base URL (http or https). */
  url: string;
  token: string;
  /** Where relative paths resolve; default $HOME. */
  directory?: string;
  log: (line: string) => void;
  /** Overrides for tests; production uses the protocol's and the modules' constants. */
  silenceTimeoutMs?: number;
  gitWatch?: GitWatchOptions;
  pipeCloseWaitMs?: number;
}

export interface RunningAgent {
  directory: string;
  /** The environment children start from (GIT_ASKPASS, CHATD_AGENT_SOCKET; no token). */
  childEnv: NodeJS.ProcessEnv;
  /** Resolves with the reason when the agent must give up (its token is refused). */
  fatal: Promise<string>;
  stop(): Promise<void>;
}

export async function startAgent(options: AgentOptions): Promise<RunningAgent> {
  const directory = path.resolve(options.directory ?? homeDirectory());
  const askpass = await startAskpass({ url: options.url, token: options.token, log: options.log });
  const childEnv = childEnvironment(process.env, askpass);
  const processes = new ProcessManager({
    directory,
    env: childEnv,
    ...(options.pipeCloseWaitMs === undefined ? {} : { pipeCloseWaitMs: options.pipeCloseWaitMs }),
  });
  const paths = new TouchedPaths();
  const gitWatch = new GitWatchManager(paths, options.gitWatch);
  processes.onExit((event) => gitWatch.notifyChats(event.chatIds));
  // Nothing runs until the first desktop request: most chats never use the computer tool.
  const desktop = new Desktop({ env: childEnv, log: options.log });
  const vnc = new VncBridges(desktop);
  const connection = new AgentConnection({
    url: options.url,
    token: options.token,
    hello: { type: "hello", protocol: AGENT_PROTOCOL_VERSION, version: VERSION, os: process.platform, directory },
    onRequest: createDispatcher({ directory, processes, paths, gitWatch, desktop, vnc, log: options.log }),
    onSessionClose: (session) => {
      gitWatch.stopOwner(session);
      vnc.closeOwner(session);
    },
    log: options.log,
    ...(options.silenceTimeoutMs === undefined ? {} : { silenceTimeoutMs: options.silenceTimeoutMs }),
  });
  connection.start();

  let stopping: Promise<void> | undefined;
  return {
    directory,
    childEnv,
    fatal: connection.fatal,
    stop: () => {
      stopping ??= (async () => {
        connection.close();
        gitWatch.stopAll();
        vnc.closeAll();
        processes.shutdown();
        await Promise.all([askpass.close(), desktop.stop()]);
      })();
      return stopping;
    },
  };
}
