/** When the CLI colours its output (src/cli/colour.ts), and how `chatd chats` lays out its list (src/cli/chats.ts). */
import { describe, expect, it } from "vitest";
import { codesFor, colourEnabled } from "../../src/cli/colour.js";
import { formatChatsPlain, formatChatsTable } from "../../src/cli/chats.js";
import type { ChatResponse } from "../../src/sdk/schemas/chats.js";

const chat = (id: string, title: string, status: ChatResponse["status"]): ChatResponse => ({
  id,
  owner_id: "00000000-0000-4000-8000-00000000000a",
  workspace_id: null,
  parent_chat_id: null,
  root_chat_id: id,
  last_model_config_id: "00000000-0000-4000-8000-00000000000b",
  title,
  status,
  last_error: null,
  archived: false,
  mode: null,
  mcp_server_ids: [],
  diff_status: { chat_id: id },
  created_at: "2026-03-23T10:00:00Z",
  updated_at: "2026-03-23T10:05:00.000Z",
});
const priced = { ...chat("00000000-0000-4000-8000-000000000001", "Fix the\tbuild\nnow", "running"), tree_cost_micros: 12_345 };
const chats = [chat("00000000-0000-4000-8000-000000000001", "Fix the\tbuild\nnow", "running"), chat("00000000-0000-4000-8000-000000000002", "Hello", "error")];

describe("colour", () => {
  it("is on for a terminal only, and off with NO_COLOR or TERM=dumb", () => {
    expect(colourEnabled({ isTTY: true }, {})).toBe(true);
    expect(colourEnabled({ isTTY: false }, {})).toBe(false);
    expect(colourEnabled({}, {})).toBe(false);
    expect(colourEnabled({ isTTY: true }, { NO_COLOR: "1" })).toBe(false);
    // no-color.org: an empty NO_COLOR does not count.
    expect(colourEnabled({ isTTY: true }, { NO_COLOR: "" })).toBe(true);
    expect(colourEnabled({ isTTY: true }, { TERM: "dumb" })).toBe(false);
  });
});

describe("chatd chats output", () => {
  it("is one tab-separated line per chat when piped: id, title, status, updated_at, cost in micro-dollars", () => {
    expect(formatChatsPlain([priced, ...chats.slice(1)])).toBe(
      "00000000-0000-4000-8000-000000000001\tFix the build now\trunning\t2026-03-23T10:05:00.000Z\t12345\n" +
        "00000000-0000-4000-8000-000000000002\tHello\terror\t2026-03-23T10:05:00.000Z\t0\n",
    );
  });

  it("is an aligned table on a terminal, coloured only when colour is on", () => {
    const plain = formatChatsTable(chats, codesFor({ isTTY: true }, { NO_COLOR: "1" }));
    const lines = plain.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^ID {36}TITLE {14}STATUS {3}UPDATED {11}COST$/);
    expect(lines[1]).toMatch(/^00000000-0000-4000-8000-000000000001 {2}Fix the build now {2}running {2}\d{4}-\d\d-\d\d \d\d:\d\d {2}\$0\.0000$/);
    expect(formatChatsTable([priced], codesFor({ isTTY: true }, { NO_COLOR: "1" }))).toMatch(/\$0\.0123\n$/);
    expect(plain).not.toMatch(/\x1b/);
    expect(formatChatsTable(chats, codesFor({ isTTY: true }, {}))).toContain("\x1b[31merror");
    expect(formatChatsTable([], codesFor({ isTTY: false }))).toContain("no chats yet");
  });
});
