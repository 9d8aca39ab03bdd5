/**
 * Prompt settings (behavior.md section 3): the deployment-wide system prompt new chats start with
 * (`site_configs.agents_chat_system_prompt`; everyone reads, admins write) and each user's own
 * custom prompt (`user_configs.chat_custom_prompt`); the workspace autostop TTL; and whether the
 * virtual desktop is enabled.
 */
import { and, eq } from "drizzle-orm";
import type { Queryable } from "../../db/client.js";
import { siteConfigs, userConfigs } from "../../db/schema/index.js";
import { can } from "../../rbac/policy.js";
import { badRequest, forbidden, notFound } from "../errors.js";
import { requireActor } from "../context.js";
import { none, type RouteRegistry } from "../route.js";
import type { ApiServices } from "../services.js";
import { readWorkspaceTtl, workspaceTtlProblem, writeWorkspaceTtl } from "../../workspaces/ttl.js";
import { readDesktopEnabled, writeDesktopEnabled } from "../../chats/desktop-setting.js";
import { CHATS_PATH } from "./chats-common.js";
import { chatDesktopEnabledSchema, chatSystemPromptSchema, userChatCustomPromptSchema, workspaceTtlSchema } from "../../sdk/schemas/chats.js";

export const SYSTEM_PROMPT_KEY = "agents_chat_system_prompt";
export const CUSTOM_PROMPT_KEY = "chat_custom_prompt";
/** behavior.md: 128 KiB, generous for a prompt yet stops an accidental paste of a whole file. */
export const MAX_PROMPT_BYTES = 131_072;

export async function readSystemPrompt(q: Queryable): Promise<string> {
  const [row] = await q.select({ value: siteConfigs.value }).from(siteConfigs).where(eq(siteConfigs.key, SYSTEM_PROMPT_KEY)).limit(1);
  return row?.value ?? "";
}

async function readCustomPrompt(q: Queryable, userId: string): Promise<string> {
  const [row] = await q
    .select({ value: userConfigs.value })
    .from(userConfigs)
    .where(and(eq(userConfigs.userId, userId), eq(userConfigs.key, CUSTOM_PROMPT_KEY)))
    .limit(1);
  return row?.value ?? "";
}

/** Trims and checks a prompt; `label` starts the error message ("System prompt", "Custom prompt"). */
function checkPrompt(raw: string, label: string): string {
  const prompt = raw.trim();
  const size = Buffer.byteLength(prompt, "utf8");
  if (size > MAX_PROMPT_BYTES) throw badRequest(`${label} exceeds maximum length.`, `Maximum length is ${MAX_PROMPT_BYTES} bytes, got ${size}.`);
  // The settings columns are text, which cannot hold NUL; refusing beats a 500 or a silent edit.
  if (prompt.includes("\u0000")) throw badRequest(`${label} contains a NUL character.`);
  return prompt;
}

export function registerChatConfigRoutes(routes: RouteRegistry, services: ApiServices): void {
  const { db } = services.database;
  const common = { tags: ["Chat settings"], auth: "user" as const, params: none, query: none };

  routes.add({
    ...common,
    method: "get",
    path: `${CHATS_PATH}/config/system-prompt`,
    summary: "The deployment's system prompt for new chats (\"\" when the built-in default applies)",
    body: none,
    status: 200,
    response: chatSystemPromptSchema,
    handler: async () => ({ system_prompt: await readSystemPrompt(db) }),
  });

  routes.add({
    ...common,
    method: "put",
    path: `${CHATS_PATH}/config/system-prompt`,
    summary: "Set the deployment's system prompt; blank restores the built-in default (admin)",
    body: chatSystemPromptSchema,
    status: 204,
    handler: async ({ c, body }) => {
      // behavior.md: a non-admin gets 404 here, as if the setting did not exist for them.
      if (!can(requireActor(c).subject, "update", { type: "deployment_config" })) throw notFound();
      const prompt = checkPrompt(body.system_prompt, "System prompt");
      await db.insert(siteConfigs).values({ key: SYSTEM_PROMPT_KEY, value: prompt }).onConflictDoUpdate({ target: siteConfigs.key, set: { value: prompt } });
    },
  });

  routes.add({
    ...common,
    method: "get",
    path: `${CHATS_PATH}/config/user-prompt`,
    summary: "The caller's own custom prompt",
    body: none,
    status: 200,
    response: userChatCustomPromptSchema,
    handler: async ({ c }) => {
      const actor = requireActor(c);
      if (!can(actor.subject, "read_personal", { type: "user", ownerId: actor.user.id })) throw forbidden();
      return { custom_prompt: await readCustomPrompt(db, actor.user.id) };
    },
  });

  routes.add({
    ...common,
    method: "put",
    path: `${CHATS_PATH}/config/user-prompt`,
    summary: "Set the caller's own custom prompt",
    body: userChatCustomPromptSchema,
    status: 200,
    response: userChatCustomPromptSchema,
    handler: async ({ c, body }) => {
      const actor = requireActor(c);
      if (!can(actor.subject, "update_personal", { type: "user", ownerId: actor.user.id })) throw forbidden();
      const prompt = checkPrompt(body.custom_prompt, "Custom prompt");
      await db
        .insert(userConfigs)
        .values({ userId: actor.user.id, key: CUSTOM_PROMPT_KEY, value: prompt })
        .onConflictDoUpdate({ target: [userConfigs.userId, userConfigs.key], set: { value: prompt } });
      return { custom_prompt: prompt };
    },
  });

  routes.add({
    ...common,
    method: "get",
    path: `${CHATS_PATH}/config/workspace-ttl`,
    summary: "How long a workspace made for chats may sit unused before it is stopped (0: never)",
    body: none,
    status: 200,
    response: workspaceTtlSchema,
    handler: async () => ({ workspace_ttl_ms: await readWorkspaceTtl(db) }),
  });

  routes.add({
    ...common,
    method: "put",
    path: `${CHATS_PATH}/config/workspace-ttl`,
    summary: "Set the workspace autostop TTL for new workspaces (admin): 0, or one minute to 30 days",
    body: workspaceTtlSchema,
    status: 204,
    handler: async ({ c, body }) => {
      if (!can(requireActor(c).subject, "update", { type: "deployment_config" })) throw forbidden();
      const problem = workspaceTtlProblem(body.workspace_ttl_ms);
      if (problem) throw badRequest("Invalid workspace TTL.", problem, [{ field: "workspace_ttl_ms", detail: problem }]);
      await writeWorkspaceTtl(db, body.workspace_ttl_ms);
    },
  });

  routes.add({
    ...common,
    method: "get",
    path: `${CHATS_PATH}/config/desktop-enabled`,
    summary: "Whether chats may use a virtual desktop in their workspace (computer use)",
    body: none,
    status: 200,
    response: chatDesktopEnabledSchema,
    handler: async () => ({ enable_desktop: await readDesktopEnabled(db) }),
  });

  routes.add({
    ...common,
    method: "put",
    path: `${CHATS_PATH}/config/desktop-enabled`,
    summary: "Enable or disable the virtual desktop for chats (admin)",
    body: chatDesktopEnabledSchema,
    status: 204,
    handler: async ({ c, body }) => {
      // behavior.md section 3: a non-admin gets 403 (unlike the system prompt's 404).
      if (!can(requireActor(c).subject, "update", { type: "deployment_config" })) throw forbidden();
      await writeDesktopEnabled(db, body.enable_desktop);
    },
  });
}
