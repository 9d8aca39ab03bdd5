/**
 * Serves the built web UI (Vite output) from `/`, with the SPA fallback to index.html for client
 * routes. Until the UI is built, `/` answers a plain page that says so. Paths under /api never
 * fall through to the UI: an unknown API route is a JSON 404.
 */
import fs from "node:fs";
import path from "node:path";
import type { Context, Hono, Next } from "hono";
import { serveStatic } from "@hono/node-server/serve-static";
import type { AppEnv } from "./context.js";

const PLACEHOLDER_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>chatd</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 4rem auto">
<h1>chatd is running</h1>
<p>The web UI has not been built yet, so there is nothing to show here. The API is at
<a href="/api/openapi.json">/api/openapi.json</a>.</p>
</body></html>`;

/** Hashed asset names change with their content, so they may be cached for a year. */
const IMMUTABLE_ASSET_CACHE = "public, max-age=31536000, immutable";

function isApiPath(p: string): boolean {
  return p === "/api" || p.startsWith("/api/");
}

export function registerWebUi(app: Hono<AppEnv>, webDir: string): void {
  const indexFile = path.join(webDir, "index.html");
  if (!fs.existsSync(indexFile)) {
    app.get("/", (c) => c.html(PLACEHOLDER_PAGE));
    return;
  }
  const root = path.relative(process.cwd(), webDir) || ".";
  const assets = serveStatic({
    root,
    onFound: (filePath, c) => {
      if (filePath.includes(`${path.sep}assets${path.sep}`)) c.header("Cache-Control", IMMUTABLE_ASSET_CACHE);
    },
  });
  const indexHtml = () => fs.readFileSync(indexFile, "utf8");
  app.get("*", async (c: Context<AppEnv>, next: Next) => {
    if (isApiPath(c.req.path)) return next();
    const response = await assets(c, async () => undefined);
    if (response) return response;
    // Client-side route: let the SPA decide. Files with an extension that were not found stay 404.
    if (path.extname(c.req.path) !== "") return next();
    return c.html(indexHtml());
  });
}
