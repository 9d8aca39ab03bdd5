/**
 * The OpenAPI 3.1 document, generated from the route registry's zod schemas (zod 4's JSON Schema
 * output), so the document cannot drift from what the routes validate and return.
 */
import { z } from "zod";
import { errorResponseSchema } from "../sdk/schemas/errors.js";
import type { RegisteredRoute } from "./route.js";

type JsonObject = Record<string, unknown>;

function jsonSchema(schema: z.ZodType, io: "input" | "output"): JsonObject {
  // `unrepresentable: "any"` keeps a route documented even if one field has no JSON Schema form.
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: "any", target: "draft-2020-12" });
  return rest;
}

function objectProperties(schema: z.ZodType): Array<[string, JsonObject, boolean]> {
  const json = jsonSchema(schema, "input");
  const properties = json.properties;
  const required = Array.isArray(json.required) ? json.required : [];
  if (typeof properties !== "object" || properties === null) return [];
  return Object.entries(properties).map(([name, value]) => [
    name,
    typeof value === "object" && value !== null ? { ...value } : {},
    required.includes(name),
  ]);
}

function openApiPath(honoPath: string): string {
  return honoPath.replace(/:([A-Za-z0-9_]+)/g, "{$1}");
}

export function buildOpenApiDocument(routes: readonly RegisteredRoute[], version: string): JsonObject {
  const paths: Record<string, Record<string, JsonObject>> = {};
  for (const route of routes) {
    const parameters = [
      ...objectProperties(route.params).map(([name, schema]) => ({ name, in: "path", required: true, schema })),
      ...objectProperties(route.query).map(([name, schema, required]) => ({ name, in: "query", required, schema })),
    ];
    const success =
      route.status === 204 || !route.response
        ? { description: "No content" }
        : { description: "Success", content: { "application/json": { schema: jsonSchema(route.response, "output") } } };
    const operation: JsonObject = {
      summary: route.summary,
      tags: route.tags,
      operationId: `${route.method}${openApiPath(route.path).replace(/[^A-Za-z0-9]+(.)?/g, (_m, ch: string | undefined) => (ch ?? "").toUpperCase())}`,
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(route.body
        ? { requestBody: { required: true, content: { "application/json": { schema: jsonSchema(route.body, "input") } } } }
        : {}),
      responses: {
        [String(route.status)]: success,
        default: { description: "Error", content: { "application/json": { schema: jsonSchema(errorResponseSchema, "output") } } },
      },
      ...(route.auth === "user" ? { security: [{ bearer: [] }, { cookie: [] }] } : { security: [] }),
    };
    const path = openApiPath(route.path);
    paths[path] = { ...paths[path], [route.method]: operation };
  }
  return {
    openapi: "3.1.0",
    info: { title: "chatd API", version },
    paths,
    components: {
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer", description: "A session token or an API token (`<id>-<secret>`)." },
        cookie: { type: "apiKey", in: "cookie", name: "chatd_session" },
      },
    },
  };
}
