/**
 * Turns one API operation into one hostile request: who sends it (admin, member, nobody, a broken
 * credential), what goes in its path (other users' ids, random UUIDs, junk), its query string and
 * its body (spoiled JSON, invalid JSON, odd content types). Everything comes from the seeded
 * generator, so a request is reproduced by its seed and index alone.
 */
import { BODY_MUTATIONS, HOSTILE_STRINGS, mutateBody, sampleValue, withDeepNesting, type Hints, type Operation } from "./fuzz-schema.js";
import type { Prng } from "./prng.js";
import type { RawRequest } from "./raw-http.js";

export const ACTORS = ["admin", "member", "anonymous", "bad_credential"] as const;
export type Actor = (typeof ACTORS)[number];

export interface FuzzRequest extends RawRequest {
  index: number;
  actor: Actor;
  /** The operation it was made from, `METHOD /path/{param}`. */
  operation: string;
  /** What was done to it, for the failure report. */
  strategy: string;
}

export interface FuzzContext {
  tokens: Record<"admin" | "member", string>;
  /** Real values for a path parameter (ids of the member's, other users' and admin objects). */
  pool(operation: Operation, param: string): readonly string[];
  hints: Hints;
}

/** Weights of who sends a request: mostly real users, so requests get past authentication. */
const ACTOR_WEIGHTS: ReadonlyArray<readonly [Actor, number]> = [
  ["admin", 0.38],
  ["member", 0.4],
  ["anonymous", 0.14],
  ["bad_credential", 0.08],
];

function pickActor(rng: Prng): Actor {
  let roll = rng.next();
  for (const [actor, weight] of ACTOR_WEIGHTS) {
    roll -= weight;
    if (roll < 0) return actor;
  }
  return "member";
}

function credentialHeaders(actor: Actor, context: FuzzContext, rng: Prng): Record<string, string> {
  if (actor === "admin" || actor === "member") return { Authorization: `Bearer ${context.tokens[actor]}` };
  if (actor === "anonymous") return {};
  return rng.pick<Record<string, string>>([
    { Authorization: "Bearer" },
    { Authorization: "Bearer x" },
    { Authorization: `Bearer ${rng.uuid()}-${"a".repeat(32)}` },
    { Authorization: `Bearer ${"A".repeat(6000)}` },
    { Authorization: "Basic dXNlcjpwYXNz" },
    { Authorization: `Bearer ${context.tokens.member}x` },
    { Cookie: "chatd_session=%00%ff; chatd_session=also" },
    { Cookie: `chatd_session=${rng.uuid()}` },
  ]);
}

/** A segment sent as is (already percent-encoded where needed) or encoded from text. */
function encodeSegment(value: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    // A lone surrogate cannot be encoded; send the bytes a broken encoder would have produced.
    return "%ED%A0%80";
  }
}

/** Raw segments that decoding must survive: malformed escapes, traversal, encoded NUL. */
const RAW_SEGMENTS: readonly string[] = ["%", "%zz", "%00", "%ff%fe", "..", "%2e%2e%2f%2e%2e", "%E0%A4%A", "a%2Fb", "%20", "-1", "0", "99999999999999999999999", "1.5", "1e3", "x".repeat(65)];

function pathValue(operation: Operation, param: string, context: FuzzContext, rng: Prng): { text: string; strategy: string } {
  const pool = context.pool(operation, param);
  const roll = rng.next();
  if (roll < 0.4 && pool.length > 0) return { text: encodeSegment(rng.pick(pool)), strategy: "real id" };
  if (roll < 0.6) return { text: rng.uuid(), strategy: "random uuid" };
  if (roll < 0.65) return { text: rng.uuid().toUpperCase(), strategy: "upper-case uuid" };
  if (roll < 0.82) return { text: rng.pick(RAW_SEGMENTS), strategy: "raw segment" };
  return { text: encodeSegment(rng.pick(HOSTILE_STRINGS) || "x"), strategy: "hostile id" };
}

const QUERY_VALUES: readonly string[] = ["abc", "-1", "0", "1e3", "1.5", "99999999999999999999", "", "true", "%zz", "%00", "null", "archived:maybe", "archived:true", "a:b c:d"];

function queryString(operation: Operation, rng: Prng): { text: string; strategy: string } {
  const parts: string[] = [];
  const known = operation.query.map((q) => q.name);
  const count = rng.int(1, 4);
  for (let i = 0; i < count; i++) {
    const name = known.length > 0 && rng.chance(0.75) ? rng.pick(known) : rng.pick(["unknown", "limit[]", "", "a%00b", "__proto__", "x".repeat(200)]);
    const value = rng.chance(0.15) ? encodeSegment(rng.pick(HOSTILE_STRINGS)) : rng.chance(0.05) ? "y".repeat(8_000) : rng.pick(QUERY_VALUES);
    parts.push(rng.chance(0.1) ? name : `${name}=${value}`);
  }
  const joined = parts.join(rng.chance(0.1) ? "&&" : "&");
  return { text: `?${rng.chance(0.05) ? "&" : ""}${joined}`, strategy: "odd query" };
}

const INVALID_JSON: readonly string[] = ["{", '{"a":', "[1,]", "{'a':1}", "\u00ef\u00bb\u00bf{}", "NaN", '{"a":1}}', '{"a":1} trailing', '{"a":"\\ud800"}', '{"a":"\\u0000"}', '{"__proto__":{"admin":true}}', "\u0000", "[".repeat(200_000)];

