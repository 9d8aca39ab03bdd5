/**
 * Template parameters: their schema (what an admin may declare) and the validation of a
 * workspace's values against them. Values are checked once, when a workspace is created; the
 * stored values are then trusted (they become `CHATD_PARAM_*` variables of the setup script).
 *
 * Invariants:
 * - A template's parameter names are identifiers, unique ignoring case, because two names that
 *   differ only in case would map to one environment variable.
 * - A declared default, and every option value, passes the parameter's own validation.
 * - Validation refuses unknown names and reports every problem at once, each naming its parameter.
 * - A validation_regex runs under a time limit: it is an admin's text, and V8's backtracking makes
 *   some patterns exponential (`^(a+)+$` against forty a's and a "!"), which would freeze the
 *   whole server, every request with it, for minutes. A value it cannot decide in time is refused.
 */
import vm from "node:vm";
import { z } from "zod";
import type { FieldProblem } from "./errors.js";
import {
  PARAMETER_TYPES,
  parameterValueSchema,
  type ParameterType,
  type ParameterValue,
  type ParameterValues,
} from "../sdk/schemas/workspaces.js";

/** A template with more parameters than this is not something a person (or model) fills in. */
export const MAX_TEMPLATE_PARAMETERS = 64;
/** Options are shown as a list to pick from; beyond this a free value is the better design. */
export const MAX_PARAMETER_OPTIONS = 64;


const parameterOptionSchema = z.object({
  name: z.string().min(1).max(128),
  value: parameterValueSchema,
  description: z.string().max(1024).optional(),
});

const templateParameterShape = z.object({
  name: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "Parameter name must be an identifier: letters, digits and underscores, not starting with a digit."),
  display_name: z.string().max(128).optional(),
  description: z.string().max(1024).optional(),
  type: z.enum(PARAMETER_TYPES),
  required: z.boolean().default(false),
  default: parameterValueSchema.optional(),
  options: z.array(parameterOptionSchema).max(MAX_PARAMETER_OPTIONS).optional(),
  validation_regex: z.string().max(1024).optional(),
  validation_min: z.number().optional(),
  validation_max: z.number().optional(),
  /** Whether the value may change after creation (kept for a later "update parameters" build). */
  mutable: z.boolean().default(true),
  /** Stored for a later "values that apply to one build only"; not acted on yet. */
  ephemeral: z.boolean().optional(),
});

export type TemplateParameter = z.output<typeof templateParameterShape>;

/** One parameter's declaration, checked for inner consistency (default and options validate). */
export const templateParameterSchema = templateParameterShape.superRefine((parameter, ctx) => {
  if (parameter.validation_regex !== undefined) {
    if (parameter.type !== "string") ctx.addIssue({ code: "custom", path: ["validation_regex"], message: "Only string parameters take a validation_regex." });
    else if (compileRegex(parameter.validation_regex) === undefined) {
      ctx.addIssue({ code: "custom", path: ["validation_regex"], message: "Not a valid regular expression." });
    }
  }
  if ((parameter.validation_min !== undefined || parameter.validation_max !== undefined) && parameter.type !== "number") {
    ctx.addIssue({ code: "custom", path: ["validation_min"], message: "Only number parameters take validation_min and validation_max." });
  }
  if (parameter.validation_min !== undefined && parameter.validation_max !== undefined && parameter.validation_min > parameter.validation_max) {
    ctx.addIssue({ code: "custom", path: ["validation_max"], message: "validation_max must not be less than validation_min." });
  }
  const optionNames = new Set<string>();
  parameter.options?.forEach((option, index) => {
    if (optionNames.has(option.name)) ctx.addIssue({ code: "custom", path: ["options", index, "name"], message: "Option names must be unique." });
    optionNames.add(option.name);
    const problem = checkBareValue(parameter, option.value);
    if (problem !== undefined) ctx.addIssue({ code: "custom", path: ["options", index, "value"], message: problem });
  });
  if (parameter.default !== undefined) {
    const problem = checkValue(parameter, parameter.default).problem;
    if (problem !== undefined) ctx.addIssue({ code: "custom", path: ["default"], message: `The default is invalid: ${problem}` });
  }
});

