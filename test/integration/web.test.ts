import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";

let t: TestServer;
let webDir: string;

beforeAll(async () => {
  webDir = fs.mkdtempSync(path.join(os.tmpdir(), "chatd-web-"));
  fs.mkdirSync(path.join(webDir, "assets"));
  fs.writeFileSync(path.join(webDir, "index.html"), "<!doctype html><title>chatd ui</title><div id=root></div>");
  fs.writeFileSync(path.join(webDir, "assets", "app-1a2b3c.js"), "console.log('chatd');");
  t = await startTestServer({ webDir });
});
afterAll(async () => {
  await t.close();
  fs.rmSync(webDir, { recursive: true, force: true });
});

describe("built web UI", () => {
  it("serves index.html at / and for client-side routes", async () => {
    for (const pathname of ["/", "/agents/123", "/settings/providers"]) {
      const response = await t.request(pathname);
      expect(response.status).toBe(200);
      expect(response.text).toContain("chatd ui");
    }
  });

  it("serves hashed assets with an immutable cache header, and 404s missing files", async () => {
    const asset = await t.request("/assets/app-1a2b3c.js");
    expect(asset.status).toBe(200);
    expect(asset.headers.get("cache-control")).toContain("immutable");
    expect((await t.request("/assets/missing.js")).status).toBe(404);
  });

  it("never answers an unknown API route with the UI", async () => {
    const response = await t.request("/api/v2/unknown");
    expect(response.status).toBe(404);
    expect(response.headers.get("content-type")).toMatch(/application\/json/);
  });
});
