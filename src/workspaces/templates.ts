/**
 * The template store: lookups, listing (with popularity), create/update/soft delete, the API
 * shape, and the default `Local` template (PRODUCT.md sections 5 and 6). Authorization is the
 * caller's (service.ts, routes).
 *
 * Invariants:
 * - Names are unique among non-deleted templates ignoring case (the database's partial index);
 *   a clash is a WorkspaceConflictError, never a 500.
 * - A `command` template always has a start command.
 * - A template is deleted softly, and only when no live (non-deleted) workspace uses it, so every
 *   workspace can always read its template.
 * - The default template is created once, idempotently and race-free across replicas; if an admin
 *   deletes it, it stays deleted.
 */
import { and, asc, desc, eq, ilike, or, sql, type SQL } from "drizzle-orm";
import { z } from "zod";
import type { Database, Queryable } from "../db/client.js";
import { uniqueViolation } from "../db/errors.js";
import { templates, workspaces } from "../db/schema/index.js";
import { isUuid } from "../util/parse.js";
import { TemplateNotFoundError, WorkspaceConflictError, WorkspaceInputError } from "./errors.js";
import { templateParametersSchema, type TemplateParameter } from "./parameters.js";
import { PROVISIONERS, type ProvisionerKind, type TemplateResponse } from "../sdk/schemas/workspaces.js";

export type TemplateRow = typeof templates.$inferSelect;

/** Scripts and commands are code, not documents; 64 KiB is far more than any real one. */
export const MAX_SCRIPT_LENGTH = 64 * 1024;

/** Lowercase letters, digits and inner hyphens, at most 32: usable in a URL and in a workspace name. */
export const templateNameSchema = z
  .string()
  .min(1, "Name is required.")
  .max(32, "Name must be at most 32 characters.")
  .regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, "Name may contain lowercase letters, digits and single hyphens between them.");

const templateFields = {
  display_name: z.string().max(64),
  description: z.string().max(2048),
  icon: z.string().max(2048),
  provisioner: z.enum(PROVISIONERS),
  setup_script: z.string().max(MAX_SCRIPT_LENGTH),
  start_command: z.string().max(MAX_SCRIPT_LENGTH),
  stop_command: z.string().max(MAX_SCRIPT_LENGTH),
  parameters: templateParametersSchema,
  deprecated: z.boolean(),
};

export const createTemplateSchema = z.object({
  name: templateNameSchema,
  display_name: templateFields.display_name.optional(),
  description: templateFields.description.optional(),
  icon: templateFields.icon.optional(),
  provisioner: templateFields.provisioner.default("local"),
  setup_script: templateFields.setup_script.optional(),
  start_command: templateFields.start_command.optional(),
  stop_command: templateFields.stop_command.optional(),
  parameters: templateFields.parameters.optional(),
  deprecated: templateFields.deprecated.optional(),
});
export type CreateTemplateInput = z.output<typeof createTemplateSchema>;

export const updateTemplateSchema = createTemplateSchema.partial().extend({ provisioner: templateFields.provisioner.optional() });
export type UpdateTemplateInput = z.output<typeof updateTemplateSchema>;

/** What a workspace's isolation looks like on this server; only `local` templates have one. */
export interface IsolationStatus {
  isolated: boolean;
  /** Set when not isolated: why, in a sentence for the API's `warnings`. */
  warning?: string;
}

/** The stored parameter list. It was validated on the way in, so a failure here is corruption. */
export function templateParameters(row: Pick<TemplateRow, "id" | "parameters">): TemplateParameter[] {
  const parsed = templateParametersSchema.safeParse(row.parameters);
  if (!parsed.success) throw new Error(`template ${row.id} has invalid stored parameters: ${parsed.error.message}`);
  return parsed.data;
}

