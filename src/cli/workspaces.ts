/**
 * `chatd workspaces …` and `chatd templates`: workspaces from a terminal, for scripts and for
 * servers without a browser. A workspace is named by its name (the caller's own) or its id.
 *
 *   chatd templates
 *   chatd workspaces list
 *   chatd workspaces create <name> [--template local] [--param name=value]…
 *   chatd workspaces start|stop|delete <name-or-id>
 *
 * create, start and stop wait for the build (and for create/start, the agent) and print the build
 * log when the build fails. Server and token come from --url/--token, CHATD_URL/CHATD_TOKEN or
 * `chatd login`, as for `chatd chat` (connection.ts).
 */
import { parseArgs } from "node:util";
import { z } from "zod";
import type { ChatdClient } from "../sdk/client.js";
import { isUuid } from "../util/parse.js";
import { CliFailure, cliClient, resolveConnection, runClientCommand } from "./connection.js";
import { UsageError } from "./usage.js";

/** A build plus a fresh agent's first connection take well under this on a working machine. */
const WAIT_TIMEOUT_MS = 10 * 60_000;
/** How often the CLI looks at the workspace while it waits (it is a human watching, not a loop). */
const POLL_INTERVAL_MS = 500;

const USAGE = `usage:
  chatd templates
  chatd workspaces list
  chatd workspaces create <name> [--template NAME] [--param name=value]…
  chatd workspaces start|stop|delete <name-or-id>
(see chatd workspaces --help)`;

const workspaceFlags = z.object({
  url: z.string().optional(),
  token: z.string().optional(),
  template: z.string().trim().min(1, "--template needs a template name or id").optional(),
  param: z.array(z.string()).default([]),
});

function readArgs(args: string[]) {
  try {
    return parseArgs({
      args,
      options: { url: { type: "string" }, token: { type: "string" }, template: { type: "string" }, param: { type: "string", multiple: true } },
      strict: true,
      allowPositionals: true,
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

function parse(args: string[]) {
  const parsed = readArgs(args);
  const flags = workspaceFlags.safeParse(parsed.values);
  if (!flags.success) throw new UsageError(flags.error.issues.map((issue) => issue.message).join("; "));
  const parameters: Record<string, string> = {};
  for (const pair of flags.data.param) {
    const at = pair.indexOf("=");
    if (at <= 0) throw new UsageError(`--param takes name=value, got "${pair}"`);
    parameters[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return { flags: flags.data, positionals: parsed.positionals, template: flags.data.template, parameters };
}

async function resolveWorkspace(client: ChatdClient, ref: string) {
  if (isUuid(ref)) return client.workspace(ref);
  const found = (await client.workspaces({ owner: "me", query: ref })).find((workspace) => workspace.name === ref.toLowerCase());
  if (!found) throw new CliFailure(`no workspace of yours is named "${ref}" (see chatd workspaces list)`);
  return found;
}

/** Waits until the build ends; on failure prints its log. Then, for a start, waits for the agent. */
async function waitFor(client: ChatdClient, workspaceId: string, buildId: string, wantAgent: boolean): Promise<boolean> {
  const deadline = Date.now() + WAIT_TIMEOUT_MS;
  for (;;) {
    const build = await client.build(buildId);
    if (build.status === "failed" || build.status === "canceled") {
      process.stderr.write(`build ${build.status}: ${build.error ?? ""}\n${build.log}\n`);
      return false;
    }
    if (build.status === "succeeded") {
      const workspace = await client.workspace(workspaceId);
      if (!wantAgent || workspace.agent?.status === "connected") return true;
    }
    if (Date.now() > deadline) {
      process.stderr.write("gave up waiting; the build or the agent is still not ready\n");
      return false;
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
}

async function run(command: string | undefined, client: ChatdClient, parsed: Omit<ReturnType<typeof parse>, "client" | "connection">): Promise<number> {
  const { positionals, template, parameters } = parsed;
  if (command === "templates") {
    for (const t of await client.templates()) {
      process.stdout.write(`${t.name}\t${t.display_name || t.name}\t${t.provisioner}${t.isolated === false ? " (not isolated)" : ""}\t${t.id}\n`);
    }
    return 0;
  }
  const [sub, ref, ...extra] = positionals;
  if (extra.length > 0) throw new UsageError(USAGE);
  switch (sub) {
    case "list":
      for (const w of await client.workspaces({ owner: "me" })) {
        process.stdout.write(`${w.name}\t${w.status}\t${w.template_name}\tagent ${w.agent?.status ?? "none"}\t${w.id}\n`);
      }
      return 0;
    case "create": {
      if (!ref) throw new UsageError(USAGE);
      const templates = await client.templates();
      const wanted = template ?? "local";
      const chosen = templates.find((t) => t.name === wanted || t.id === wanted);
      if (!chosen) throw new CliFailure(`no template named "${wanted}" (see chatd templates)`);
      const workspace = await client.createWorkspace({ template_id: chosen.id, name: ref, parameters });
      const build = workspace.latest_build;
      if (build && !(await waitFor(client, workspace.id, build.id, true))) return 1;
      process.stdout.write(`${workspace.id}\n`);
      return 0;
    }
    case "start":
    case "stop":
    case "delete": {
      if (!ref) throw new UsageError(USAGE);
      const workspace = await resolveWorkspace(client, ref);
      const build = await client.buildWorkspace(workspace.id, sub);
      return (await waitFor(client, workspace.id, build.id, sub === "start")) ? 0 : 1;
    }
    default:
      throw new UsageError(USAGE);
  }
}

export async function runWorkspaces(command: "workspaces" | "templates", args: string[]): Promise<number> {
  const parsed = parse(args);
  if (command === "workspaces") {
    // Mistakes in the subcommand are usage errors, found before the server is asked anything.
    const [sub, ref, ...extra] = parsed.positionals;
    const known = sub === "list" ? ref === undefined : ["create", "start", "stop", "delete"].includes(sub ?? "") && ref !== undefined;
    if (!known || extra.length > 0) throw new UsageError(USAGE);
  }
  const connection = resolveConnection(parsed.flags);
  const client = cliClient(connection);
  return runClientCommand(() => run(command === "templates" ? "templates" : undefined, client, parsed), () => connection.url);
}
