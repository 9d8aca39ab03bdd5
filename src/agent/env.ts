/**
 * The environment every process the agent starts begins with: the agent's own, minus its token,
 * plus what `git` needs to ask chatd for credentials. The server's execute tool adds its own
 * variables (CHATD_CHAT_ID, GIT_TERMINAL_PROMPT=0, ...) through process.start's `env`.
 *
 * Invariant: CHATD_AGENT_TOKEN never reaches a child, whatever the agent's environment held.
 */
import { AGENT_SOCKET_ENV } from "./askpass-protocol.js";

export const AGENT_TOKEN_ENV = "CHATD_AGENT_TOKEN";

export function childEnvironment(base: NodeJS.ProcessEnv, askpass: { scriptPath: string; socketPath: string }): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  delete env[AGENT_TOKEN_ENV];
  env.GIT_ASKPASS = askpass.scriptPath;
  env[AGENT_SOCKET_ENV] = askpass.socketPath;
  return env;
}
