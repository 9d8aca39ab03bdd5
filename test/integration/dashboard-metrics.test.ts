/**
 * The Grafana dashboard in deploy/ names only metrics the server exports: every `chatd_*` series
 * in its queries (histogram suffixes stripped) has a `# TYPE` line in a live server's /metrics.
 */
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { z } from "zod";
import { startTestServer, type TestServer } from "../helpers/server.js";

const DASHBOARD = path.resolve(import.meta.dirname, "../../deploy/grafana/chatd-dashboard.json");
const dashboardSchema = z.object({ panels: z.array(z.object({ title: z.string(), targets: z.array(z.object({ expr: z.string() })) })) });

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t?.close();
});

it("names only metrics that /metrics exports", async () => {
  const dashboard = dashboardSchema.parse(JSON.parse(fs.readFileSync(DASHBOARD, "utf8")));
  const named = new Set<string>();
  for (const panel of dashboard.panels) {
    for (const target of panel.targets) {
      for (const match of target.expr.matchAll(/\bchatd_[a-z0-9_]+/g)) named.add(match[0].replace(/_(bucket|count|sum)$/, ""));
    }
  }
  expect(named.size).toBeGreaterThanOrEqual(12);
  const text = (await t.request("/metrics")).text;
  const exported = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((match) => match[1]));
  expect([...named].filter((name) => !exported.has(name))).toEqual([]);
});
