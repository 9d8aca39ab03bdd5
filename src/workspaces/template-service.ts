/**
 * Template operations as a subject: members read, admins (and owners) create, update and delete
 * (rbac's template grants). Responses carry the server's isolation status for local templates.
 */
import type { Queryable } from "../db/client.js";
import { can, type Subject } from "../rbac/policy.js";
import { WorkspaceForbiddenError } from "./errors.js";
import {
  activeDevelopers,
  findTemplate,
  insertTemplate,
  searchTemplates,
  softDeleteTemplate,
  toTemplateResponse,
  updateTemplate as updateTemplateRow,
  type CreateTemplateInput,
  type IsolationStatus,
  type TemplateRow,
  type UpdateTemplateInput,
} from "./templates.js";
import type { TemplateResponse } from "../sdk/schemas/workspaces.js";

/** A page a model can read at once; callers ask for the next page by number. */
export const DEFAULT_TEMPLATE_PAGE_SIZE = 10;
/** Upper bound on a page, so one call cannot dump an unbounded list. */
export const MAX_TEMPLATE_PAGE_SIZE = 1000;

export interface TemplateListOptions {
  /** Fuzzy match on name and display name (letters in order). */
  query?: string;
  /** 1-based. */
  page?: number;
  /** Rows to skip; overrides `page` (the HTTP listing pages by offset). */
  offset?: number;
  pageSize?: number;
  /** Default false: deprecated templates take no new workspaces. */
  includeDeprecated?: boolean;
  /** Default `popularity`: most distinct active developers first, then name. */
  order?: "popularity" | "name";
}

function assertTemplateAction(subject: Subject, action: "create" | "read" | "update" | "delete"): void {
  if (!can(subject, action, { type: "template" })) throw new WorkspaceForbiddenError();
}

function respond(subject: Subject, row: TemplateRow, developers: number, isolation: IsolationStatus): TemplateResponse {
  return toTemplateResponse(row, { activeDevelopers: developers, isolation, showCommands: can(subject, "update", { type: "template" }) });
}

export async function listTemplates(
  q: Queryable,
  subject: Subject,
  isolation: IsolationStatus,
  options: TemplateListOptions = {},
): Promise<{ templates: TemplateResponse[]; total: number }> {
  assertTemplateAction(subject, "read");
  const pageSize = Math.min(Math.max(1, Math.floor(options.pageSize ?? DEFAULT_TEMPLATE_PAGE_SIZE)), MAX_TEMPLATE_PAGE_SIZE);
  const page = Math.max(1, Math.floor(options.page ?? 1));
  const { rows, total } = await searchTemplates(q, {
    ...(options.query === undefined ? {} : { query: options.query }),
    includeDeprecated: options.includeDeprecated ?? false,
    limit: pageSize,
    offset: options.offset ?? (page - 1) * pageSize,
    order: options.order ?? "popularity",
  });
  return { templates: rows.map(({ row, activeDevelopers: developers }) => respond(subject, row, developers, isolation)), total };
}

/** A non-deleted template by id or name (deprecated ones included). */
export async function getTemplate(q: Queryable, subject: Subject, isolation: IsolationStatus, ref: string): Promise<TemplateResponse> {
  assertTemplateAction(subject, "read");
  const row = await findTemplate(q, ref);
  return respond(subject, row, await activeDevelopers(q, row.id), isolation);
}

export async function createTemplate(q: Queryable, subject: Subject, isolation: IsolationStatus, input: CreateTemplateInput): Promise<TemplateResponse> {
  assertTemplateAction(subject, "create");
  const row = await insertTemplate(q, input, subject.kind === "user" ? subject.id : null);
  return respond(subject, row, 0, isolation);
}

export async function updateTemplate(
  q: Queryable,
  subject: Subject,
  isolation: IsolationStatus,
  ref: string,
  patch: UpdateTemplateInput,
): Promise<TemplateResponse> {
  assertTemplateAction(subject, "read");
  const current = await findTemplate(q, ref);
  assertTemplateAction(subject, "update");
  const row = await updateTemplateRow(q, current, patch);
  return respond(subject, row, await activeDevelopers(q, row.id), isolation);
}

/** Soft delete; WorkspaceConflictError while live workspaces use it (see templates.ts). */
export async function deleteTemplate(q: Queryable, subject: Subject, ref: string): Promise<void> {
  assertTemplateAction(subject, "read");
  const current = await findTemplate(q, ref);
  assertTemplateAction(subject, "delete");
  await softDeleteTemplate(q, current);
}
