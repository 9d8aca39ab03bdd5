/**
 * The chat HTTP routes (behavior.md section 3), split by concern: settings and files first, since
 * their static paths (`/config/...`, `/files/...`, `/cost/...`, `/usage-limits/...`, `/insights/...`) must be matched before any `/:chat` route,
 * then chats and their messages. Streams (WebSockets) live elsewhere.
 */
import { pubsubHints } from "../../chats/hints.js";
import type { RouteRegistry } from "../route.js";
import type { ApiServices } from "../services.js";
import { registerChatConfigRoutes } from "./chats-config.js";
import { registerChatCoreRoutes } from "./chats-core.js";
import { registerChatFileRoutes } from "./chats-files.js";
import { registerChatMessageRoutes } from "./chats-messages.js";
import { registerChatCostRoutes } from "./chats-cost.js";
import { registerUsageLimitRoutes } from "./chats-usage-limits.js";
import { registerChatPullRequestRoutes } from "./chats-pull-requests.js";
import type { GitSync } from "../../gitsync/sync.js";

export { CHAT_FILE_BODY_LIMIT, isChatFileUpload } from "./chats-files.js";

export function registerChatRoutes(routes: RouteRegistry, services: ApiServices, gitsync: GitSync): void {
  const hints = pubsubHints(services.pubsub);
  registerChatConfigRoutes(routes, services);
  registerChatFileRoutes(routes, services);
  registerChatCostRoutes(routes, services);
  registerUsageLimitRoutes(routes, services);
  // Before the core routes: /insights/pull-requests is a static path under /chats.
  registerChatPullRequestRoutes(routes, services, gitsync);
  registerChatCoreRoutes(routes, services, hints, gitsync);
  registerChatMessageRoutes(routes, services, hints);
}
