/**
 * The web UI bundles src/sdk/schemas/, the client and the follower, so they (and whatever they
 * import inside src/, transitively) may import at runtime only `zod` and each other: no node:*,
 * no ws, no drizzle, no database module. The schemas themselves import only zod and each other. Type-only imports (`import type`, `export type`) vanish
 * from the bundle and are allowed; `import { type A }` is not type-only (verbatimModuleSyntax
 * keeps it as a side-effect import) and counts. They also must not touch Node-only globals.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const SRC = path.resolve(import.meta.dirname, "../../src");
const SCHEMAS = path.join(SRC, "sdk/schemas");
const ROOTS = [
  ...readdirSync(SCHEMAS)
    .filter((name) => name.endsWith(".ts"))
    .map((name) => path.join(SCHEMAS, name)),
  path.join(SRC, "sdk/client.ts"),
  path.join(SRC, "sdk/follow.ts"),
];
/** The only package a browser-safe module may import at runtime. */
const ALLOWED_PACKAGES = new Set(["zod"]);
/** Globals a browser does not have. */
const NODE_GLOBALS = new Set(["Buffer", "process", "require", "module", "__dirname", "__filename", "setImmediate", "NodeJS", "global"]);

const rel = (file: string) => path.relative(path.dirname(SRC), file);

interface Parsed {
  /** Module specifiers this file loads at runtime. */
  imports: string[];
  /** Node-only globals it names. */
  nodeGlobals: string[];
}

function parse(fileName: string, text: string): Parsed {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const imports: string[] = [];
  const nodeGlobals: string[] = [];
  const literal = (node: ts.Node | undefined) => (node && ts.isStringLiteralLike(node) ? node.text : undefined);
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      const spec = literal(node.moduleSpecifier);
      if (spec !== undefined && !node.importClause?.isTypeOnly) imports.push(spec);
    } else if (ts.isExportDeclaration(node)) {
      const spec = literal(node.moduleSpecifier);
      if (spec !== undefined && !node.isTypeOnly) imports.push(spec);
    } else if (ts.isImportEqualsDeclaration(node)) {
      if (ts.isExternalModuleReference(node.moduleReference) && !node.isTypeOnly) {
        const spec = literal(node.moduleReference.expression);
        if (spec !== undefined) imports.push(spec);
      }
    } else if (ts.isCallExpression(node)) {
      const dynamic = node.expression.kind === ts.SyntaxKind.ImportKeyword;
      const required = ts.isIdentifier(node.expression) && node.expression.text === "require";
      if (dynamic || required) imports.push(literal(node.arguments[0]) ?? "<computed specifier>");
    } else if (ts.isIdentifier(node) && NODE_GLOBALS.has(node.text)) {
      const parent = node.parent;
      const isMemberName =
        (ts.isPropertyAccessExpression(parent) && parent.name === node) ||
        ((ts.isPropertyAssignment(parent) || ts.isPropertySignature(parent) || ts.isMethodDeclaration(parent) || ts.isPropertyDeclaration(parent)) && parent.name === node) ||
        (ts.isQualifiedName(parent) && parent.right === node);
      if (!isMemberName) nodeGlobals.push(node.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return { imports, nodeGlobals };
}

/** The src/ file a relative specifier names (`./x.js` is `./x.ts`), or undefined when none is. */
function resolveRelative(spec: string, from: string): string | undefined {
  const target = path.resolve(path.dirname(from), spec);
  const candidates = [target.replace(/\.js$/, ".ts"), `${target}.ts`, path.join(target, "index.ts")];
  return candidates.find((candidate) => existsSync(candidate));
}

/** Every problem in the browser-safe set grown from `roots`, each with the chain that reached it. */
function browserSafetyProblems(roots: readonly string[]): { files: string[]; problems: string[] } {
  const problems: string[] = [];
  const via = new Map<string, string[]>(roots.map((root) => [root, [rel(root)]]));
  const queue = [...roots];
  for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
    const chain = (via.get(file) ?? [rel(file)]).join(" → ");
    const parsed = parse(file, readFileSync(file, "utf8"));
    for (const name of new Set(parsed.nodeGlobals)) problems.push(`${chain} uses the Node global ${name}`);
    for (const spec of parsed.imports) {
      if (!spec.startsWith(".")) {
        if (!ALLOWED_PACKAGES.has(spec)) problems.push(`${chain} imports "${spec}"`);
        continue;
      }
      const target = resolveRelative(spec, file);
      if (target === undefined) problems.push(`${chain} imports "${spec}", which is no file`);
      else if (!target.startsWith(`${SRC}${path.sep}`)) problems.push(`${chain} imports "${spec}", outside src/`);
      else if (target.startsWith(path.join(SRC, "db") + path.sep)) problems.push(`${chain} imports the database module "${spec}"`);
      else if (file.startsWith(`${SCHEMAS}${path.sep}`) && !target.startsWith(`${SCHEMAS}${path.sep}`)) {
        problems.push(`${chain} imports "${spec}": the wire schemas import only zod and each other`);
      }
      else if (!via.has(target)) {
        via.set(target, [...(via.get(file) ?? [rel(file)]), rel(target)]);
        queue.push(target);
      }
    }
  }
  return { files: [...via.keys()].map(rel).sort(), problems };
}

describe("the browser-safe SDK", () => {
  it("imports only zod and its own pure modules, transitively, and no Node globals", () => {
    const { files, problems } = browserSafetyProblems(ROOTS);
    expect(problems).toEqual([]);
    // The walk did reach past the roots: the client's and the follower's own helpers were checked too.
    expect(files).toEqual(expect.arrayContaining(["src/sdk/client.ts", "src/sdk/follow.ts", "src/sdk/schemas/index.ts", "src/util/parse.ts"]));
  });

  it("sees every way of importing at runtime, and only those", () => {
    const code = [
      'import "node:fs";',
      'import WebSocket from "ws";',
      'import { sql } from "drizzle-orm";',
      'import { type Database } from "../db/client.js";',
      'export * from "pg";',
      'export { x } from "./x.js";',
      'const lazy = () => import("node:path");',
      'const old = require("node:os");',
      'import type { Transaction } from "../db/client.js";',
      'export type { Data } from "ws";',
      'type Later = import("node:stream").Readable;',
      'import { z } from "zod";',
    ].join("\n");
    expect(parse("probe.ts", code).imports).toEqual(["node:fs", "ws", "drizzle-orm", "../db/client.js", "pg", "./x.js", "node:path", "node:os", "zod"]);
  });

  it("sees Node globals but not properties that share their names", () => {
    const code = 'const a = Buffer.from("x"); const b = env.process; const c = { process: 1 }; let t: NodeJS.Timeout; setImmediate(() => a);';
    expect(parse("probe.ts", code).nodeGlobals).toEqual(["Buffer", "NodeJS", "setImmediate"]);
  });
});
