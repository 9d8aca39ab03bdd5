/**
 * The policy as a WHERE clause, for listings. Filtering after LIMIT would hand back short (even
 * empty) pages while later pages still hold rows; filtering in SQL keeps every page full
 * (behavior.md section 10, Coder PR #23159). Built from the same grant table as `can`.
 */
import { eq, inArray, or, sql, type SQL } from "drizzle-orm";
import type { AnyPgColumn } from "drizzle-orm/pg-core";
import { grantedScopes, type Action, type Resource, type Scope, type Subject } from "./policy.js";
import type { ShareRole } from "../sdk/schemas/workspaces.js";

export interface AuthorizedFilterColumns {
  /** The owning user's id (for the `user` resource, the user's own id column). */
  owner: AnyPgColumn;
  /** The object's id; needed only together with `sharedIds`. */
  id?: AnyPgColumn;
}

export interface AuthorizedFilterOptions {
  /**
   * A bare SELECT (no enclosing parentheses) yielding the ids of objects shared with the subject
   * with at least `role` (`read` means read or use). Without it, shares count for nothing: the
   * filter then matches `can` on objects that carry no `shareRole`.
   */
  sharedIds?: (role: ShareRole) => SQL;
}

const TRUE = (): SQL => sql`true`;
const FALSE = (): SQL => sql`false`;

/** The SQL twin of `scopeCovers` in policy.ts; `undefined` when the scope can match no row here. */
function scopeCondition(
  scope: Scope,
  subject: Subject,
  columns: AuthorizedFilterColumns,
  options: AuthorizedFilterOptions,
): SQL | undefined {
  switch (scope) {
    case "any":
      return TRUE();
    case "own":
      return subject.kind === "user" ? eq(columns.owner, subject.id) : undefined;
    case "shared_read":
    case "shared_use": {
      if (!options.sharedIds) return undefined;
      if (!columns.id) throw new TypeError("authorizedFilter: sharedIds needs the id column");
      const role: ShareRole = scope === "shared_read" ? "read" : "use";
      // inArray does not parenthesize a plain SQL chunk; `IN SELECT` would be a syntax error.
      return inArray(columns.id, sql`(${options.sharedIds(role)})`);
    }
  }
}

export function authorizedFilter(
  subject: Subject,
  action: Action,
  resource: Resource,
  columns: AuthorizedFilterColumns,
  options: AuthorizedFilterOptions = {},
): SQL {
  const scopes = grantedScopes(subject, action, resource);
  if (scopes.has("any")) return TRUE();
  // "At least read" already includes every use share: one subquery instead of two.
  const effective = scopes.has("shared_read") ? [...scopes].filter((scope) => scope !== "shared_use") : [...scopes];
  const conditions: SQL[] = [];
  for (const scope of effective) {
    const condition = scopeCondition(scope, subject, columns, options);
    if (condition) conditions.push(condition);
  }
  const [first, ...rest] = conditions;
  if (!first) return FALSE();
  if (rest.length === 0) return first;
  return or(first, ...rest) ?? FALSE();
}