type BodyForm = { body?: string | Uint8Array; contentType?: string; chunked?: boolean; strategy: string };

function multipart(json: string): { body: string; contentType: string } {
  const boundary = "fuzzboundary";
  return {
    body: `--${boundary}\r\nContent-Disposition: form-data; name="body"\r\n\r\n${json}\r\n--${boundary}--\r\n`,
    contentType: `multipart/form-data; boundary=${boundary}`,
  };
}

function jsonBody(operation: Operation, context: FuzzContext, rng: Prng): BodyForm {
  const roll = rng.next();
  if (roll < 0.12) return { body: rng.pick(INVALID_JSON), contentType: "application/json", strategy: "invalid json" };
  const schema = operation.body ?? {};
  let value = sampleValue(schema, schema, rng, context.hints);
  const mutations: string[] = [];
  const times = rng.int(1, 2);
  for (let i = 0; i < times; i++) {
    const mutation = rng.pick(BODY_MUTATIONS);
    mutations.push(mutation);
    value = mutateBody(value, schema, mutation, rng);
  }
  const text = withDeepNesting(JSON.stringify(value) ?? "null", rng);
  const type = rng.next();
  if (type < 0.72) return { body: text, contentType: "application/json", strategy: mutations.join("+") };
  if (type < 0.78) return { body: text, strategy: `${mutations.join("+")}, no content type` };
  if (type < 0.84) {
    const form = multipart(text);
    return { ...form, strategy: `${mutations.join("+")}, multipart` };
  }
  const contentType = rng.pick(["text/plain", "application/x-www-form-urlencoded", "application/json; charset=utf-16", "image/png", "*/*", "application/xml", "application/json, text/plain"]);
  return { body: text, contentType, chunked: rng.chance(0.3), strategy: `${mutations.join("+")}, ${contentType}` };
}

const UPLOAD_TYPES: readonly string[] = ["image/png", "image/jpeg", "image/gif", "image/webp", "image/svg+xml", "IMAGE/PNG", "image/png; charset=x", "text/plain", "application/json", "multipart/form-data; boundary=x", ""];

function uploadBody(rng: Prng): BodyForm & { disposition?: string } {
  const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const random = Uint8Array.from({ length: rng.int(0, 2048) }, () => rng.int(0, 255));
  const withPng = new Uint8Array(png.length + random.length);
  withPng.set(png);
  withPng.set(random, png.length);
  const body = rng.pick<Uint8Array | string>([withPng, random, new Uint8Array(0), "GIF89a", '<svg xmlns="http://www.w3.org/2000/svg"/>', '{"a":1}']);
  const contentType = rng.pick(UPLOAD_TYPES);
  // "" stands for no header at all.
  const disposition = rng.pick(["", 'attachment; filename="a.png"', "attachment; filename*=UTF-8''%F0%9F%99%82%00.png", `attachment; filename="${"n".repeat(1000)}"`, "inline; filename=", "garbage;;;="]);
  return {
    body,
    ...(contentType === "" ? {} : { contentType }),
    ...(disposition === "" ? {} : { disposition }),
    chunked: rng.chance(0.2),
    strategy: `upload ${contentType || "without type"}`,
  };
}

export const UPLOAD_PATH = "/api/experimental/chats/files";

/** One hostile request for `operation`. */
export function fuzzRequest(index: number, operation: Operation, context: FuzzContext, rng: Prng): FuzzRequest {
  const actor = pickActor(rng);
  const strategies: string[] = [];
  let path = operation.path;
  for (const param of operation.pathParams) {
    const value = pathValue(operation, param, context, rng);
    strategies.push(`${param}: ${value.strategy}`);
    path = path.replace(`{${param}}`, value.text);
  }
  if (rng.chance(0.35)) {
    const query = queryString(operation, rng);
    path += query.text;
    strategies.push(query.strategy);
  }
  const headers: Record<string, string> = credentialHeaders(actor, context, rng);
  let form: BodyForm = { strategy: "no body" };
  if (operation.method === "POST" && operation.path === UPLOAD_PATH) {
    const upload = uploadBody(rng);
    if (upload.disposition !== undefined) headers["Content-Disposition"] = upload.disposition;
    form = upload;
  } else if (operation.body) {
    form = jsonBody(operation, context, rng);
  } else if (rng.chance(0.15)) {
    // Routes without a body must ignore (and still read) one that is sent anyway.
    form = { body: rng.pick(INVALID_JSON.slice(0, 8)), contentType: "application/json", strategy: "unexpected body" };
  }
  if (form.contentType !== undefined) headers["Content-Type"] = form.contentType;
  strategies.push(form.strategy);
  return {
    index,
    actor,
    operation: `${operation.method} ${operation.path}`,
    method: operation.method,
    // node:http refuses to send spaces and non-ASCII in a path; what it may send is left raw.
    path: path.replace(/[^\x21-\x7e]/gu, (char) => encodeSegment(char)),
    headers,
    ...(form.body === undefined ? {} : { body: form.body }),
    ...(form.chunked ? { chunked: true } : {}),
    strategy: strategies.join("; "),
  };
}
