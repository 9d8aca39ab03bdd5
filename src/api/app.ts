/**
 * Builds the Hono application: middleware, every route, the error shape, body limits, the web
 * UI. Pure construction: listening and shutdown are the server's job (server/).
 */
import { Hono } from "hono";
import type { AppEnv } from "./context.js";
import { HttpError } from "./errors.js";
import { authentication, requestContext } from "./middleware.js";
import { readBodyFirst, type BodyLimit } from "./body-limit.js";
import { RouteRegistry } from "./route.js";
import { registerAuthRoutes } from "./routes/auth.js";
import { CHAT_FILE_BODY_LIMIT, isChatFileUpload, registerChatRoutes } from "./routes/chats.js";
import { registerStreamRoutes } from "./routes/streams.js";
import { registerWorkspaceAgentRoutes } from "./routes/workspace-agents.js";
import { registerChatGitRoutes } from "./routes/chats-git.js";
import { registerChatDesktopRoutes } from "./routes/chats-desktop.js";
import { registerGroupRoutes } from "./routes/groups.js";
import { registerExternalAuthRoutes } from "./routes/external-auth.js";
import { registerKeyRoutes } from "./routes/keys.js";
import { registerModelRoutes } from "./routes/llm-models.js";
import { registerProviderRoutes } from "./routes/llm-providers.js";
import { registerMcpServerRoutes } from "./routes/mcp-servers.js";
import { registerSystemRoutes } from "./routes/system.js";
import { registerTemplateRoutes } from "./routes/templates.js";
import { registerUserRoutes } from "./routes/users.js";
import { registerWorkspaceRoutes } from "./routes/workspaces.js";
import { registerWebPushRoutes } from "./routes/webpush.js";
import type { ApiServices } from "./services.js";
import { registerWebUi } from "./static.js";
import { ForbiddenError } from "../rbac/policy.js";
import { pubsubHints } from "../chats/hints.js";
import { GitSync } from "../gitsync/sync.js";
import { DEFAULT_GITHUB_API_URL } from "../gitsync/github.js";
import { UserServiceError } from "../users/errors.js";

/** JSON bodies up to 4 MiB (PRODUCT.md); uploads have their own, larger limit (chats-files.ts). */
export const JSON_BODY_LIMIT_BYTES = 4 * 1024 * 1024;

export interface BuiltApp {
  app: Hono<AppEnv>;
  routes: RouteRegistry;
}

export interface BuildAppOptions {
  /** The server's gitsync pipeline (its GitHub API URL); a default one on api.github.com otherwise. */
  gitsync?: GitSync;
}

export function buildApp(services: ApiServices, options: BuildAppOptions = {}): BuiltApp {
  const gitsync =
    options.gitsync ??
    new GitSync({ db: services.database.db, cipher: services.cipher, hints: pubsubHints(services.pubsub), log: services.logger, apiBaseUrl: DEFAULT_GITHUB_API_URL });
  const app = new Hono<AppEnv>();
  app.use("*", requestContext(services));
  const jsonBodyLimit: BodyLimit = {
    bytes: JSON_BODY_LIMIT_BYTES,
    tooLarge: (c) => c.json({ message: `Request body is too large; the limit is ${JSON_BODY_LIMIT_BYTES / (1024 * 1024)} MiB.` }, 413),
  };
  // Every path, before authentication: a refusal must never leave part of a body unread.
  app.use("*", readBodyFirst((c) => (isChatFileUpload(c.req.method, c.req.path) ? CHAT_FILE_BODY_LIMIT : jsonBodyLimit)));
  app.use("/api/*", authentication(services));

  const routes = new RouteRegistry(app);
  registerSystemRoutes(routes, services);
  registerAuthRoutes(routes, services);
  registerKeyRoutes(routes, services);
  registerUserRoutes(routes, services);
  registerGroupRoutes(routes, services);
  registerTemplateRoutes(routes, services);
  registerWorkspaceRoutes(routes, services);
  registerExternalAuthRoutes(routes, services);
  registerWebPushRoutes(routes, services);
  // Static chat paths (/providers, /models) must be registered before any /chats/:chat route.
  registerProviderRoutes(routes, services);
  registerModelRoutes(routes, services);
  registerMcpServerRoutes(routes, services);
  // The static /chats/watch path must come before /chats/:chat.
  registerStreamRoutes(app, services);
  registerWorkspaceAgentRoutes(app, services);
  registerChatGitRoutes(app, services);
  registerChatDesktopRoutes(app, services);
  registerChatRoutes(routes, services, gitsync);
  registerWebUi(app, services.webDir);

  app.notFound((c) => c.json({ message: `Route not found: ${c.req.method} ${c.req.path}` }, 404));
  app.onError((error, c) => {
    if (error instanceof HttpError) {
      for (const [name, value] of Object.entries(error.headers ?? {})) c.header(name, value);
      return c.json(error.toJSON(), error.status);
    }
    if (error instanceof ForbiddenError) return c.json({ message: error.message }, 403);
    if (error instanceof UserServiceError) return c.json({ message: error.message }, error.status);
    c.get("log").error({ err: error }, "unhandled error in request");
    return c.json({ message: "Internal error.", detail: `Request id ${c.get("requestId")}.` }, 500);
  });
  return { app, routes };
}