export const templateParametersSchema = z
  .array(templateParameterSchema)
  .max(MAX_TEMPLATE_PARAMETERS)
  .superRefine((parameters, ctx) => {
    const seen = new Set<string>();
    parameters.forEach((parameter, index) => {
      const key = parameter.name.toLowerCase();
      if (seen.has(key)) ctx.addIssue({ code: "custom", path: [index, "name"], message: `Parameter "${parameter.name}" is declared twice (names are compared ignoring case).` });
      seen.add(key);
    });
  });

function compileRegex(source: string): RegExp | undefined {
  try {
    return new RegExp(source, "u");
  } catch {
    return undefined;
  }
}

/** Far beyond what a sane pattern needs on a 4 KiB value, short enough not to be felt by others. */
export const REGEX_TIME_LIMIT_MS = 50;
/** One context for every match: matches are synchronous, so they never share it at once. */
const regexContext = vm.createContext({ pattern: /$^/u, value: "" });
const regexMatch = new vm.Script("pattern.test(value)");

/** Whether `value` matches, or "too_slow" when the pattern could not decide within the limit. */
function matchWithin(regex: RegExp, value: string): boolean | "too_slow" {
  regexContext.pattern = regex;
  regexContext.value = value;
  try {
    return regexMatch.runInContext(regexContext, { timeout: REGEX_TIME_LIMIT_MS }) === true;
  } catch (error) {
    // Not `instanceof Error`: the error may come from another realm.
    if (typeof error === "object" && error !== null && Reflect.get(error, "code") === "ERR_SCRIPT_EXECUTION_TIMEOUT") return "too_slow";
    throw error;
  } finally {
    regexContext.value = "";
  }
}

/** Coerces a value to the parameter's type: numbers and booleans may arrive as strings (from a model). */
function coerce(type: ParameterType, raw: ParameterValue): ParameterValue | undefined {
  switch (type) {
    case "string":
      return typeof raw === "string" ? raw : undefined;
    case "number": {
      if (typeof raw === "number") return Number.isFinite(raw) ? raw : undefined;
      if (typeof raw === "string" && raw.trim() !== "") {
        const value = Number(raw.trim());
        return Number.isFinite(value) ? value : undefined;
      }
      return undefined;
    }
    case "bool":
      if (typeof raw === "boolean") return raw;
      if (raw === "true") return true;
      if (raw === "false") return false;
      return undefined;
  }
}

/** Type, regex and range checks (everything but options): a problem, or undefined. */
function checkBareValue(parameter: TemplateParameter, raw: ParameterValue): string | undefined {
  const value = coerce(parameter.type, raw);
  if (value === undefined) return `must be a ${parameter.type === "bool" ? "boolean (true or false)" : parameter.type}.`;
  if (typeof value === "string" && parameter.validation_regex !== undefined) {
    const regex = compileRegex(parameter.validation_regex);
    const matched = regex ? matchWithin(regex, value) : true;
    if (matched === "too_slow") return `could not be checked against the pattern ${parameter.validation_regex} in time (the pattern backtracks too much; simplify it).`;
    if (!matched) return `must match the pattern ${parameter.validation_regex}.`;
  }
  if (typeof value === "number") {
    if (parameter.validation_min !== undefined && value < parameter.validation_min) return `must be at least ${parameter.validation_min}.`;
    if (parameter.validation_max !== undefined && value > parameter.validation_max) return `must be at most ${parameter.validation_max}.`;
  }
  return undefined;
}

