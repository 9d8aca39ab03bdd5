/**
 * The environment of everything a provisioner runs, built from scratch: the server's own
 * environment holds provider keys, the database URL and the encryption key, and none of it may
 * reach a workspace. Only the variables listed here pass, by name.
 */
import os from "node:os";
import path from "node:path";
import type { ProvisionOwner } from "./types.js";

/** Where programs are looked up when the server itself has no PATH. */
const FALLBACK_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const FALLBACK_LANG = "C.UTF-8";

export interface MinimalEnvInput {
  home: string;
  owner: ProvisionOwner;
  /** The server's environment, read only for PATH, LANG and TZ. */
  hostEnv: Readonly<Record<string, string | undefined>>;
}

/** The OS user the server (and so every workspace process) runs as. */
function osUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return "chatd";
  }
}

/**
 * PATH, HOME, USER/LOGNAME, LANG, TZ (when set) and git's author/committer identity from the
 * workspace owner. The directory of the node running the server is put first on PATH, so the
 * agent and scripts find the same node even when it lives outside the system directories.
 */
export function minimalEnv(input: MinimalEnvInput): Record<string, string> {
  const nodeDir = path.dirname(process.execPath);
  const hostPath = input.hostEnv.PATH && input.hostEnv.PATH !== "" ? input.hostEnv.PATH : FALLBACK_PATH;
  const entries = hostPath.split(":").filter((entry) => entry !== "" && entry !== nodeDir);
  const user = osUser();
  const identity = input.owner.name.trim() === "" ? input.owner.username : input.owner.name;
  const env: Record<string, string> = {
    PATH: [nodeDir, ...entries].join(":"),
    HOME: input.home,
    USER: user,
    LOGNAME: user,
    LANG: input.hostEnv.LANG && input.hostEnv.LANG !== "" ? input.hostEnv.LANG : FALLBACK_LANG,
    GIT_AUTHOR_NAME: identity,
    GIT_AUTHOR_EMAIL: input.owner.email,
    GIT_COMMITTER_NAME: identity,
    GIT_COMMITTER_EMAIL: input.owner.email,
  };
  if (input.hostEnv.TZ !== undefined && input.hostEnv.TZ !== "") env.TZ = input.hostEnv.TZ;
  return env;
}
