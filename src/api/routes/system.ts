/** Liveness, Prometheus metrics and the OpenAPI document; none needs a login (PRODUCT.md). */
import { z } from "zod";
import { HttpError } from "../errors.js";
import { buildOpenApiDocument } from "../openapi.js";
import { none, type RouteRegistry } from "../route.js";
import type { ApiServices } from "../services.js";

/** /healthz answers 503 rather than hang when the database does not answer within this. */
const HEALTH_DB_TIMEOUT_MS = 2_000;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function registerSystemRoutes(routes: RouteRegistry, services: ApiServices): void {
  routes.add({
    method: "get",
    path: "/healthz",
    summary: "Liveness: 200 when the server runs and its database answers",
    tags: ["System"],
    auth: "public",
    params: none,
    query: none,
    body: none,
    status: 200,
    response: z.object({ status: z.literal("ok"), database: z.enum(["pglite", "postgres"]) }),
    handler: async () => {
      try {
        await withTimeout(services.database.ping(), HEALTH_DB_TIMEOUT_MS);
      } catch (error) {
        throw new HttpError(503, "Database unreachable.", error instanceof Error ? error.message : undefined);
      }
      return { status: "ok" as const, database: services.database.kind };
    },
  });

  // These two answer non-JSON-schema bodies, so they are plain Hono routes, documented by hand.
  let openApiDocument: string | undefined;
  routes.app.get("/api/openapi.json", (c) => {
    // Built on first request: every route is registered by then, and the document never changes.
    openApiDocument ??= JSON.stringify(buildOpenApiDocument(routes.routes, services.version));
    return c.body(openApiDocument, 200, { "Content-Type": "application/json" });
  });
  routes.app.get("/metrics", async (c) => {
    const text = await services.metrics.registry.metrics();
    return c.body(text, 200, { "Content-Type": services.metrics.registry.contentType });
  });
}
