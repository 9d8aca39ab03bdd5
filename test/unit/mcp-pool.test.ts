/**
 * The MCP pool's back-off (issue 15): a dead server is tried once per back-off step and logged
 * once per step however many runs ask for it meanwhile; steps double up to the cap; errors are
 * redacted of the spec's secrets; result conversion covers text, JSON, images and errors.
 */
import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/observability/logger.js";
import { BACKOFF_BASE_MS, BACKOFF_CAP_MS, backoffDelay, McpPool, redactedError } from "../../src/mcp/pool.js";
import { mcpToolName, toToolOutput } from "../../src/mcp/tools.js";
import { toolPermitted, type McpServerSpec } from "../../src/mcp/config.js";
import { startFixtureHttpServer } from "../fixtures/mcp-http-server.js";
import { waitFor } from "../helpers/wait.js";

const spec = (overrides: Partial<McpServerSpec> = {}): McpServerSpec => ({
  id: "11111111-1111-4111-8111-111111111111",
  slug: "dead",
  displayName: "Dead",
  transport: "streamable_http",
  // The discard port: nothing listens there.
  url: "http://127.0.0.1:9/mcp",
  command: null,
  args: [],
  headers: { "X-Api-Key": "super-secret-value" },
  toolAllowList: [],
  toolDenyList: [],
  poolKey: "dead",
  fingerprint: "f1",
  ...overrides,
});

describe("MCP back-off", () => {
  it("doubles from the base up to the cap, jittered within each step", () => {
    expect(backoffDelay(1, () => 0)).toBe(BACKOFF_BASE_MS / 2);
    expect(backoffDelay(1, () => 1)).toBe(BACKOFF_BASE_MS);
    expect(backoffDelay(3, () => 1)).toBe(BACKOFF_BASE_MS * 4);
    expect(backoffDelay(50, () => 1)).toBe(BACKOFF_CAP_MS);
  });

  it("tries a dead server once per step and logs it once, not per asking run", async () => {
    const lines: string[] = [];
    const log = createLogger({ level: "debug", destination: { write: (line: string) => void lines.push(line) } });
    const pool = new McpPool({ log, connectTimeoutMs: 2_000 });
    try {
      const listings = await Promise.all(Array.from({ length: 5 }, () => pool.listTools(spec())));
      for (let i = 0; i < 5; i++) listings.push(await pool.listTools(spec()));
      expect(listings.every((listing) => !listing.ok)).toBe(true);
      const failures = lines.filter((line) => line.includes("MCP server connect failed"));
      expect(failures).toHaveLength(1);
      expect(lines.join("\n")).not.toContain("super-secret-value");
      const first = listings[0];
      expect(first && !first.ok ? first.reason : "").toContain("next attempt in");
    } finally {
      await pool.close();
    }
  });

  it("closes an idle connection and opens a new one when asked again", async () => {
    const fixture = await startFixtureHttpServer();
    const pool = new McpPool({ log: createLogger({ level: "silent" }), idleTimeoutMs: 200 });
    try {
      const live = spec({ url: fixture.url, headers: {}, poolKey: "live" });
      expect((await pool.listTools(live)).ok).toBe(true);
      expect(pool.connectedCount()).toBe(1);
      await waitFor(() => pool.connectedCount() === 0, { timeoutMs: 5_000, message: "idle connection closed" });
      expect((await pool.listTools(live)).ok).toBe(true);
      expect(fixture.sessionsStarted()).toBe(2);
    } finally {
      await pool.close();
      await fixture.close();
    }
  });

  it("redacts header values, URL credentials and query values from errors", () => {
    const text = redactedError(new Error("fetch http://user:pw@host/x?token=abc failed: super-secret-value"), spec());
    expect(text).not.toContain("super-secret-value");
    expect(text).not.toContain("pw@");
    expect(text).not.toContain("abc");
  });
});

describe("MCP tools", () => {
  it("names tools <slug>__<tool> within the providers' alphabet and length", () => {
    expect(mcpToolName("jira", "search.issues")).toBe("jira__search_issues");
    expect(mcpToolName("s", "x".repeat(100))).toHaveLength(64);
  });

  it("lets an allow-list win over the deny-list", () => {
    expect(toolPermitted({ toolAllowList: ["a"], toolDenyList: ["a"] }, "a")).toBe(true);
    expect(toolPermitted({ toolAllowList: ["a"], toolDenyList: [] }, "b")).toBe(false);
    expect(toolPermitted({ toolAllowList: [], toolDenyList: ["b"] }, "b")).toBe(false);
  });

  it("converts text, JSON, images and errors", () => {
    expect(toToolOutput({ content: [{ type: "text", text: "plain" }] })).toEqual({ result: { output: "plain" } });
    expect(toToolOutput({ content: [{ type: "text", text: '{"a":1}' }] })).toEqual({ result: { a: 1 } });
    expect(toToolOutput({ content: [{ type: "image", data: "AAAA", mimeType: "image/png" }] })).toEqual({
      result: { data: "AAAA", mime_type: "image/png", text: "" },
    });
    expect(toToolOutput({ content: [{ type: "text", text: "bad" }], isError: true })).toEqual({ result: { error: "bad" }, isError: true });
    expect(toToolOutput({ structuredContent: { n: 2 } })).toEqual({ result: { n: 2 } });
    expect(toToolOutput("nonsense").isError).toBe(true);
  });
});
