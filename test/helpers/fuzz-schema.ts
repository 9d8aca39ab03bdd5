/**
 * The fuzz test's view of the OpenAPI document: its operations (parsed with zod, since the
 * document is the server's output, not something this test trusts), plausible values for a JSON
 * Schema, and the ways to spoil one (wrong types, missing fields, huge or hostile strings).
 */
import { z } from "zod";
import type { Prng } from "./prng.js";

export interface SchemaNode {
  type?: string | string[];
  properties?: Record<string, SchemaNode>;
  required?: string[];
  items?: SchemaNode;
  enum?: unknown[];
  const?: unknown;
  anyOf?: SchemaNode[];
  $ref?: string;
  $defs?: Record<string, SchemaNode>;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  maxItems?: number;
  minItems?: number;
}

const schemaNode: z.ZodType<SchemaNode> = z.lazy(() =>
  z.object({
    type: z.union([z.string(), z.array(z.string())]).optional(),
    properties: z.record(z.string(), schemaNode).optional(),
    required: z.array(z.string()).optional(),
    items: schemaNode.optional(),
    enum: z.array(z.unknown()).optional(),
    const: z.unknown().optional(),
    anyOf: z.array(schemaNode).optional(),
    $ref: z.string().optional(),
    $defs: z.record(z.string(), schemaNode).optional(),
    minLength: z.number().optional(),
    maxLength: z.number().optional(),
    pattern: z.string().optional(),
    format: z.string().optional(),
    minimum: z.number().optional(),
    maximum: z.number().optional(),
    maxItems: z.number().optional(),
    minItems: z.number().optional(),
  }),
);

const parameterSchema = z.object({ name: z.string(), in: z.enum(["path", "query"]), required: z.boolean().optional(), schema: schemaNode });
const operationSchema = z.object({
  parameters: z.array(parameterSchema).optional(),
  requestBody: z.object({ content: z.object({ "application/json": z.object({ schema: schemaNode }) }) }).optional(),
  security: z.array(z.record(z.string(), z.array(z.string()))),
});
export const openApiDocumentSchema = z.object({
  paths: z.record(z.string(), z.record(z.string(), operationSchema)),
});

export interface Operation {
  method: string;
  /** OpenAPI form, `/api/v2/users/{user}`. */
  path: string;
  pathParams: string[];
  query: Array<{ name: string; schema: SchemaNode }>;
  /** The body's schema with its own `$defs` (for `$ref`), when the route takes one. */
  body?: SchemaNode;
  needsLogin: boolean;
}

export function operationsOf(document: unknown): Operation[] {
  const parsed = openApiDocumentSchema.parse(document);
  const operations: Operation[] = [];
  for (const [path, methods] of Object.entries(parsed.paths)) {
    for (const [method, operation] of Object.entries(methods)) {
      const parameters = operation.parameters ?? [];
      const body = operation.requestBody?.content["application/json"].schema;
      operations.push({
        method: method.toUpperCase(),
        path,
        pathParams: parameters.filter((p) => p.in === "path").map((p) => p.name),
        query: parameters.filter((p) => p.in === "query").map((p) => ({ name: p.name, schema: p.schema })),
        ...(body ? { body } : {}),
        needsLogin: operation.security.length > 0,
      });
    }
  }
  return operations;
}

/** 1 MiB: far past every string limit the API has, yet well inside the 4 MiB body limit. */
export const HUGE_STRING_LENGTH = 1024 * 1024;
/** Deep enough to overflow a recursive walker's stack; JSON.parse itself copes. */
const DEEP_NESTING = 5_000;

/** Strings that have broken servers before: NUL, lone surrogates, SQL and path tricks, controls. */
export const HOSTILE_STRINGS: readonly string[] = [
  "",
  " ",
  "\u0000",
  "a\u0000b",
  "\ud800",
  "\udfff\ud800",
  "' OR '1'='1",
  "'; DROP TABLE users; --",
  "%",
  "%00",
  "../../etc/passwd",
  "<script>alert(1)</script>",
  "\u202e\u0301\u200b",
  "🙂".repeat(40),
  "\r\n\t\u0007\u001b[31m",
  "null",
  "-1",
  "1e999",
  "me",
  "00000000-0000-0000-0000-000000000000",
];