function checkValue(parameter: TemplateParameter, raw: ParameterValue): { value?: ParameterValue; problem?: string } {
  const problem = checkBareValue(parameter, raw);
  if (problem !== undefined) return { problem };
  const value = coerce(parameter.type, raw);
  if (value === undefined) return { problem: "has the wrong type." };
  if (parameter.options && parameter.options.length > 0 && !parameter.options.some((option) => coerce(parameter.type, option.value) === value)) {
    const allowed = parameter.options.map((option) => JSON.stringify(option.value)).join(", ");
    return { problem: `must be one of ${allowed}.` };
  }
  return { value };
}

export type ResolvedParameters = { ok: true; values: ParameterValues } | { ok: false; problems: FieldProblem[] };

/**
 * The values a workspace gets: the given ones, checked, plus the defaults of parameters not given.
 * Every problem is reported, each as `parameters.<name>`.
 */
export function resolveParameters(declared: readonly TemplateParameter[], given: Readonly<Record<string, ParameterValue>>): ResolvedParameters {
  const problems: FieldProblem[] = [];
  const values: ParameterValues = {};
  const byName = new Map(declared.map((parameter) => [parameter.name, parameter]));
  for (const name of Object.keys(given)) {
    if (!byName.has(name)) {
      const known = declared.map((parameter) => parameter.name).join(", ");
      problems.push({ field: `parameters.${name}`, detail: `Unknown parameter "${name}"; this template takes ${known === "" ? "no parameters" : known}.` });
    }
  }
  for (const parameter of declared) {
    const raw = Object.hasOwn(given, parameter.name) ? given[parameter.name] : undefined;
    if (raw === undefined) {
      if (parameter.default !== undefined) values[parameter.name] = parameter.default;
      else if (parameter.required) problems.push({ field: `parameters.${parameter.name}`, detail: `Parameter "${parameter.name}" is required.` });
      continue;
    }
    const checked = checkValue(parameter, raw);
    if (checked.problem !== undefined || checked.value === undefined) {
      problems.push({ field: `parameters.${parameter.name}`, detail: `Parameter "${parameter.name}" ${checked.problem ?? "is invalid."}` });
    } else {
      values[parameter.name] = checked.value;
    }
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, values };
}

/** `CHATD_PARAM_<NAME>`: upper-cased, anything but letters and digits turned into `_`. */
export function parameterEnvName(name: string): string {
  return `CHATD_PARAM_${name.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`;
}

/** The parameter variables of a workspace, for its setup script or start command. */
export function parameterEnv(values: Readonly<ParameterValues>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(values)) env[parameterEnvName(name)] = String(value);
  return env;
}

/**
 * The values after a start build that changes some: the stored ones with `changes` applied, all
 * checked again. A parameter declared `mutable: false` may change only while the workspace has
 * never been built successfully (`built` false): a failed first build is fixed by correcting
 * its values and starting again, but a built workspace's immutable values shaped what is on disk.
 */
export function changeParameters(
  declared: readonly TemplateParameter[],
  stored: Readonly<ParameterValues>,
  changes: Readonly<Record<string, ParameterValue>>,
  built: boolean,
): ResolvedParameters {
  const problems: FieldProblem[] = [];
  const byName = new Map(declared.map((parameter) => [parameter.name, parameter]));
  for (const [name, value] of Object.entries(changes)) {
    const parameter = byName.get(name);
    if (parameter === undefined || parameter.mutable || !built) continue;
    if (!Object.hasOwn(stored, name) || stored[name] !== value) {
      problems.push({
        field: `parameters.${name}`,
        detail: `Parameter "${name}" cannot change once the workspace has been built; create a new workspace instead.`,
      });
    }
  }
  if (problems.length > 0) return { ok: false, problems };
  // Stored values of parameters the template no longer declares are dropped, not refused.
  const kept = Object.fromEntries(Object.entries(stored).filter(([name]) => byName.has(name)));
  return resolveParameters(declared, { ...kept, ...changes });
}
