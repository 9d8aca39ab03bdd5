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
 * log when the build fails. Server and token come from --url/CHATD_URL and CHATD_TOKEN, as for
 * `chatd chat`.
 */
import { parseArgs } from "node:util";
import { z } from "zod";
import { ChatdClient, ChatdError } from "../sdk/client.js";
import { isUuid } from "../util/parse.js";
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
(server: --url or CHATD_URL; token: CHATD_TOKEN)`;

const commonFlags = z.object({
  url: z.url({ message: "--url must be an http(s) URL" }).default("http://127.0.0.1:3000"),
  token: z.string().min(1, "set CHATD_TOKEN (an API token: POST /api/v2/users/me/keys) or pass --token"),
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
  const common = commonFlags.safeParse({ url: parsed.values.url ?? process.env.CHATD_URL, token: parsed.values.token ?? process.env.CHATD_TOKEN ?? "" });
  if (!common.success) throw new UsageError(common.error.issues.map((issue) => issue.message).join("; "));
  const parameters: Record<string, string> = {};
  for (const pair of parsed.values.param ?? []) {
    const at = pair.indexOf("=");
    if (at <= 0) throw new UsageError(`--param takes name=value, got "${pair}"`);
    parameters[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return { client: new ChatdClient({ baseUrl: common.data.url, token: common.data.token }), positionals: parsed.positionals, template: parsed.values.template, parameters };
}

async function resolveWorkspace(client: ChatdClient, ref: string) {
  if (isUuid(ref)) return client.workspace(ref);
  const found = (await client.workspaces({ owner: "me", query: ref })).find((workspace) => workspace.name === ref.toLowerCase());
  if (!found) throw new ChatdError(404, `no workspace of yours is named "${ref}"`);
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

async function run(command: string | undefined, args: string[]): Promise<number> {
  const { client, positionals, template, parameters } = parse(args);
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
      if (!chosen) throw new ChatdError(404, `no template named "${wanted}" (see chatd templates)`);
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
  try {
    return await run(command === "templates" ? "templates" : undefined, args);
  } catch (error) {
    if (!(error instanceof ChatdError)) throw error;
    process.stderr.write(`chatd: ${error.describe()}\n`);
    return 1;
  }
}