export const HOSTILE_NUMBERS: readonly number[] = [-1, 0, 0.5, -0.5, 1e308, -1e308, 2 ** 31, 2 ** 53 + 2, Number.MIN_VALUE, 4294967296];

/** A value of a JSON type other than `avoid`'s. */
export function wrongTypeValue(rng: Prng, avoid: unknown): unknown {
  const candidates: unknown[] = [null, true, false, 0, -1, 1.5, "", "text", [], [1, "a"], {}, { nested: { deeper: [null] } }];
  const kind = (value: unknown) => (Array.isArray(value) ? "array" : value === null ? "null" : typeof value);
  return rng.pick(candidates.filter((candidate) => kind(candidate) !== kind(avoid)));
}

export function hugeString(rng: Prng): string {
  const unit = rng.pick(["x", "é", "\u0000", "🙂", "ab\n", "%"]);
  return unit.repeat(Math.ceil(HUGE_STRING_LENGTH / unit.length));
}

/**
 * Stands in for a deeply nested value until the body is serialized: JSON.stringify itself
 * recurses and would overflow the test's own stack. `withDeepNesting` swaps the text in.
 */
export const DEEP_NESTING_MARKER = "__fuzz_deep_nesting__";

export function withDeepNesting(json: string, rng: Prng): string {
  const open = rng.chance(0.5) ? "[" : '{"a":';
  const close = open === "[" ? "]" : "}";
  return json.replaceAll(JSON.stringify(DEEP_NESTING_MARKER), `${open.repeat(DEEP_NESTING)}1${close.repeat(DEEP_NESTING)}`);
}

function resolve(node: SchemaNode, root: SchemaNode): SchemaNode {
  if (node.$ref === undefined) return node;
  const name = node.$ref.replace(/^#\/\$defs\//, "");
  return root.$defs?.[name] ?? {};
}

function typeOf(node: SchemaNode): string | undefined {
  return Array.isArray(node.type) ? node.type[0] : node.type;
}

/** Supplies plausible values by property name (an id the server knows, a real provider name). */
export type Hints = (property: string, rng: Prng) => unknown;

/** A value that satisfies `node` as far as a generic generator can; hints make it realistic. */
export function sampleValue(node: SchemaNode, root: SchemaNode, rng: Prng, hints: Hints, property = "", depth = 0): unknown {
  const schema = resolve(node, root);
  if (schema.const !== undefined) return schema.const;
  if (schema.enum && schema.enum.length > 0) return rng.pick(schema.enum);
  const hinted = property === "" ? undefined : hints(property, rng);
  if (hinted !== undefined) return hinted;
  if (schema.anyOf && schema.anyOf.length > 0) return sampleValue(rng.pick(schema.anyOf), root, rng, hints, property, depth);
  switch (typeOf(schema)) {
    case "string": {
      const length = Math.max(schema.minLength ?? 1, Math.min(schema.maxLength ?? 12, 8));
      return `fz${rng.int(0, 1_000_000).toString(36)}`.padEnd(length, "x").slice(0, Math.max(length, 1));
    }
    case "integer":
      return rng.int(Math.max(schema.minimum ?? 0, 0), Math.min(schema.maximum ?? 100, 100));
    case "number":
      return rng.int(Math.max(schema.minimum ?? 0, 0), Math.min(schema.maximum ?? 100, 100));
    case "boolean":
      return rng.chance(0.5);
    case "null":
      return null;
    case "array": {
      if (depth > 4 || !schema.items) return [];
      const count = rng.int(schema.minItems ?? 0, Math.min(schema.maxItems ?? 2, 2));
      return Array.from({ length: count }, () => sampleValue(schema.items ?? {}, root, rng, hints, property, depth + 1));
    }
    case "object": {
      const result: Record<string, unknown> = {};
      if (depth > 4) return result;
      const required = new Set(schema.required ?? []);
      for (const [name, child] of Object.entries(schema.properties ?? {})) {
        if (required.has(name) || rng.chance(0.5)) result[name] = sampleValue(child, root, rng, hints, name, depth + 1);
      }
      return result;
    }
    default:
      return rng.pick(["x", 1, true, null]);
  }
}

type Container = Record<string, unknown> | unknown[];

function isContainer(value: unknown): value is Container {
  return typeof value === "object" && value !== null;
}

/** Every (container, key) pair inside `value`, for picking a spot to spoil. */
function slots(value: unknown): Array<{ parent: Container; key: string | number }> {
  const found: Array<{ parent: Container; key: string | number }> = [];
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const current = stack.pop();
    if (Array.isArray(current)) {
      current.forEach((child, index) => {
        found.push({ parent: current, key: index });
        stack.push(child);
      });
    } else if (isContainer(current)) {
      for (const [key, child] of Object.entries(current)) {
        found.push({ parent: current, key });
        stack.push(child);
      }
    }
  }
  return found;
}

