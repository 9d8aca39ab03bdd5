/** What the middleware chain puts on each request's context, and how handlers read it. */
import type { Context } from "hono";
import type { HttpBindings } from "@hono/node-server";
import type { Logger } from "pino";
import type { UserRow } from "../users/users.js";
import type { Subject } from "../rbac/policy.js";
import { unauthorized } from "./errors.js";

export interface Actor {
  user: UserRow;
  subject: Subject;
  credential: { kind: "session" | "api_key"; id: string };
}

export interface AppEnv {
  Bindings: HttpBindings;
  Variables: {
    requestId: string;
    log: Logger;
    /** Set when the request carried a valid credential. */
    actor: Actor | undefined;
    /** Why a presented credential was refused (a suspended account), for the 401 message. */
    authProblem: string | undefined;
  };
}

/** The authenticated caller, or a 401. */
export function requireActor(c: Context<AppEnv>): Actor {
  const actor = c.get("actor");
  if (!actor) throw unauthorized(c.get("authProblem"));
  return actor;
}
