import { describe, expect, it } from "vitest";
import {
  ACTIONS,
  authorize,
  can,
  CHATD_SUBJECT,
  ForbiddenError,
  RESOURCES,
  ResourceSchema,
  RoleSchema,
  userSubject,
  type Action,
  type PolicyObject,
  type Resource,
  type Subject,
} from "../../src/rbac/policy.js";

const SELF = "00000000-0000-4000-8000-000000000001";
const OTHER = "00000000-0000-4000-8000-000000000002";

const SUBJECTS = {
  owner: { kind: "user", id: SELF, roles: ["owner"] },
  admin: { kind: "user", id: SELF, roles: ["admin"] },
  member: { kind: "user", id: SELF, roles: ["member"] },
  system: CHATD_SUBJECT,
} as const satisfies Record<string, Subject>;

/** The four objects each cell covers, in the order of a cell's four characters. */
const CONTEXTS = ["own", "other", "shared read", "shared use"] as const;
type Context = (typeof CONTEXTS)[number];

function objectFor(type: Resource, context: Context): PolicyObject {
  switch (context) {
    case "own":
      return { type, ownerId: SELF };
    case "other":
      return { type, ownerId: OTHER };
    case "shared read":
      return { type, ownerId: OTHER, shareRole: "read" };
    case "shared use":
      return { type, ownerId: OTHER, shareRole: "use" };
  }
}

/*
 * The expected policy, written out by hand. One line per resource, one cell per action in ACTIONS
 * order; each cell is four characters for [own, another user's, another user's shared with the
 * subject as `read`, ... as `use`] objects. Y = allowed, . = denied. Shares exist only on
 * workspaces, so on other resources the shared columns must equal "another user's".
 *
 *                    create read update delete ssh app_connect read_personal update_personal
 */
const EXPECTED: Record<keyof typeof SUBJECTS, string> = {
  owner: `
    chat              YYYY YYYY YYYY YYYY .... .... .... ....
    chat_file         YYYY YYYY YYYY YYYY .... .... .... ....
    workspace         YYYY YYYY YYYY YYYY YYYY YYYY .... ....
    template          YYYY YYYY YYYY YYYY .... .... .... ....
    deployment_config YYYY YYYY YYYY YYYY .... .... .... ....
    user              YYYY YYYY YYYY YYYY .... .... YYYY YYYY
    group             YYYY YYYY YYYY YYYY .... .... .... ....`,
  admin: `
    chat              YYYY YYYY YYYY YYYY .... .... .... ....
    chat_file         YYYY YYYY YYYY YYYY .... .... .... ....
    workspace         YYYY YYYY YYYY YYYY Y..Y Y..Y .... ....
    template          YYYY YYYY YYYY YYYY .... .... .... ....
    deployment_config YYYY YYYY YYYY YYYY .... .... .... ....
    user              YYYY YYYY YYYY YYYY .... .... Y... Y...
    group             YYYY YYYY YYYY YYYY .... .... .... ....`,
  member: `
    chat              Y... Y... Y... Y... .... .... .... ....
    chat_file         Y... Y... Y... Y... .... .... .... ....
    workspace         Y... Y.YY Y... Y... Y..Y Y..Y .... ....
    template          .... YYYY .... .... .... .... .... ....
    deployment_config .... .... .... .... .... .... .... ....
    user              .... Y... .... .... .... .... Y... Y...
    group             .... .... .... .... .... .... .... ....`,
  system: `
    chat              YYYY YYYY YYYY YYYY .... .... .... ....
    chat_file         YYYY YYYY .... .... .... .... .... ....
    workspace         .... YYYY YYYY .... .... .... .... ....
    template          .... .... .... .... .... .... .... ....
    deployment_config .... YYYY .... .... .... .... .... ....
    user              .... YYYY .... .... .... .... YYYY ....
    group             .... .... .... .... .... .... .... ....`,
};

interface Row {
  who: keyof typeof SUBJECTS;
  resource: Resource;
  action: Action;
  context: Context;
  expected: boolean;
}

/** Turns a matrix into rows; a malformed matrix throws, so a typo cannot silently drop cases. */
function parseMatrix(who: keyof typeof SUBJECTS, matrix: string): Row[] {
  const rows: Row[] = [];
  const lines = matrix.split("\n").map((line) => line.trim()).filter((line) => line !== "");
  const names = lines.map((line) => line.split(/\s+/)[0]);
  if (names.join() !== RESOURCES.join()) throw new Error(`${who}: resources out of order: ${names.join()}`);
  for (const line of lines) {
    const [name, ...cells] = line.split(/\s+/);
    const resource = ResourceSchema.parse(name);
    if (cells.length !== ACTIONS.length) throw new Error(`${who} ${resource}: ${cells.length} cells`);
    ACTIONS.forEach((action, a) => {
      const cell = cells[a] ?? "";
      if (!/^[Y.]{4}$/.test(cell)) throw new Error(`${who} ${resource} ${action}: bad cell "${cell}"`);
      CONTEXTS.forEach((context, c) => rows.push({ who, resource, action, context, expected: cell[c] === "Y" }));
    });
  }
  return rows;
}

