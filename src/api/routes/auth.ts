/**
 * First user, login and logout (PRODUCT.md section 4). Login failures are slowed per account and
 * per address (auth/throttle.ts); an unknown account costs the same scrypt as a wrong password.
 */
import { getConnInfo } from "@hono/node-server/conninfo";
import type { Context } from "hono";
import { deleteCookie, setCookie } from "hono/cookie";
import { count, sql } from "drizzle-orm";
import { createSession, deleteSession } from "../../auth/credentials.js";
import { decoyPasswordHash, hashPassword, verifyPassword } from "../../auth/password.js";
import { users } from "../../db/schema/index.js";
import { transaction } from "../../db/transaction.js";
import { queryRows } from "../../db/raw.js";
import { findUserByLogin, insertUser, toUserResponse } from "../../users/users.js";
import { firstUserRequestSchema, loginRequestSchema, loginResponseSchema, messageResponseSchema, userResponseSchema } from "../../sdk/schemas/users.js";
import { conflict, HttpError, notFound, unauthorized } from "../errors.js";
import type { AppEnv } from "../context.js";
import { requireActor } from "../context.js";
import { SESSION_COOKIE, SUSPENDED_MESSAGE } from "../middleware.js";
import { none, type RouteRegistry } from "../route.js";
import type { ApiServices } from "../services.js";

/** Serializes first-user creation across replicas (any constant shared by all of them). */
const FIRST_USER_LOCK_KEY = 0x6669727374;

const INCORRECT_CREDENTIALS = "Incorrect email or password.";

function clientAddress(c: Context<AppEnv>): string {
  try {
    return getConnInfo(c).remote.address ?? "unknown";
  } catch {
    return "unknown";
  }
}

function throttled(retryAfterMs: number): HttpError {
  const seconds = Math.ceil(retryAfterMs / 1000);
  return new HttpError(429, `Too many failed login attempts. Try again in ${seconds} seconds.`, undefined, undefined, {
    "Retry-After": String(seconds),
  });
}

export function registerAuthRoutes(routes: RouteRegistry, services: ApiServices): void {
  const { db } = services.database;

  routes.add({
    method: "get",
    path: "/api/v2/users/first",
    summary: "Whether the first user exists (200) or not yet (404)",
    tags: ["Users"],
    auth: "public",
    params: none,
    query: none,
    body: none,
    status: 200,
    response: messageResponseSchema,
    handler: async () => {
      const [row] = await db.select({ n: count() }).from(users);
      if (!row || row.n === 0) throw notFound("The initial user has not been created.");
      return { message: "The initial user has already been created." };
    },
  });

  routes.add({
    method: "post",
    path: "/api/v2/users/first",
    summary: "Create the first user, with the owner role",
    tags: ["Users"],
    auth: "public",
    params: none,
    query: none,
    body: firstUserRequestSchema,
    status: 201,
    response: userResponseSchema,
    handler: async ({ body }) => {
      const hashedPassword = await hashPassword(body.password);
      const user = await transaction(db, async (tx) => {
        // Two concurrent first-user requests: the lock makes the second see the first's row.
        await queryRows(tx, sql`SELECT pg_advisory_xact_lock(${FIRST_USER_LOCK_KEY})`);
        const [existing] = await tx.select({ n: count() }).from(users);
        if (existing && existing.n > 0) throw conflict("The initial user has already been created.");
        return insertUser(tx, { ...body, hashedPassword, roles: ["owner"] });
      });
      return toUserResponse(user);
    },
  });

  routes.add({
    method: "post",
    path: "/api/v2/users/login",
    summary: "Log in with email or username and password; returns a session token and sets the session cookie",
    tags: ["Users"],
    auth: "public",
    params: none,
    query: none,
    body: loginRequestSchema,
    status: 201,
    response: loginResponseSchema,
    handler: async ({ c, body }) => {
      const login = (body.email ?? body.username ?? "").trim().toLowerCase();
      const address = clientAddress(c);
      const wait = Math.max(
        services.throttles.account.retryAfterMs(login),
        services.throttles.address.retryAfterMs(address),
      );
      if (wait > 0) {
        services.metrics.loginFailures.inc({ reason: "throttled" });
        throw throttled(wait);
      }
      const user = await findUserByLogin(db, login);
      const valid = await verifyPassword(body.password, user?.hashedPassword ?? (await decoyPasswordHash()));
      if (!user || !valid) {
        services.throttles.account.recordFailure(login);
        services.throttles.address.recordFailure(address);
        services.metrics.loginFailures.inc({ reason: "bad_credentials" });
        throw unauthorized(INCORRECT_CREDENTIALS);
      }
      if (user.status !== "active") {
        services.metrics.loginFailures.inc({ reason: "suspended" });
        throw unauthorized(SUSPENDED_MESSAGE);
      }
      services.throttles.account.clear(login);
      const session = await createSession(db, user.id, {
        ipAddress: address,
        userAgent: c.req.header("User-Agent") ?? "",
      });
      setCookie(c, SESSION_COOKIE, session.token, {
        httpOnly: true,
        sameSite: "Lax",
        path: "/",
        secure: services.secureCookies,
        expires: session.expiresAt,
      });
      return { session_token: session.token };
    },
  });

  routes.add({
    method: "post",
    path: "/api/v2/users/logout",
    summary: "End the current session and clear the session cookie",
    tags: ["Users"],
    auth: "user",
    params: none,
    query: none,
    body: none,
    status: 200,
    response: messageResponseSchema,
    handler: async ({ c }) => {
      const actor = requireActor(c);
      if (actor.credential.kind === "session") await deleteSession(db, actor.credential.id);
      deleteCookie(c, SESSION_COOKIE, { path: "/" });
      return { message: "Logged out." };
    },
  });
}
