/** Per-user git host tokens, sealed at rest (see README.md). */
import { and, eq, sql } from "drizzle-orm";
import type { Queryable } from "../db/client.js";
import { externalAuthLinks } from "../db/schema/index.js";
import type { SecretCipher } from "../secrets/cipher.js";
import type { GitProvider } from "../sdk/schemas/users.js";


/** Hosts answered with the GitHub token; GitHub Enterprise hosts are added by configuration. */
export const DEFAULT_GITHUB_HOSTS = ["github.com"] as const;

export async function storeGitToken(q: Queryable, cipher: SecretCipher, userId: string, provider: GitProvider, token: string): Promise<void> {
  const sealedToken = cipher.seal(token);
  await q
    .insert(externalAuthLinks)
    .values({ userId, provider, sealedToken })
    .onConflictDoUpdate({ target: [externalAuthLinks.userId, externalAuthLinks.provider], set: { sealedToken, updatedAt: sql`now()` } });
}

export async function deleteGitToken(q: Queryable, userId: string, provider: GitProvider): Promise<boolean> {
  const deleted = await q
    .delete(externalAuthLinks)
    .where(and(eq(externalAuthLinks.userId, userId), eq(externalAuthLinks.provider, provider)))
    .returning({ userId: externalAuthLinks.userId });
  return deleted.length > 0;
}

export async function gitTokenLink(q: Queryable, userId: string, provider: GitProvider): Promise<{ updatedAt: Date } | undefined> {
  const [row] = await q
    .select({ updatedAt: externalAuthLinks.updatedAt })
    .from(externalAuthLinks)
    .where(and(eq(externalAuthLinks.userId, userId), eq(externalAuthLinks.provider, provider)));
  return row;
}

/** The user's token in clear, for the askpass answer only. */
export async function openGitToken(q: Queryable, cipher: SecretCipher, userId: string, provider: GitProvider): Promise<string | undefined> {
  const [row] = await q
    .select({ sealedToken: externalAuthLinks.sealedToken })
    .from(externalAuthLinks)
    .where(and(eq(externalAuthLinks.userId, userId), eq(externalAuthLinks.provider, provider)));
  return row ? cipher.open(row.sealedToken) : undefined;
}

/** Which provider's token answers a credential request for `url`, if any. */
export function providerForUrl(url: string, githubHosts: readonly string[] = DEFAULT_GITHUB_HOSTS): GitProvider | undefined {
  let host: string;
  try {
    host = new URL(url).hostname.toLowerCase();
  } catch {
    return undefined;
  }
  return githubHosts.some((candidate) => candidate.toLowerCase() === host) ? "github" : undefined;
}
