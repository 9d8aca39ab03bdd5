/**
 * The authorization matrix (issue 11): every route the server has × {anonymous, member, another
 * member, admin, owner}, checked against the table in src/rbac/route-matrix.ts, which is the
 * specification. The member owns one of everything (helpers/api-world.ts); each row's request is
 * in helpers/authz-requests.ts. A route the server has and the table lacks fails the first test,
 * so new routes must be added to the table; a row for a route that is gone fails it too.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../src/api/app.js";
import { CALLERS, NOT_IN_MATRIX, ROUTE_MATRIX, type Caller } from "../../src/rbac/route-matrix.js";
import { startApiWorld, type ApiWorld } from "../helpers/api-world.js";
import { CALL_BUILDERS, type AuthzCall } from "../helpers/authz-requests.js";
import type { TestUser } from "../helpers/server.js";

let world: ApiWorld;

beforeAll(async () => {
  world = await startApiWorld();
});
afterAll(async () => {
  await world?.close();
});

function userOf(caller: Caller): TestUser | undefined {
  switch (caller) {
    case "anonymous":
      return undefined;
    case "member":
      return world.member;
    case "other_member":
      return world.other;
    case "admin":
      return world.admin;
    case "owner":
      return world.owner;
  }
}

async function statusOf(call: AuthzCall, token: string | undefined): Promise<number> {
  if (call.raw) {
    const response = await fetch(`${world.t.url}${call.path}`, {
      method: call.method,
      headers: { "Content-Type": call.raw.contentType, ...(token ? { Authorization: `Bearer ${token}` } : {}) },
      body: call.raw.bytes,
    });
    await response.arrayBuffer();
    return response.status;
  }
  const response = await world.t.request(call.path, { method: call.method, ...(token ? { token } : {}), ...(call.json === undefined ? {} : { body: call.json }) });
  return response.status;
}

/** Every handler the app registers, as `METHOD /path/{param}` (middleware excluded). */
function serverRoutes(): Set<string> {
  const { app } = buildApp(world.t.server.services);
  return new Set(app.routes.filter((route) => route.method !== "ALL").map((route) => `${route.method} ${route.path.replace(/:([A-Za-z0-9_]+)/g, "{$1}")}`));
}

describe("the matrix", () => {
  it("has a row for every route the server has, and none for a route it does not have", () => {
    const routes = serverRoutes();
    const rows = new Set(Object.keys(ROUTE_MATRIX));
    const missing = [...routes].filter((route) => !rows.has(route) && !NOT_IN_MATRIX.includes(route));
    expect(missing, "routes without a row in src/rbac/route-matrix.ts").toEqual([]);
    expect([...rows].filter((row) => !routes.has(row)), "rows for routes the server does not have").toEqual([]);
  });

  it("covers every route of the OpenAPI document", async () => {
    const document = (await world.t.request("/api/openapi.json")).body;
    const paths = typeof document === "object" && document !== null ? Reflect.get(document, "paths") : undefined;
    const documented = Object.entries(typeof paths === "object" && paths !== null ? paths : {}).flatMap(([path, methods]) =>
      Object.keys(typeof methods === "object" && methods !== null ? methods : {}).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(documented.length).toBeGreaterThan(0);
    expect(documented.filter((route) => !(route in ROUTE_MATRIX))).toEqual([]);
  });
});

const isRow = (key: string): key is keyof typeof ROUTE_MATRIX => key in ROUTE_MATRIX;

describe("every route × every caller", () => {
  for (const route of Object.keys(ROUTE_MATRIX).filter(isRow)) {
    const rule: { expect: Record<Caller, number>; note?: string } = ROUTE_MATRIX[route];
    it(route, async () => {
      const build = CALL_BUILDERS[route];
      const actual: Record<string, number> = {};
      for (const caller of CALLERS) {
        const user = userOf(caller);
        const call: AuthzCall = await build({ caller, user, world });
        actual[caller] = await statusOf(call, call.token ?? user?.token);
      }
      expect(actual, rule.note ?? route).toEqual(rule.expect);
    });
  }
});
