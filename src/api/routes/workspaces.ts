/**
 * Workspaces, their builds and shares (PRODUCT.md section 5). Every handler goes through the
 * workspace service, which authorizes with rbac: unknown or unreadable → 404, readable but not
 * allowed → 403, bad input → 400 with nothing changed, state conflicts → 409.
 */
import { z } from "zod";
import { ShareRoleSchema } from "../../rbac/policy.js";
import { MAX_TEMPLATE_PARAMETERS } from "../../workspaces/parameters.js";
import { workspaceNameSchema } from "../../workspaces/service.js";
import { requireActor } from "../context.js";
import { none, type RouteRegistry } from "../route.js";
import type { ApiServices } from "../services.js";
import { buildParams, mapWorkspaceErrors, pageQuery, refField, shareParams, workspaceParams } from "./workspaces-common.js";
import { BUILD_TRANSITIONS, buildResponseSchema, buildWithLogResponseSchema, parameterValueSchema, shareResponseSchema, workspaceResponseSchema } from "../../sdk/schemas/workspaces.js";

const parametersSchema = z
  .record(z.string().max(64), parameterValueSchema)
  .refine((values) => Object.keys(values).length <= MAX_TEMPLATE_PARAMETERS, `At most ${MAX_TEMPLATE_PARAMETERS} parameters.`);

const createWorkspaceBody = z.object({
  template_id: refField,
  name: workspaceNameSchema.optional(),
  parameters: parametersSchema.optional(),
});

export function registerWorkspaceRoutes(routes: RouteRegistry, services: ApiServices): void {
  const { workspaces } = services;
  const common = { tags: ["Workspaces"], auth: "user" as const };

  routes.add({
    ...common,
    method: "get",
    path: "/api/v2/workspaces",
    summary: "List the workspaces you may read (own, shared with you; all for admins)",
    params: none,
    query: pageQuery.extend({
      owner: z.string().min(1).max(64).optional(),
      q: z.string().max(128).optional(),
      /** `true`: only those the caller may attach to a chat (the new-chat picker). */
      usable: z.enum(["true", "false"]).optional(),
    }),
    body: none,
    status: 200,
    response: z.array(workspaceResponseSchema),
    handler: ({ c, query }) =>
      mapWorkspaceErrors(() =>
        workspaces.listWorkspaces(requireActor(c).subject, {
          ...(query.owner === undefined ? {} : { owner: query.owner }),
          ...(query.q === undefined ? {} : { query: query.q }),
          usable: query.usable === "true",
          limit: query.limit,
          offset: query.offset,
        }),
      ),
  });

  routes.add({
    ...common,
    method: "post",
    path: "/api/v2/workspaces",
    summary: "Create a workspace from a template; its first build starts at once",
    params: none,
    query: none,
    body: createWorkspaceBody,
    status: 201,
    response: workspaceResponseSchema,
    handler: ({ c, body }) =>
      mapWorkspaceErrors(async () => {
        const created = await workspaces.createWorkspace(requireActor(c).subject, {
          templateId: body.template_id,
          ...(body.name === undefined ? {} : { name: body.name }),
          ...(body.parameters === undefined ? {} : { parameters: body.parameters }),
        });
        return created.workspace;
      }),
  });

  routes.add({
    ...common,
    method: "get",
    path: "/api/v2/workspaces/:workspace",
    summary: "Get a workspace",
    params: workspaceParams,
    query: none,
    body: none,
    status: 200,
    response: workspaceResponseSchema,
    handler: ({ c, params }) => mapWorkspaceErrors(() => workspaces.getWorkspace(requireActor(c).subject, params.workspace)),
  });

  routes.add({
    ...common,
    method: "post",
    path: "/api/v2/workspaces/:workspace/builds",
    summary: "Start, stop or delete a workspace (409 while a build runs or when the transition makes no sense)",
    params: workspaceParams,
    query: none,
    body: z.object({ transition: z.enum(BUILD_TRANSITIONS), parameters: parametersSchema.optional() }),
    status: 201,
    response: buildResponseSchema,
    handler: ({ c, params, body }) =>
      mapWorkspaceErrors(() => workspaces.requestTransition(requireActor(c).subject, params.workspace, body.transition, body.parameters)),
  });

  routes.add({
    ...common,
    method: "get",
    path: "/api/v2/workspaces/:workspace/builds",
    summary: "List a workspace's builds, newest first (without logs)",
    params: workspaceParams,
    query: pageQuery,
    body: none,
    status: 200,
    response: z.array(buildResponseSchema),
    handler: ({ c, params, query }) => mapWorkspaceErrors(() => workspaces.listBuilds(requireActor(c).subject, params.workspace, query)),
  });

  routes.add({
    ...common,
    method: "get",
    path: "/api/v2/workspacebuilds/:build",
    summary: "Get a workspace build with its log",
    params: buildParams,
    query: none,
    body: none,
    status: 200,
    response: buildWithLogResponseSchema,
    handler: ({ c, params }) => mapWorkspaceErrors(() => workspaces.getBuild(requireActor(c).subject, params.build)),
  });

  routes.add({
    ...common,
    method: "get",
    path: "/api/v2/workspaces/:workspace/shares",
    summary: "List who a workspace is shared with",
    params: workspaceParams,
    query: none,
    body: none,
    status: 200,
    response: z.array(shareResponseSchema),
    handler: ({ c, params }) => mapWorkspaceErrors(() => workspaces.listShares(requireActor(c).subject, params.workspace)),
  });

  routes.add({
    ...common,
    method: "put",
    path: "/api/v2/workspaces/:workspace/shares/:user",
    summary: "Share a workspace with a user (`read`, or `use` = ssh and apps), or change the role",
    params: shareParams,
    query: none,
    body: z.object({ role: ShareRoleSchema }),
    status: 200,
    response: shareResponseSchema,
    handler: ({ c, params, body }) =>
      mapWorkspaceErrors(() => workspaces.putShare(requireActor(c).subject, params.workspace, params.user, body.role)),
  });

  routes.add({
    ...common,
    method: "delete",
    path: "/api/v2/workspaces/:workspace/shares/:user",
    summary: "Stop sharing a workspace with a user",
    params: shareParams,
    query: none,
    body: none,
    status: 204,
    handler: ({ c, params }) => mapWorkspaceErrors(() => workspaces.deleteShare(requireActor(c).subject, params.workspace, params.user)),
  });
}