function setSlot(parent: Container, key: string | number, value: unknown): void {
  if (Array.isArray(parent) && typeof key === "number") parent[key] = value;
  else if (!Array.isArray(parent)) parent[String(key)] = value;
}

function getSlot(parent: Container, key: string | number): unknown {
  return Array.isArray(parent) && typeof key === "number" ? parent[key] : Reflect.get(parent, key);
}

export type BodyMutation = "wrong_type" | "missing_required" | "huge_string" | "hostile_string" | "hostile_number" | "extra_fields" | "other_root" | "deep_nesting";
export const BODY_MUTATIONS: readonly BodyMutation[] = [
  "wrong_type",
  "missing_required",
  "huge_string",
  "hostile_string",
  "hostile_number",
  "extra_fields",
  "other_root",
  "deep_nesting",
];

/** Spoils a sampled body in place (or replaces it); returns the result. */
export function mutateBody(body: unknown, schema: SchemaNode, mutation: BodyMutation, rng: Prng): unknown {
  const spots = slots(body);
  const spot = spots.length > 0 ? rng.pick(spots) : undefined;
  switch (mutation) {
    case "wrong_type":
      if (!spot) return wrongTypeValue(rng, body);
      setSlot(spot.parent, spot.key, wrongTypeValue(rng, getSlot(spot.parent, spot.key)));
      return body;
    case "missing_required": {
      const root = resolve(schema, schema);
      const required = root.required ?? [];
      if (isContainer(body) && !Array.isArray(body) && required.length > 0) {
        delete body[rng.pick(required)];
        return body;
      }
      if (spot && !Array.isArray(spot.parent)) delete spot.parent[String(spot.key)];
      return body;
    }
    case "huge_string":
      if (!spot) return hugeString(rng);
      setSlot(spot.parent, spot.key, hugeString(rng));
      return body;
    case "hostile_string":
      if (!spot) return rng.pick(HOSTILE_STRINGS);
      setSlot(spot.parent, spot.key, rng.pick(HOSTILE_STRINGS));
      return body;
    case "hostile_number":
      if (!spot) return rng.pick(HOSTILE_NUMBERS);
      setSlot(spot.parent, spot.key, rng.pick(HOSTILE_NUMBERS));
      return body;
    case "extra_fields":
      if (isContainer(body) && !Array.isArray(body)) {
        // defineProperty: assigning `__proto__` would set the prototype instead of adding a key.
        Object.defineProperty(body, rng.pick(["__proto__", "constructor", "id", "owner_id", "roles", "deleted", "x".repeat(300)]), {
          value: wrongTypeValue(rng, undefined),
          enumerable: true,
          configurable: true,
          writable: true,
        });
      }
      return body;
    case "other_root":
      return rng.pick([[], [body], "text", 42, null, true, {}]);
    case "deep_nesting":
      if (!spot) return DEEP_NESTING_MARKER;
      setSlot(spot.parent, spot.key, DEEP_NESTING_MARKER);
      return body;
  }
}