export function toTemplateResponse(
  row: TemplateRow,
  extra: { activeDevelopers: number; isolation: IsolationStatus; showCommands: boolean },
): TemplateResponse {
  const local = row.provisioner === "local";
  return {
    id: row.id,
    name: row.name,
    display_name: row.displayName,
    description: row.description,
    icon: row.icon,
    provisioner: row.provisioner,
    setup_script: row.setupScript,
    ...(extra.showCommands ? { start_command: row.startCommand, stop_command: row.stopCommand } : {}),
    parameters: templateParameters(row),
    deprecated: row.deprecated,
    active_developers: extra.activeDevelopers,
    ...(local ? { isolated: extra.isolation.isolated } : {}),
    warnings: local && !extra.isolation.isolated && extra.isolation.warning ? [extra.isolation.warning] : [],
    created_by: row.createdBy,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

/** A non-deleted template by id or (case-insensitive) name. */
export async function findTemplate(q: Queryable, ref: string): Promise<TemplateRow> {
  const match = isUuid(ref) ? eq(templates.id, ref.toLowerCase()) : sql`lower(${templates.name}) = lower(${ref})`;
  const [row] = await q
    .select()
    .from(templates)
    .where(and(match, eq(templates.deleted, false)))
    .limit(1);
  if (!row) throw new TemplateNotFoundError();
  return row;
}

/**
 * Correlated count of distinct owners with a live workspace of the outer query's template.
 * Spelled out: Drizzle renders columns unqualified in a single-table select, which would make
 * `template_id = id` compare the workspace with itself.
 */
const activeDevelopersColumn = (): SQL<number> =>
  sql<number>`(SELECT count(DISTINCT w.owner_id) FROM workspaces w WHERE w.template_id = "templates"."id" AND NOT w.deleted)`.mapWith(Number);

export async function activeDevelopers(q: Queryable, templateId: string): Promise<number> {
  const [row] = await q
    .select({ count: activeDevelopersColumn() })
    .from(templates)
    .where(eq(templates.id, templateId));
  return row?.count ?? 0;
}

/** `%a%b%c%` for "abc": letters in order, anything between (a forgiving, index-free fuzzy match). */
function subsequencePattern(query: string): string {
  const escaped = [...query.trim().toLowerCase()].map((char) => (char === "%" || char === "_" || char === "\\" ? `\\${char}` : char));
  return `%${escaped.join("%")}%`;
}

export interface TemplateSearch {
  query?: string;
  includeDeprecated: boolean;
  limit: number;
  offset: number;
  /** `popularity`: most active developers first, then name. `name`: alphabetical. */
  order: "popularity" | "name";
}

export async function searchTemplates(
  q: Queryable,
  search: TemplateSearch,
): Promise<{ rows: Array<{ row: TemplateRow; activeDevelopers: number }>; total: number }> {
  const conditions: SQL[] = [eq(templates.deleted, false)];
  if (!search.includeDeprecated) conditions.push(eq(templates.deprecated, false));
  if (search.query !== undefined && search.query.trim() !== "") {
    const pattern = subsequencePattern(search.query);
    const matched = or(ilike(templates.name, pattern), ilike(templates.displayName, pattern));
    if (matched) conditions.push(matched);
  }
  const where = and(...conditions);
  const developers = activeDevelopersColumn();
  const rows = await q
    .select({ row: templates, activeDevelopers: developers })
    .from(templates)
    .where(where)
    .orderBy(...(search.order === "popularity" ? [desc(developers), asc(templates.name)] : [asc(templates.name)]), asc(templates.id))
    .limit(search.limit)
    .offset(search.offset);
  const [count] = await q
    .select({ total: sql<number>`count(*)`.mapWith(Number) })
    .from(templates)
    .where(where);
  return { rows, total: count?.total ?? 0 };
}

/** A command template without a start command could never start a workspace. */
function assertCommandComplete(provisioner: ProvisionerKind, startCommand: string): void {
  if (provisioner === "command" && startCommand.trim() === "") {
    throw new WorkspaceInputError("Validation failed.", undefined, [
      { field: "start_command", detail: "A command template needs a start command." },
    ]);
  }
}

async function withNameConflict<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (uniqueViolation(error) === "templates_name_idx") throw new WorkspaceConflictError("A template with that name already exists.");
    throw error;
  }
}

export async function insertTemplate(q: Queryable, input: CreateTemplateInput, createdBy: string | null): Promise<TemplateRow> {
  assertCommandComplete(input.provisioner, input.start_command ?? "");
  const [row] = await withNameConflict(() =>
    q
      .insert(templates)
      .values({
        name: input.name,
        displayName: input.display_name ?? "",
        description: input.description ?? "",
        icon: input.icon ?? "",
        provisioner: input.provisioner,
        setupScript: input.setup_script ?? "",
        startCommand: input.start_command ?? "",
        stopCommand: input.stop_command ?? "",
        parameters: input.parameters ?? [],
        deprecated: input.deprecated ?? false,
        createdBy,
      })
      .returning(),
  );
  if (!row) throw new Error("inserting the template returned no row");
  return row;
}

async function hasLiveWorkspaces(q: Queryable, templateId: string): Promise<boolean> {
  const [row] = await q
    .select({ id: workspaces.id })
    .from(workspaces)
    .where(and(eq(workspaces.templateId, templateId), eq(workspaces.deleted, false)))
    .limit(1);
  return row !== undefined;
}

