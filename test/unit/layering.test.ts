/**
 * The layering rules of src/, checked on the import graph: no module outside the HTTP layer (and
 * the two programs that assemble it) imports `api/`, and no import cycle exists anywhere. A cycle
 * makes module evaluation order decide whether a binding is initialized yet, which is how
 * "cannot access X before initialization" shows up only in some entry points.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const SRC = path.resolve(import.meta.dirname, "../../src");
/** Static imports and re-exports (`import … from`, `export … from`, bare `import "…"`); type-only too. */
const IMPORT = /^\s*(?:import|export)\s+(?:[^"';]*?\s+from\s+)?["']([^"']+)["']/gm;
/** Folders allowed to import the HTTP layer: it, and the programs that build it. */
const MAY_IMPORT_API = ["api/", "server/", "cli/"];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith(".ts") ? [full] : [];
  });
}

function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(SRC)) {
    const targets: string[] = [];
    for (const match of readFileSync(file, "utf8").matchAll(IMPORT)) {
      const specifier = match[1];
      if (specifier === undefined || !specifier.startsWith(".")) continue;
      targets.push(path.relative(SRC, path.resolve(path.dirname(file), specifier)).replace(/\.js$/, ".ts"));
    }
    graph.set(path.relative(SRC, file), targets);
  }
  return graph;
}

/** Every cycle once, as the path from its first-found module back to itself (Tarjan-free DFS). */
function findCycles(graph: Map<string, string[]>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, "active" | "done">();
  const stack: string[] = [];
  const visit = (node: string) => {
    state.set(node, "active");
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (!graph.has(next)) continue;
      const seen = state.get(next);
      if (seen === "active") cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (seen === undefined) visit(next);
    }
    stack.pop();
    state.set(node, "done");
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node);
  return cycles;
}

describe("src layering", () => {
  const graph = importGraph();

  it("finds the modules it checks", () => {
    expect(graph.size).toBeGreaterThan(100);
    expect(graph.get("api/app.ts")).toContain("api/errors.ts");
  });

  it("keeps domain modules and the SDK off the HTTP layer", () => {
    const offenders = [...graph]
      .filter(([file]) => !MAY_IMPORT_API.some((prefix) => file.startsWith(prefix)))
      .flatMap(([file, targets]) => targets.filter((t) => t.startsWith("api/")).map((t) => `${file} -> ${t}`));
    expect(offenders).toEqual([]);
  });

  it("has no import cycles", () => {
    expect(findCycles(graph).map((cycle) => cycle.join(" -> "))).toEqual([]);
  });
});
