/**
 * Sessions (from a password login) and API tokens (made by a user for scripts), and resolving a
 * presented token to its user. Sessions slide: each use pushes expiry out again, written at most
 * once per SESSION_TOUCH_INTERVAL_MS so that a busy client does not cause a write per request.
 */
import { and, desc, eq, lt } from "drizzle-orm";
import type { Queryable } from "../db/client.js";
import { apiKeys, sessions, users } from "../db/schema/index.js";
import type { UserRow } from "../users/users.js";
import { newToken, parseToken, secretMatches } from "./token.js";

/** Coder's default session lifetime: a day of inactivity logs a browser out. */
export const SESSION_LIFETIME_MS = 24 * 60 * 60 * 1000;
/** Expiry and last-used are refreshed at most this often per session. */
export const SESSION_TOUCH_INTERVAL_MS = 60 * 1000;

export type Credential = { kind: "session" | "api_key"; id: string };

export interface AuthenticatedToken {
  user: UserRow;
  credential: Credential;
}

export async function createSession(
  q: Queryable,
  userId: string,
  meta: { ipAddress: string; userAgent: string },
): Promise<{ id: string; token: string; expiresAt: Date }> {
  const { id, token, hashedSecret } = newToken();
  const expiresAt = new Date(Date.now() + SESSION_LIFETIME_MS);
  await q.insert(sessions).values({ id, userId, hashedSecret, expiresAt, ipAddress: meta.ipAddress, userAgent: meta.userAgent.slice(0, 512) });
  return { id, token, expiresAt };
}

export async function deleteSession(q: Queryable, id: string): Promise<void> {
  await q.delete(sessions).where(eq(sessions.id, id));
}

/** Drops expired sessions; returns how many. */
export async function deleteExpiredSessions(q: Queryable, now = new Date()): Promise<number> {
  const removed = await q.delete(sessions).where(lt(sessions.expiresAt, now)).returning({ id: sessions.id });
  return removed.length;
}

export async function createApiKey(
  q: Queryable,
  userId: string,
  options: { name: string; lifetimeMs?: number | undefined },
): Promise<{ id: string; key: string }> {
  const { id, token, hashedSecret } = newToken();
  const expiresAt = options.lifetimeMs === undefined ? null : new Date(Date.now() + options.lifetimeMs);
  await q.insert(apiKeys).values({ id, userId, name: options.name, hashedSecret, expiresAt });
  return { id, key: token };
}

export async function listApiKeys(q: Queryable, userId: string) {
  return q.select().from(apiKeys).where(eq(apiKeys.userId, userId)).orderBy(desc(apiKeys.createdAt), apiKeys.id);
}

/** Deletes one of the user's keys; false when the user has no such key. */
export async function deleteApiKey(q: Queryable, userId: string, id: string): Promise<boolean> {
  const removed = await q
    .delete(apiKeys)
    .where(and(eq(apiKeys.id, id), eq(apiKeys.userId, userId)))
    .returning({ id: apiKeys.id });
  return removed.length > 0;
}

/**
 * The user behind a token, or undefined for anything not valid right now (malformed, unknown,
 * wrong secret, expired). Suspension is checked by the caller, which owes the user a clearer
 * message than "unauthenticated".
 */
export async function authenticateToken(q: Queryable, token: string, now = new Date()): Promise<AuthenticatedToken | undefined> {
  const parsed = parseToken(token);
  if (!parsed) return undefined;
  const [session] = await q
    .select({ session: sessions, user: users })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(eq(sessions.id, parsed.id))
    .limit(1);
  if (session) {
    if (!secretMatches(parsed.secret, session.session.hashedSecret) || session.session.expiresAt <= now) return undefined;
    if (now.getTime() - session.session.lastUsedAt.getTime() >= SESSION_TOUCH_INTERVAL_MS) {
      await q
        .update(sessions)
        .set({ lastUsedAt: now, expiresAt: new Date(now.getTime() + SESSION_LIFETIME_MS) })
        .where(eq(sessions.id, parsed.id));
    }
    return { user: session.user, credential: { kind: "session", id: parsed.id } };
  }
  const [key] = await q
    .select({ key: apiKeys, user: users })
    .from(apiKeys)
    .innerJoin(users, eq(users.id, apiKeys.userId))
    .where(eq(apiKeys.id, parsed.id))
    .limit(1);
  if (!key || !secretMatches(parsed.secret, key.key.hashedSecret)) return undefined;
  if (key.key.expiresAt && key.key.expiresAt <= now) return undefined;
  const lastUsed = key.key.lastUsedAt?.getTime() ?? 0;
  if (now.getTime() - lastUsed >= SESSION_TOUCH_INTERVAL_MS) {
    await q.update(apiKeys).set({ lastUsedAt: now }).where(eq(apiKeys.id, parsed.id));
  }
  return { user: key.user, credential: { kind: "api_key", id: parsed.id } };
}
