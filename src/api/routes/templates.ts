/**
 * Templates (PRODUCT.md section 5): everyone logged in reads them, admins create, update and
 * delete. Delete is soft and refused (409) while live workspaces use the template; deprecate it
 * to stop new workspaces instead.
 */
import { z } from "zod";
import { createTemplateSchema, updateTemplateSchema } from "../../workspaces/templates.js";
import { requireActor } from "../context.js";
import { none, type RouteRegistry } from "../route.js";
import type { ApiServices } from "../services.js";
import { booleanQuery, mapWorkspaceErrors, pageQuery, templateParams } from "./workspaces-common.js";
import { templateResponseSchema } from "../../sdk/schemas/workspaces.js";

export function registerTemplateRoutes(routes: RouteRegistry, services: ApiServices): void {
  const { workspaces } = services;
  const common = { tags: ["Templates"], auth: "user" as const };

  routes.add({
    ...common,
    method: "get",
    path: "/api/v2/templates",
    summary: "List templates, most used first (`q`: fuzzy name match)",
    params: none,
    query: pageQuery.extend({ q: z.string().max(128).optional(), include_deprecated: booleanQuery.default(true) }),
    body: none,
    status: 200,
    response: z.array(templateResponseSchema),
    handler: ({ c, query }) =>
      mapWorkspaceErrors(async () => {
        const { templates } = await workspaces.listTemplates(requireActor(c).subject, {
          ...(query.q === undefined ? {} : { query: query.q }),
          includeDeprecated: query.include_deprecated,
          pageSize: query.limit,
          offset: query.offset,
        });
        return templates;
      }),
  });

  routes.add({
    ...common,
    method: "post",
    path: "/api/v2/templates",
    summary: "Create a template (admin)",
    params: none,
    query: none,
    body: createTemplateSchema,
    status: 201,
    response: templateResponseSchema,
    handler: ({ c, body }) => mapWorkspaceErrors(() => workspaces.createTemplate(requireActor(c).subject, body)),
  });

  routes.add({
    ...common,
    method: "get",
    path: "/api/v2/templates/:template",
    summary: "Get a template by id or name",
    params: templateParams,
    query: none,
    body: none,
    status: 200,
    response: templateResponseSchema,
    handler: ({ c, params }) => mapWorkspaceErrors(() => workspaces.getTemplate(requireActor(c).subject, params.template)),
  });

  routes.add({
    ...common,
    method: "patch",
    path: "/api/v2/templates/:template",
    summary: "Update a template (admin); existing workspaces keep their parameter values",
    params: templateParams,
    query: none,
    body: updateTemplateSchema,
    status: 200,
    response: templateResponseSchema,
    handler: ({ c, params, body }) => mapWorkspaceErrors(() => workspaces.updateTemplate(requireActor(c).subject, params.template, body)),
  });

  routes.add({
    ...common,
    method: "delete",
    path: "/api/v2/templates/:template",
    summary: "Delete a template (admin); 409 while live workspaces use it",
    params: templateParams,
    query: none,
    body: none,
    status: 204,
    handler: ({ c, params }) => mapWorkspaceErrors(() => workspaces.deleteTemplate(requireActor(c).subject, params.template)),
  });
}