/** Applies a partial update. Existing workspaces keep the parameter values they were created with. */
export async function updateTemplate(q: Queryable, current: TemplateRow, patch: UpdateTemplateInput): Promise<TemplateRow> {
  assertCommandComplete(patch.provisioner ?? current.provisioner, patch.start_command ?? current.startCommand);
  // A live workspace's stop and delete must go through the provisioner that made it.
  if (patch.provisioner !== undefined && patch.provisioner !== current.provisioner && (await hasLiveWorkspaces(q, current.id))) {
    throw new WorkspaceConflictError("The provisioner of a template cannot change while workspaces use it.");
  }
  const [row] = await withNameConflict(() =>
    q
      .update(templates)
      .set({
        ...(patch.name === undefined ? {} : { name: patch.name }),
        ...(patch.display_name === undefined ? {} : { displayName: patch.display_name }),
        ...(patch.description === undefined ? {} : { description: patch.description }),
        ...(patch.icon === undefined ? {} : { icon: patch.icon }),
        ...(patch.provisioner === undefined ? {} : { provisioner: patch.provisioner }),
        ...(patch.setup_script === undefined ? {} : { setupScript: patch.setup_script }),
        ...(patch.start_command === undefined ? {} : { startCommand: patch.start_command }),
        ...(patch.stop_command === undefined ? {} : { stopCommand: patch.stop_command }),
        ...(patch.parameters === undefined ? {} : { parameters: patch.parameters }),
        ...(patch.deprecated === undefined ? {} : { deprecated: patch.deprecated }),
        updatedAt: new Date(),
      })
      .where(and(eq(templates.id, current.id), eq(templates.deleted, false)))
      .returning(),
  );
  if (!row) throw new TemplateNotFoundError();
  return row;
}

/**
 * Soft delete, refused while a live workspace uses the template (its builds read the template's
 * scripts and commands). Deprecate a template to stop new workspaces while old ones live on.
 */
export async function softDeleteTemplate(q: Queryable, template: TemplateRow): Promise<void> {
  if (await hasLiveWorkspaces(q, template.id)) {
    throw new WorkspaceConflictError(
      "The template is still used by workspaces.",
      "Delete its workspaces first, or deprecate the template to stop new workspaces from using it.",
    );
  }
  await q
    .update(templates)
    .set({ deleted: true, updatedAt: new Date() })
    .where(eq(templates.id, template.id));
}

/** The default template's one parameter, and the script that acts on it. */
export const DEFAULT_TEMPLATE_PARAMETERS: TemplateParameter[] = [
  {
    name: "repository",
    display_name: "Repository",
    description: "Git repository to clone into the workspace: a URL or a path",
    type: "string",
    required: false,
    mutable: false,
  },
];

/** Idempotent: a retried first build (after a failed agent start) finds the clone already there. */
export const DEFAULT_SETUP_SCRIPT = `set -eu
if [ -n "\${CHATD_PARAM_REPOSITORY:-}" ] && [ ! -e .git ]; then
  echo "Cloning $CHATD_PARAM_REPOSITORY"
  git clone -- "$CHATD_PARAM_REPOSITORY" .
fi
`;

export const DEFAULT_TEMPLATE = {
  name: "local",
  displayName: "Local",
  description: "An empty directory on the server's machine, optionally with a git repository cloned into it.",
  provisioner: "local",
  setupScript: DEFAULT_SETUP_SCRIPT,
  parameters: DEFAULT_TEMPLATE_PARAMETERS,
} as const;

/**
 * Creates the default template unless a template by that name ever existed (an admin may have
 * deleted it on purpose). Two replicas starting at once: both may pass NOT EXISTS, the unique
 * index then stops the second insert and ON CONFLICT DO NOTHING swallows it.
 */
export async function ensureDefaultTemplate(db: Database): Promise<void> {
  const parameters = JSON.stringify(DEFAULT_TEMPLATE.parameters);
  await db.execute(sql`
    INSERT INTO ${templates} (name, display_name, description, provisioner, setup_script, parameters)
    SELECT ${DEFAULT_TEMPLATE.name}, ${DEFAULT_TEMPLATE.displayName}, ${DEFAULT_TEMPLATE.description},
           ${DEFAULT_TEMPLATE.provisioner}::provisioner_kind, ${DEFAULT_TEMPLATE.setupScript}, ${parameters}::jsonb
    WHERE NOT EXISTS (SELECT 1 FROM ${templates} WHERE lower(name) = ${DEFAULT_TEMPLATE.name})
    ON CONFLICT DO NOTHING`);
}
