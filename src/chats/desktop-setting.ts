/**
 * The site's "virtual desktop enabled" switch (behavior.md section 3, `/config/desktop-enabled`;
 * stored in `site_configs` like the workspace TTL). Off by default: a desktop runs a display
 * server and a VNC server in the workspace, which an admin opts into. Read by the route and by
 * whatever decides to offer `spawn_computer_use_agent` (section 6).
 */
import { eq } from "drizzle-orm";
import type { Queryable } from "../db/client.js";
import { siteConfigs } from "../db/schema/index.js";

export const DESKTOP_ENABLED_SETTING = "agents_desktop_enabled";

/** Whether the desktop is enabled; absent or anything but "true" means off (fail closed). */
export async function readDesktopEnabled(q: Queryable): Promise<boolean> {
  const [row] = await q.select({ value: siteConfigs.value }).from(siteConfigs).where(eq(siteConfigs.key, DESKTOP_ENABLED_SETTING)).limit(1);
  return row?.value.trim() === "true";
}

export async function writeDesktopEnabled(q: Queryable, enabled: boolean): Promise<void> {
  const value = enabled ? "true" : "false";
  await q.insert(siteConfigs).values({ key: DESKTOP_ENABLED_SETTING, value }).onConflictDoUpdate({ target: siteConfigs.key, set: { value } });
}
