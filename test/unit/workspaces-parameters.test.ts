import { describe, expect, it } from "vitest";
import { parameterEnv, parameterEnvName, REGEX_TIME_LIMIT_MS, resolveParameters, templateParametersSchema, type TemplateParameter } from "../../src/workspaces/parameters.js";
import { DEFAULT_TEMPLATE_PARAMETERS } from "../../src/workspaces/templates.js";

const declared: TemplateParameter[] = templateParametersSchema.parse([
  { name: "repository", type: "string", required: true, validation_regex: "^https://" },
  { name: "cpus", type: "number", default: 2, validation_min: 1, validation_max: 8 },
  { name: "region", type: "string", options: [{ name: "Europe", value: "eu" }, { name: "America", value: "us" }] },
  { name: "gpu", type: "bool" },
]);

describe("template parameter declarations", () => {
  it("fills defaults: not required, mutable", () => {
    expect(declared[1]).toMatchObject({ required: false, mutable: true });
  });

  it("refuses inconsistent declarations, naming the field", () => {
    const bad = templateParametersSchema.safeParse([
      { name: "1st", type: "string" },
      { name: "n", type: "number", validation_min: 5, validation_max: 1 },
      { name: "s", type: "string", validation_regex: "(" },
      { name: "b", type: "bool", options: [{ name: "x", value: "maybe" }] },
      { name: "d", type: "number", default: 50, validation_max: 10 },
      { name: "D", type: "string" },
    ]);
    expect(bad.success).toBe(false);
    const paths = bad.error?.issues.map((issue) => issue.path.join(".")) ?? [];
    expect(paths).toEqual(expect.arrayContaining(["0.name", "1.validation_max", "2.validation_regex", "3.options.0.value", "4.default"]));
  });

  it("refuses names that collide once upper-cased into the environment", () => {
    const clash = templateParametersSchema.safeParse([
      { name: "d", type: "number" },
      { name: "D", type: "string" },
    ]);
    expect(clash.error?.issues.map((issue) => issue.path.join("."))).toEqual(["1.name"]);
  });

  it("declares the Local template's one optional repository parameter", () => {
    expect(templateParametersSchema.parse(DEFAULT_TEMPLATE_PARAMETERS)).toEqual([
      expect.objectContaining({ name: "repository", type: "string", required: false, description: "Git repository to clone into the workspace: a URL or a path" }),
    ]);
  });
});

describe("resolveParameters", () => {
  it("applies defaults and coerces numbers and booleans given as text", () => {
    expect(resolveParameters(declared, { repository: "https://x/y.git", gpu: "true", cpus: "4" })).toEqual({
      ok: true,
      values: { repository: "https://x/y.git", cpus: 4, gpu: true },
    });
  });

  it("reports every problem at once, each naming its parameter", () => {
    const result = resolveParameters(declared, { cpus: 9, region: "asia", gpu: "yes", extra: 1 });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toEqual([
      { field: "parameters.extra", detail: 'Unknown parameter "extra"; this template takes repository, cpus, region, gpu.' },
      { field: "parameters.repository", detail: 'Parameter "repository" is required.' },
      { field: "parameters.cpus", detail: 'Parameter "cpus" must be at most 8.' },
      { field: "parameters.region", detail: 'Parameter "region" must be one of "eu", "us".' },
      { field: "parameters.gpu", detail: 'Parameter "gpu" must be a boolean (true or false).' },
    ]);
  });

  it("checks types and patterns", () => {
    const result = resolveParameters(declared, { repository: 42, cpus: "lots" });
    expect(result.ok ? [] : result.problems.map((problem) => problem.detail)).toEqual([
      'Parameter "repository" must be a string.',
      'Parameter "cpus" must be a number.',
    ]);
    const pattern = resolveParameters(declared, { repository: "git@host:x" });
    expect(pattern.ok ? [] : pattern.problems.map((problem) => problem.detail)).toEqual(['Parameter "repository" must match the pattern ^https://.']);
  });

  it("refuses, within the time limit, a value a backtracking pattern cannot decide, instead of freezing the server", () => {
    const evil = templateParametersSchema.parse([{ name: "p", type: "string", validation_regex: "^(a+)+$" }]);
    expect(resolveParameters(evil, { p: "aaaa" }).ok).toBe(true);
    const started = performance.now();
    const result = resolveParameters(evil, { p: `${"a".repeat(40)}!` });
    expect(performance.now() - started).toBeLessThan(20 * REGEX_TIME_LIMIT_MS);
    expect(result.ok ? [] : result.problems.map((problem) => problem.detail)).toEqual([expect.stringMatching(/could not be checked against the pattern .* in time/)]);
    // A declared default goes through the same check.
    const declaration = templateParametersSchema.safeParse([{ name: "p", type: "string", validation_regex: "^(a+)+$", default: `${"a".repeat(40)}!` }]);
    expect(declaration.error?.issues.map((issue) => issue.path.join("."))).toEqual(["0.default"]);
  });

  it("refuses any value for a template without parameters", () => {
    const result = resolveParameters([], { a: "b" });
    expect(result.ok ? [] : result.problems.map((problem) => problem.detail)).toEqual(['Unknown parameter "a"; this template takes no parameters.']);
  });
});

describe("parameter environment", () => {
  it("names variables CHATD_PARAM_<NAME> in upper case with non-alphanumerics as underscores", () => {
    expect(parameterEnvName("repository")).toBe("CHATD_PARAM_REPOSITORY");
    expect(parameterEnvName("git_ref2")).toBe("CHATD_PARAM_GIT_REF2");
    expect(parameterEnv({ cpus: 2, gpu: false, repo: "x" })).toEqual({ CHATD_PARAM_CPUS: "2", CHATD_PARAM_GPU: "false", CHATD_PARAM_REPO: "x" });
  });
});