const ROWS: Row[] = [
  ...parseMatrix("owner", EXPECTED.owner),
  ...parseMatrix("admin", EXPECTED.admin),
  ...parseMatrix("member", EXPECTED.member),
  ...parseMatrix("system", EXPECTED.system),
];

describe("policy matrix", () => {
  it("covers every subject × resource × action × object", () => {
    expect(ROWS).toHaveLength(4 * RESOURCES.length * ACTIONS.length * CONTEXTS.length);
  });

  it.each(ROWS)("$who $action $resource ($context) → $expected", ({ who, resource, action, context, expected }) => {
    expect(can(SUBJECTS[who], action, objectFor(resource, context))).toBe(expected);
  });
});

describe("roles", () => {
  const both: Subject = { kind: "user", id: SELF, roles: ["member", "admin"] };
  const ownerAdmin: Subject = { kind: "user", id: SELF, roles: ["admin", "owner"] };

  it("gives a user with several roles the union of their grants", () => {
    expect(can(both, "read", { type: "chat", ownerId: OTHER })).toBe(true);
    expect(can(both, "update", { type: "group" })).toBe(true);
    expect(can(both, "ssh", { type: "workspace", ownerId: OTHER })).toBe(false);
    expect(can(both, "ssh", { type: "workspace", ownerId: OTHER, shareRole: "use" })).toBe(true);
    expect(can(both, "read_personal", { type: "user", ownerId: OTHER })).toBe(false);
    expect(can(ownerAdmin, "ssh", { type: "workspace", ownerId: OTHER })).toBe(true);
    expect(can(ownerAdmin, "update_personal", { type: "user", ownerId: OTHER })).toBe(true);
  });

  it("treats an empty role list as member", () => {
    const none: Subject = { kind: "user", id: SELF, roles: [] };
    expect(can(none, "read", { type: "chat", ownerId: SELF })).toBe(true);
    expect(can(none, "ssh", { type: "workspace", ownerId: SELF })).toBe(true);
    expect(can(none, "read", { type: "template" })).toBe(true);
    expect(can(none, "read", { type: "chat", ownerId: OTHER })).toBe(false);
  });

  it("normalizes stored roles: unknown ones grant nothing, member is always there", () => {
    expect(userSubject(SELF, [])).toEqual({ kind: "user", id: SELF, roles: ["member"] });
    expect(userSubject(SELF, ["bogus", "admin", "admin"])).toEqual({
      kind: "user",
      id: SELF,
      roles: ["admin", "member"],
    });
    const bogus = userSubject(SELF, ["root", "superuser", "OWNER"]);
    expect(bogus).toEqual({ kind: "user", id: SELF, roles: ["member"] });
    expect(can(bogus, "read", { type: "chat", ownerId: OTHER })).toBe(false);
    expect(can(bogus, "read", { type: "chat", ownerId: SELF })).toBe(true);
  });

  it("does not let a member change roles, their own or anyone's", () => {
    expect(can(SUBJECTS.member, "update", { type: "user", ownerId: SELF })).toBe(false);
    expect(can(SUBJECTS.member, "update", { type: "user", ownerId: OTHER })).toBe(false);
    expect(can(SUBJECTS.member, "create", { type: "user", ownerId: OTHER })).toBe(false);
    expect(can(SUBJECTS.admin, "update", { type: "user", ownerId: OTHER })).toBe(true);
    expect(can(SUBJECTS.owner, "update", { type: "user", ownerId: OTHER })).toBe(true);
  });

  it("lets an admin read another user's workspace but not attach it (PR #23094)", () => {
    const theirs: PolicyObject = { type: "workspace", ownerId: OTHER };
    expect(can(SUBJECTS.admin, "read", theirs)).toBe(true);
    expect(can(SUBJECTS.admin, "ssh", theirs)).toBe(false);
    expect(can(SUBJECTS.admin, "application_connect", theirs)).toBe(false);
    expect(can(SUBJECTS.admin, "ssh", { ...theirs, shareRole: "read" })).toBe(false);
  });

  it("counts an object without an owner as nobody's own", () => {
    expect(can(SUBJECTS.member, "create", { type: "chat" })).toBe(false);
    expect(can(SUBJECTS.member, "create", { type: "chat", ownerId: SELF })).toBe(true);
    expect(can(SUBJECTS.owner, "create", { type: "chat" })).toBe(true);
  });

  it("validates names with the zod enums", () => {
    expect(RoleSchema.parse("admin")).toBe("admin");
    expect(RoleSchema.safeParse("root").success).toBe(false);
    expect(ResourceSchema.safeParse("organization").success).toBe(false);
  });
});

describe("authorize", () => {
  it("returns when allowed and throws a 403 ForbiddenError when not", () => {
    expect(() => authorize(SUBJECTS.member, "read", { type: "chat", ownerId: SELF })).not.toThrow();
    let caught: unknown;
    try {
      authorize(SUBJECTS.member, "read", { type: "chat", ownerId: OTHER });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ForbiddenError);
    expect(caught).toMatchObject({ status: 403, message: "Forbidden." });
  });
});
