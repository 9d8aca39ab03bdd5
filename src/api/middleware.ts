/**
 * The middleware every request passes: request id, access log and latency histogram, and
 * credential resolution. Order matters: the access log wraps everything so it sees the final
 * status, including errors turned into JSON by the app's error handler.
 */
import { randomUUID } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import { authenticateToken } from "../auth/credentials.js";
import { userSubject } from "../rbac/policy.js";
import type { AppEnv } from "./context.js";
import type { ApiServices } from "./services.js";

export const SESSION_COOKIE = "chatd_session";
export const REQUEST_ID_HEADER = "X-Request-Id";
/** An incoming request id is kept only if it is short and plain (it goes into logs). */
const ACCEPTABLE_REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** Paths logged at debug level when they succeed. */
const QUIET_PATHS = new Set(["/healthz", "/metrics"]);

export const SUSPENDED_MESSAGE = "Your account is suspended. Contact an admin to reactivate your account.";

export function requestContext(services: ApiServices): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const incoming = c.req.header(REQUEST_ID_HEADER);
    const requestId = incoming && ACCEPTABLE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    c.set("requestId", requestId);
    c.set("log", services.logger.child({ request_id: requestId }));
    c.set("actor", undefined);
    c.header(REQUEST_ID_HEADER, requestId);
    const started = performance.now();
    try {
      await next();
    } finally {
      const seconds = (performance.now() - started) / 1000;
      const status = c.res.status;
      // The matched pattern, not the raw path: ids in paths would explode label cardinality.
      const route = c.req.routePath || "unmatched";
      services.metrics.httpRequestDuration.observe({ method: c.req.method, route, status: String(status) }, seconds);
      // Probes and scrapes arrive every few seconds; at info they would drown the real traffic.
      const level = QUIET_PATHS.has(c.req.path) && status < 400 ? "debug" : "info";
      c.get("log")[level](
        {
          method: c.req.method,
          // Path only: a query string may carry something that should not be logged.
          path: c.req.path,
          route,
          status,
          duration_ms: Math.round(seconds * 1000 * 10) / 10,
          user_id: c.get("actor")?.user.id,
        },
        "request",
      );
    }
  };
}

export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/** Sets `actor` when the request carries a valid credential of an active user. */
export function authentication(services: ApiServices): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const token = bearerToken(c.req.header("Authorization")) ?? getCookie(c, SESSION_COOKIE);
    if (token) {
      const found = await authenticateToken(services.database.db, token);
      if (found && found.user.status === "active") {
        c.set("actor", {
          user: found.user,
          subject: userSubject(found.user.id, found.user.roles),
          credential: found.credential,
        });
      } else if (found) {
        c.set("authProblem", SUSPENDED_MESSAGE);
      }
    }
    await next();
  };
}
