/**
 * Route definitions: one object per route holding its zod schemas and handler. The same objects
 * register the Hono handler (validation of params, query and body; the response parsed through
 * its schema, so a field that is not in the schema, such as a password hash, can never leave)
 * and generate the OpenAPI document.
 */
import type { Context, Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { z } from "zod";
import { badRequest, HttpError, validationsFromZod } from "./errors.js";
import type { AppEnv } from "./context.js";
import { requireActor } from "./context.js";

export type HttpMethod = "get" | "post" | "put" | "patch" | "delete";

type AnySchema = z.ZodType;

/** For routes without path params, query or body: an object that accepts and keeps nothing. */
export const none = z.object({});
const isNone = (schema: AnySchema): boolean => schema === none;

export interface RouteInput<P extends AnySchema, Q extends AnySchema, B extends AnySchema> {
  c: Context<AppEnv>;
  params: z.output<P>;
  query: z.output<Q>;
  body: z.output<B>;
}

export interface RouteDefinition<P extends AnySchema, Q extends AnySchema, B extends AnySchema, R extends AnySchema> {
  method: HttpMethod;
  /** Hono path syntax (`/api/v2/users/:user`); OpenAPI gets `{user}`. */
  path: string;
  summary: string;
  tags: string[];
  /**
   * `public` routes need no login; `user` routes answer 401 before the handler runs unless the
   * request is authenticated (handlers then read the actor with `requireActor(c)`).
   */
  auth: "public" | "user";
  params: P;
  query: Q;
  body: B;
  /** Status on success; 204 means no body. */
  status: ContentfulStatusCode | 204;
  response?: R;
  handler: (input: RouteInput<P, Q, B>) => Promise<z.input<R>>;
}

/** The erased form kept in the registry (for OpenAPI) once the handler is bound. */
export interface RegisteredRoute {
  method: HttpMethod;
  path: string;
  summary: string;
  tags: string[];
  auth: "public" | "user";
  params: AnySchema;
  query: AnySchema;
  /** Absent for routes that take no body. */
  body?: AnySchema;
  status: number;
  response?: AnySchema;
}

/**
 * The dotted path of the first string (or object key) holding a NUL character, if any. Text and
 * jsonb columns cannot store NUL, so such a value would reach the database only to fail there
 * with a 500. Walked with a stack, not recursion: the value may be nested thousands deep.
 */
function nulPath(value: unknown): string | undefined {
  const stack: Array<{ value: unknown; path: string }> = [{ value, path: "" }];
  const join = (path: string, key: string | number) => (path === "" ? String(key) : `${path}.${key}`);
  while (stack.length > 0) {
    const current = stack.pop();
    if (current === undefined) break;
    if (typeof current.value === "string") {
      if (current.value.includes("\u0000")) return current.path;
    } else if (Array.isArray(current.value)) {
      current.value.forEach((item, index) => stack.push({ value: item, path: join(current.path, index) }));
    } else if (typeof current.value === "object" && current.value !== null) {
      for (const [key, item] of Object.entries(current.value)) {
        if (key.includes("\u0000")) return join(current.path, key);
        stack.push({ value: item, path: join(current.path, key) });
      }
    }
  }
  return undefined;
}

function parseWith<S extends AnySchema>(schema: S, value: unknown, where: string): z.output<S> {
  const withNul = nulPath(value);
  if (withNul !== undefined) {
    const field = [where === "body" ? undefined : where, withNul].filter((part) => part !== undefined && part !== "").join(".") || where;
    throw badRequest(where === "body" ? "Validation failed." : `Invalid ${where}.`, undefined, [{ field, detail: "Must not contain NUL characters." }]);
  }
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const validations = validationsFromZod(result.error, where === "body" ? undefined : where);
  throw badRequest(where === "body" ? "Validation failed." : `Invalid ${where}.`, undefined, validations);
}

async function readJsonBody(c: Context<AppEnv>): Promise<unknown> {
  const text = await c.req.text();
  if (text.trim() === "") return {};
  try {
    return JSON.parse(text);
  } catch (error) {
    throw badRequest("Request body must be valid JSON.", error instanceof Error ? error.message : undefined);
  }
}

function queryObject(c: Context<AppEnv>): Record<string, string> {
  return Object.fromEntries(new URL(c.req.url).searchParams);
}

export class RouteRegistry {
  readonly routes: RegisteredRoute[] = [];

  constructor(readonly app: Hono<AppEnv>) {}

  add<P extends AnySchema, Q extends AnySchema, B extends AnySchema, R extends AnySchema>(
    route: RouteDefinition<P, Q, B, R>,
  ): void {
    this.routes.push({
      method: route.method,
      path: route.path,
      summary: route.summary,
      tags: route.tags,
      auth: route.auth,
      status: route.status,
      params: route.params,
      query: route.query,
      ...(isNone(route.body) ? {} : { body: route.body }),
      ...(route.response ? { response: route.response } : {}),
    });
    this.app.on(route.method.toUpperCase(), route.path, async (c) => {
      if (route.auth === "user") requireActor(c);
      const params = parseWith(route.params, c.req.param(), "path");
      const query = parseWith(route.query, queryObject(c), "query");
      const body = parseWith(route.body, isNone(route.body) ? {} : await readJsonBody(c), "body");
      const result = await route.handler({ c, params, query, body });
      if (route.status === 204) return c.body(null, 204);
      if (!route.response) throw new HttpError(500, "Internal error.", "route has no response schema");
      return c.json(route.response.parse(result), route.status);
    });
  }
}
