import { sql, type SQL } from "drizzle-orm";
import { PgDialect, pgTable, uuid } from "drizzle-orm/pg-core";
import { describe, expect, it } from "vitest";
import { CHATD_SUBJECT, type Subject } from "../../src/rbac/policy.js";
import { authorizedFilter } from "../../src/rbac/sql.js";

const SELF = "00000000-0000-4000-8000-000000000001";
const things = pgTable("things", { id: uuid("id").primaryKey(), ownerId: uuid("owner_id").notNull() });
const columns = { owner: things.ownerId, id: things.id };
const sharedIds = (role: "read" | "use"): SQL => sql`SELECT thing_id FROM shares WHERE role = ${role}`;

const member: Subject = { kind: "user", id: SELF, roles: ["member"] };
const admin: Subject = { kind: "user", id: SELF, roles: ["admin"] };

const dialect = new PgDialect();
const render = (filter: SQL) => {
  const { sql: text, params } = dialect.sqlToQuery(filter);
  return { sql: text, params };
};

describe("authorizedFilter", () => {
  it("is `true` when every object is allowed", () => {
    expect(render(authorizedFilter(admin, "read", "chat", columns))).toEqual({ sql: "true", params: [] });
    expect(render(authorizedFilter(CHATD_SUBJECT, "update", "chat", columns))).toEqual({ sql: "true", params: [] });
    expect(render(authorizedFilter(member, "read", "template", columns))).toEqual({ sql: "true", params: [] });
  });

  it("is `false` when nothing is allowed", () => {
    expect(render(authorizedFilter(member, "read", "group", columns))).toEqual({ sql: "false", params: [] });
    expect(render(authorizedFilter(CHATD_SUBJECT, "ssh", "workspace", columns))).toEqual({ sql: "false", params: [] });
    expect(render(authorizedFilter(admin, "ssh", "chat", columns))).toEqual({ sql: "false", params: [] });
  });

  it("is the owner comparison when only own objects are allowed", () => {
    expect(render(authorizedFilter(member, "read", "chat", columns))).toEqual({
      sql: '"things"."owner_id" = $1',
      params: [SELF],
    });
    expect(render(authorizedFilter(member, "read", "workspace", columns))).toEqual({
      sql: '"things"."owner_id" = $1',
      params: [SELF],
    });
  });

  it("adds the shared ids with the least role the action needs", () => {
    expect(render(authorizedFilter(member, "read", "workspace", columns, { sharedIds }))).toEqual({
      sql: '("things"."owner_id" = $1 or "things"."id" in (SELECT thing_id FROM shares WHERE role = $2))',
      params: [SELF, "read"],
    });
    expect(render(authorizedFilter(admin, "application_connect", "workspace", columns, { sharedIds }))).toEqual({
      sql: '("things"."owner_id" = $1 or "things"."id" in (SELECT thing_id FROM shares WHERE role = $2))',
      params: [SELF, "use"],
    });
    // Shares never reach update, and an admin's read is already everything.
    expect(render(authorizedFilter(member, "update", "workspace", columns, { sharedIds }))).toEqual({
      sql: '"things"."owner_id" = $1',
      params: [SELF],
    });
    expect(render(authorizedFilter(admin, "read", "workspace", columns, { sharedIds }))).toEqual({
      sql: "true",
      params: [],
    });
  });

  it("refuses shares without an id column to match them on", () => {
    expect(() => authorizedFilter(member, "read", "workspace", { owner: things.ownerId }, { sharedIds })).toThrow(
      /id column/,
    );
  });
});
