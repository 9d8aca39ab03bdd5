/**
 * MCP tool-call overhead (issue 15). Prints numbers; asserts nothing. The same `echo` tool of
 * one streamable-HTTP MCP server (official SDK, in this process) is called
 *   (a) directly with the SDK's Client.callTool, and
 *   (b) as chatd's chat tool: argument check, the pool (connection reuse, timeout, redaction),
 *       result conversion and the output cap;
 * p50/p99 of each, and (b) − (a) as chatd's overhead.
 *
 *   npm run bench:mcp
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { createLogger } from "../src/observability/logger.js";
import { McpPool } from "../src/mcp/pool.js";
import { chatToolFor, mcpToolName } from "../src/mcp/tools.js";
import type { McpServerSpec } from "../src/mcp/config.js";
import { startFixtureHttpServer } from "../test/fixtures/mcp-http-server.js";
import { fmt, pct } from "./support.js";

/** Enough calls for a stable p99; warm-up calls are not counted. */
const CALLS = 2000;
const WARMUP = 200;

/** Both paths, interleaved call by call so warm-up and machine noise hit them alike. */
async function timedPair(a: () => Promise<unknown>, b: () => Promise<unknown>): Promise<[number[], number[]]> {
  for (let i = 0; i < WARMUP; i++) {
    await a();
    await b();
  }
  const samples: [number[], number[]] = [[], []];
  for (let i = 0; i < CALLS; i++) {
    for (const [index, run] of [a, b].entries()) {
      const started = performance.now();
      await run();
      samples[index]?.push(performance.now() - started);
    }
  }
  return [samples[0].sort((x, y) => x - y), samples[1].sort((x, y) => x - y)];
}

const fixture = await startFixtureHttpServer({ requireHeader: ["x-api-key", "bench-key"] });
const headers = { "X-Api-Key": "bench-key" };
const direct = new Client({ name: "bench", version: "1" });
await direct.connect(new StreamableHTTPClientTransport(new URL(fixture.url), { requestInit: { headers } }));

const pool = new McpPool({ log: createLogger({ level: "silent" }) });
const spec: McpServerSpec = {
  id: "bench",
  slug: "bench",
  displayName: "Bench",
  transport: "streamable_http",
  url: fixture.url,
  command: null,
  args: [],
  headers,
  toolAllowList: [],
  toolDenyList: [],
  poolKey: "bench",
  fingerprint: "bench",
};
const listing = await pool.listTools(spec);
const echo = listing.ok ? listing.tools.find((tool) => tool.name === "echo") : undefined;
if (!echo) throw new Error("the fixture has no echo tool");
const tool = chatToolFor(pool, spec, echo, mcpToolName(spec.slug, echo.name));
const context = { chatId: "bench", ownerId: "bench", signal: new AbortController().signal };

const [directMs, chatdMs] = await timedPair(
  () => direct.callTool({ name: "echo", arguments: { text: "hello" } }),
  () => tool.execute({ text: "hello" }, context),
);

const row = (label: string, samples: number[]) => console.log(`${label.padEnd(34)} p50 ${fmt(pct(samples, 50))} ms   p99 ${fmt(pct(samples, 99))} ms`);
console.log(`MCP echo over streamable HTTP, ${CALLS} sequential calls each, interleaved (${WARMUP} warm-up)`);
row("direct SDK Client.callTool", directMs);
row("chatd MCP tool (pool + convert)", chatdMs);
console.log(`overhead                           p50 ${fmt(pct(chatdMs, 50) - pct(directMs, 50))} ms   p99 ${fmt(pct(chatdMs, 99) - pct(directMs, 99))} ms`);

await direct.close();
await pool.close();
await fixture.close();
