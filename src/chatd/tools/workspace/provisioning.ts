/**
 * The provisioning tools, offered to root chats only (behavior.md section 6): `list_templates`,
 * `read_template`, `create_workspace`, `start_workspace`. They act as the chat's owner: the
 * workspace is the owner's, built with the owner's permissions.
 *
 * create_workspace is idempotent on the chat's workspace: a build in progress is waited for, a
 * stopped workspace gets the hint to start it, a running and reachable one is reported as is; only
 * a deleted, failed or unreachable workspace is replaced. create and start of one chat hold one
 * mutex, so concurrent calls cannot build two workspaces.
 */
import { eq, sql } from "drizzle-orm";
import { z } from "zod";
import { chats } from "../../../db/schema/index.js";
import { transaction } from "../../../db/transaction.js";
import { describeError } from "../../../llm/retry.js";
import { defineTool, type ChatTool, type ToolContext } from "../registry.js";
import { NO_WORKSPACE_ERROR, workspaceToolOutput, WorkspaceToolError, type WorkspaceToolDeps } from "./agent.js";
import type { BuildState, WorkspaceState } from "./provisioner-port.js";
import { parameterValuesSchema } from "../../../sdk/schemas/workspaces.js";

/** How long a build may take before the tool gives up waiting (reference: 10 min). */
export const BUILD_WAIT_TIMEOUT_MS = 10 * 60_000;
/** How long a fresh agent gets to connect (reference: 2 min). */
export const AGENT_WAIT_TIMEOUT_MS = 2 * 60_000;
/** An existing workspace counts as reachable if its agent answers within this (reference: 5 s). */
const REACHABLE_TIMEOUT_MS = 5_000;
/** Template descriptions are cut for the listing (reference: 200 runes). */
const LIST_DESCRIPTION_RUNES = 200;
/** Parameter descriptions are cut (reference: 300 runes). */
const PARAMETER_DESCRIPTION_RUNES = 300;

const cutRunes = (text: string, max: number): string => {
  const runes = [...text];
  return runes.length <= max ? text : `${runes.slice(0, max - 1).join("")}…`;
};

/** One queue per chat: create and start of the same chat run one after the other. */
class ChatMutex {
  readonly #tails = new Map<string, Promise<unknown>>();

