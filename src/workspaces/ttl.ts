/**
 * The site's workspace TTL (behavior.md: `site_configs.agents_workspace_ttl`, a duration, "0s" by
 * default): copied to each new workspace, after which autostop.ts stops the workspace once it has
 * been unused that long. 0 means "no autostop".
 */
import { eq } from "drizzle-orm";
import type { Queryable } from "../db/client.js";
import { siteConfigs } from "../db/schema/index.js";
import { formatDurationMs, parseDurationMs } from "../config/duration.js";

export const WORKSPACE_TTL_SETTING = "agents_workspace_ttl";
/** Shorter than a minute would stop a workspace between two chat heartbeats (30 s apart). */
export const MIN_WORKSPACE_TTL_MS = 60_000;
/** 30 days (reference): longer is "never", which 0 already says. */
export const MAX_WORKSPACE_TTL_MS = 2_592_000_000;

/** The setting in milliseconds; absent or unreadable means 0. */
export async function readWorkspaceTtl(q: Queryable): Promise<number> {
  const [row] = await q.select({ value: siteConfigs.value }).from(siteConfigs).where(eq(siteConfigs.key, WORKSPACE_TTL_SETTING)).limit(1);
  if (!row) return 0;
  const text = row.value.trim();
  const ms = /^\d+$/.test(text) ? Number(text) : parseDurationMs(text);
  return ms === undefined || !Number.isSafeInteger(ms) || ms < 0 ? 0 : ms;
}

/** Why `ms` cannot be the TTL, or undefined when it can. */
export function workspaceTtlProblem(ms: number): string | undefined {
  if (!Number.isSafeInteger(ms) || ms < 0) return "workspace_ttl_ms must be a whole number of milliseconds, 0 or more.";
  if (ms > 0 && ms < MIN_WORKSPACE_TTL_MS) return `workspace_ttl_ms must be 0 (no autostop) or at least ${MIN_WORKSPACE_TTL_MS} (one minute).`;
  if (ms > MAX_WORKSPACE_TTL_MS) return `workspace_ttl_ms must be at most ${MAX_WORKSPACE_TTL_MS} (30 days).`;
  return undefined;
}

export async function writeWorkspaceTtl(q: Queryable, ms: number): Promise<void> {
  const value = formatDurationMs(ms);
  await q.insert(siteConfigs).values({ key: WORKSPACE_TTL_SETTING, value }).onConflictDoUpdate({ target: siteConfigs.key, set: { value } });
}
