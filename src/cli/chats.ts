/**
 * `chatd chats [--archived] [--limit N] [--json]`: the caller's chats, most recently updated
 * first. On a terminal an aligned table (status coloured unless NO_COLOR); piped, one chat per
 * line with tab-separated fields (id, title, status, updated_at, cost in micro-dollars) and no
 * colour, for cut and awk. The cost is the chat's tree: its own steps and its sub-agents'.
 */
import { parseArgs } from "node:util";
import { z } from "zod";
import type { ChatResponse } from "../sdk/schemas/chats.js";
import { codesFor, paint, type Codes } from "./colour.js";
import { cliClient, resolveConnection, runClientCommand } from "./connection.js";
import { UsageError } from "./usage.js";

/** The chat list route's page limits (behavior.md: 0 means 50; larger pages are refused). */
const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 200;
/** Titles are cut here in the table so a row fits a usual terminal line. */
const TITLE_WIDTH = 48;

const chatsFlags = z.object({
  url: z.string().optional(),
  token: z.string().optional(),
  archived: z.boolean().default(false),
  json: z.boolean().default(false),
  limit: z.coerce
    .number({ message: "--limit takes a number" })
    .int("--limit takes a whole number")
    .min(1, `--limit takes 1 to ${MAX_LIMIT}`)
    .max(MAX_LIMIT, `--limit takes 1 to ${MAX_LIMIT}`)
    .default(DEFAULT_LIMIT),
});

function readArgs(args: string[]) {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args,
      options: { url: { type: "string" }, token: { type: "string" }, archived: { type: "boolean" }, json: { type: "boolean" }, limit: { type: "string" } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageError(`${error instanceof Error ? error.message : String(error)}; usage: chatd chats [--archived] [--limit N] [--json]`);
  }
  const parsed = chatsFlags.safeParse(values);
  if (!parsed.success) throw new UsageError(parsed.error.issues.map((issue) => issue.message).join("; "));
  return parsed.data;
}

/** One line of a field: tabs and newlines in a title would break the columns. */
const flat = (text: string) => text.replace(/\s+/g, " ").trim();

/** "2026-03-23 14:05" in local time: enough to tell chats apart at a glance. */
function shortTime(iso: string): string {
  const date = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

function statusColour(status: ChatResponse["status"]): "green" | "yellow" | "red" | "dim" {
  if (status === "running" || status === "pending") return "yellow";
  if (status === "error") return "red";
  if (status === "waiting" || status === "completed") return "green";
  return "dim";
}

/** Tab-separated lines for a pipe: id, title, status, updated_at (ISO 8601), cost (micro-dollars). */
export function formatChatsPlain(chats: readonly ChatResponse[]): string {
  return chats.map((chat) => `${chat.id}\t${flat(chat.title)}\t${chat.status}\t${chat.updated_at}\t${chat.tree_cost_micros ?? 0}\n`).join("");
}

/** Dollars with four decimals ("$0.0130"): cents hide what most single chats cost. */
export function formatDollars(micros: number | undefined): string {
  return `$${((micros ?? 0) / 1_000_000).toFixed(4)}`;
}

/** An aligned table for a terminal. */
export function formatChatsTable(chats: readonly ChatResponse[], codes: Codes): string {
  if (chats.length === 0) return "no chats yet; start one with chatd chat \"<prompt>\"\n";
  const cut = (text: string) => (text.length > TITLE_WIDTH ? `${text.slice(0, TITLE_WIDTH - 1)}…` : text);
  const rows = chats.map((chat) => ({
    id: chat.id,
    title: cut(flat(chat.title)),
    status: chat.status,
    updated: shortTime(chat.updated_at),
    cost: formatDollars(chat.tree_cost_micros),
  }));
  const width = (key: "title" | "status" | "updated" | "cost", header: string) => Math.max(header.length, ...rows.map((row) => row[key].length));
  const w = { title: width("title", "TITLE"), status: width("status", "STATUS"), updated: width("updated", "UPDATED"), cost: width("cost", "COST") };
  const idWidth = Math.max(2, ...rows.map((row) => row.id.length));
  const header = `${"ID".padEnd(idWidth)}  ${"TITLE".padEnd(w.title)}  ${"STATUS".padEnd(w.status)}  ${"UPDATED".padEnd(w.updated)}  COST`;
  const lines = rows.map((row, i) => {
    const chat = chats[i];
    const status = chat ? paint(codes, statusColour(chat.status), row.status.padEnd(w.status)) : row.status;
    return `${paint(codes, "dim", row.id.padEnd(idWidth))}  ${row.title.padEnd(w.title)}  ${status}  ${row.updated.padEnd(w.updated)}  ${row.cost.padStart(w.cost)}`;
  });
  return `${paint(codes, "bold", header)}\n${lines.join("\n")}\n`;
}

export async function runChats(args: string[]): Promise<number> {
  const flags = readArgs(args);
  const connection = resolveConnection(flags);
  const client = cliClient(connection);
  return runClientCommand(async () => {
    const chats = await client.listChats({ archived: flags.archived, limit: flags.limit });
    if (flags.json) process.stdout.write(`${JSON.stringify(chats, null, 2)}\n`);
    else if (process.stdout.isTTY) process.stdout.write(formatChatsTable(chats, codesFor(process.stdout)));
    else process.stdout.write(formatChatsPlain(chats));
    return 0;
  }, () => connection.url);
}