  run<T>(chatId: string, body: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(chatId) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(body);
    const tail = next.catch(() => undefined);
    this.#tails.set(chatId, tail);
    void tail.then(() => {
      if (this.#tails.get(chatId) === tail) this.#tails.delete(chatId);
    });
    return next;
  }
}

const inProgress = (build: BuildState | undefined): boolean => build?.status === "pending" || build?.status === "running";

async function chatWorkspace(deps: WorkspaceToolDeps, chatId: string): Promise<WorkspaceState | undefined> {
  const [chat] = await deps.db.select({ workspaceId: chats.workspaceId }).from(chats).where(eq(chats.id, chatId));
  if (!chat?.workspaceId) return undefined;
  return deps.workspaces.workspaceState(chat.workspaceId);
}

async function awaitBuild(deps: WorkspaceToolDeps, build: BuildState, context: ToolContext): Promise<BuildState> {
  const done = await deps.workspaces.waitForBuild(build.id, { signal: context.signal, timeoutMs: BUILD_WAIT_TIMEOUT_MS });
  if (done.status === "succeeded") return done;
  const reason = done.error ?? (inProgress(done) ? `still ${done.status} after ${BUILD_WAIT_TIMEOUT_MS / 60_000} minutes` : done.status);
  throw new WorkspaceToolError(`workspace build ${done.transition} failed: ${reason}${done.logTail ? `\nbuild log (end):\n${done.logTail}` : ""}`);
}

/** Waits for the agent; a late agent is reported, not failed (the model may retry or wait). */
async function agentStatus(deps: WorkspaceToolDeps, workspaceId: string, context: ToolContext, timeoutMs: number): Promise<Record<string, string>> {
  try {
    await deps.agents.waitForAgent(workspaceId, { signal: context.signal, timeoutMs });
    return { agent_status: "ready" };
  } catch (error) {
    if (context.signal.aborted) throw error;
    return { agent_status: "not_ready", agent_error: describeError(error) };
  }
}

export function provisioningTools(deps: WorkspaceToolDeps): ChatTool[] {
  const mutex = new ChatMutex();

  const listTemplates = defineTool({
    name: "list_templates",
    description: "List the workspace templates you can create a workspace from (10 per page), most used first. Optionally filter by name.",
    inputSchema: z.object({ query: z.string().max(256).optional(), page: z.number().int().min(1).optional() }),
    rootOnly: true,
    execute: (input, context) =>
      workspaceToolOutput(async () => {
        const page = await deps.workspaces.listTemplates(context.ownerId, { ...(input.query ? { query: input.query } : {}), page: input.page ?? 1 });
        return {
          templates: page.templates.map((template) => ({
            id: template.id,
            name: template.name,
            ...(template.displayName ? { display_name: template.displayName } : {}),
            ...(template.description ? { description: cutRunes(template.description, LIST_DESCRIPTION_RUNES) } : {}),
            ...(template.activeDevelopers ? { active_developers: template.activeDevelopers } : {}),
          })),
          count: page.templates.length,
          page: page.page,
          total_pages: page.totalPages,
          total_count: page.totalCount,
        };
      }),
  });

  const readTemplate = defineTool({
    name: "read_template",
    description: "Show a template and the parameters a workspace made from it takes (names, types, defaults, allowed values).",
    inputSchema: z.object({ template_id: z.string().min(1) }),
    rootOnly: true,
    execute: (input, context) =>
      workspaceToolOutput(async () => {
        const template = await deps.workspaces.readTemplate(context.ownerId, input.template_id);
        if (!template) throw new WorkspaceToolError(`template ${input.template_id} not found`);
        return {
          template: {
            id: template.id,
            name: template.name,
            ...(template.displayName ? { display_name: template.displayName } : {}),
            ...(template.description ? { description: template.description } : {}),
          },
          parameters: template.parameters.map((parameter) => ({
            ...parameter,
            ...(parameter.description ? { description: cutRunes(parameter.description, PARAMETER_DESCRIPTION_RUNES) } : {}),
          })),
        };
      }),
  });

  const createWorkspace = defineTool({
    name: "create_workspace",
    description:
      "Create a workspace for this chat from a template (see list_templates and read_template) and wait until it is ready. Call it before using execute, read_file or write_file when the chat has no workspace. If the chat already has one, this reports it instead of creating another.",
    inputSchema: z.object({
      template_id: z.string().min(1).describe("The template's id or name (from list_templates)."),
      name: z.string().max(64).optional().describe("Workspace name; lowercase letters, digits and hyphens. Default: <template>-<random>."),
      parameters: parameterValuesSchema.optional().describe("Template parameter values by name."),
    }),
    rootOnly: true,
    execute: (input, context) =>
      workspaceToolOutput(() =>
        mutex.run(context.chatId, async () => {
          const existing = await chatWorkspace(deps, context.chatId);
          if (existing && !existing.deleted) {
            const latest = existing.latestBuild;
            if (inProgress(latest) && latest?.transition === "start") {
              await awaitBuild(deps, latest, context);
              return { created: false, status: "already_exists", workspace_name: existing.name, message: "workspace build completed" };
            }
            if (latest?.transition === "stop" && latest.status === "succeeded") {
              return { created: false, status: "stopped", workspace_name: existing.name, message: "workspace is stopped; use start_workspace to start it" };
            }
            if (latest?.transition === "start" && latest.status === "succeeded") {
              const reachable = await agentStatus(deps, existing.id, context, REACHABLE_TIMEOUT_MS);
              if (reachable.agent_status === "ready") {
                return { created: false, status: "already_exists", workspace_name: existing.name, message: "workspace is already running and reachable" };
              }
            }
          }
          const created = await deps.workspaces.createWorkspace(context.ownerId, {
            templateId: input.template_id,
            ...(input.name ? { name: input.name } : {}),
            parameters: input.parameters ?? {},
          });
          // Linked before the build is awaited: viewers can follow the build log through the chat,
          // and a run resumed after a restart waits on this build instead of starting another.
          await transaction(deps.db, async (tx) => {
            await tx.update(chats).set({ workspaceId: created.workspaceId, updatedAt: sql`now()` }).where(eq(chats.id, context.chatId));
          });
          await awaitBuild(deps, created.build, context);
          const agent = await agentStatus(deps, created.workspaceId, context, AGENT_WAIT_TIMEOUT_MS);
          return { created: true, workspace_id: created.workspaceId, workspace_name: created.name, ...agent };
        }),
      ),
  });

  const startWorkspace = defineTool({
    name: "start_workspace",
    description: "Start this chat's workspace when it is stopped, and wait until it is ready.",
    inputSchema: z.object({}),
    rootOnly: true,
    execute: (_input, context) =>
      workspaceToolOutput(() =>
        mutex.run(context.chatId, async () => {
          const workspace = await chatWorkspace(deps, context.chatId);
          if (!workspace) throw new WorkspaceToolError(NO_WORKSPACE_ERROR);
          if (workspace.deleted) throw new WorkspaceToolError("the chat's workspace was deleted; use create_workspace to create a new one");
          let latest = workspace.latestBuild;
          if (latest && inProgress(latest)) latest = await deps.workspaces.waitForBuild(latest.id, { signal: context.signal, timeoutMs: BUILD_WAIT_TIMEOUT_MS });
          if (!(latest?.transition === "start" && latest.status === "succeeded")) {
            const build = await deps.workspaces.startWorkspace(workspace.id, context.ownerId);
            await awaitBuild(deps, build, context);
          }
          const agent = await agentStatus(deps, workspace.id, context, AGENT_WAIT_TIMEOUT_MS);
          return { started: true, workspace_name: workspace.name, ...agent };
        }),
      ),
  });

  return [listTemplates, readTemplate, createWorkspace, startWorkspace];
}
