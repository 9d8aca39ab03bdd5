/**
 * The one authorization policy (PRODUCT.md section 5, behavior.md section 10). Every rule lives in
 * the grant tables below. `can` (one object) and `authorizedFilter` in `sql.ts` (a listing) both
 * read them through `grantedScopes`, so the two cannot disagree about who may do what.
 */
import { z } from "zod";
import { ROLES, type Role } from "../sdk/schemas/users.js";
import { SHARE_ROLES, type ShareRole } from "../sdk/schemas/workspaces.js";

export const RESOURCES = ["chat", "chat_file", "workspace", "template", "deployment_config", "user", "group"] as const;
export const ACTIONS = [
  "create",
  "read",
  "update",
  "delete",
  "ssh",
  "application_connect",
  "read_personal",
  "update_personal",
] as const;

export const RoleSchema = z.enum(ROLES);
export const ResourceSchema = z.enum(RESOURCES);
export const ActionSchema = z.enum(ACTIONS);
export const ShareRoleSchema = z.enum(SHARE_ROLES);

export type Resource = (typeof RESOURCES)[number];
export type Action = (typeof ACTIONS)[number];

const CRUD = ["create", "read", "update", "delete"] as const;

/**
 * The actions that mean something on each resource. A check outside this list (ssh on a template,
 * read_personal on a chat) is denied to everyone, owner included, so a mistyped check in a route
 * fails closed instead of quietly passing for owners.
 */
export const RESOURCE_ACTIONS = {
  chat: CRUD,
  chat_file: CRUD,
  workspace: [...CRUD, "ssh", "application_connect"],
  template: CRUD,
  deployment_config: CRUD,
  user: [...CRUD, "read_personal", "update_personal"],
  group: CRUD,
} as const satisfies Record<Resource, readonly Action[]>;

type ActionOn<R extends Resource> = (typeof RESOURCE_ACTIONS)[R][number];

export type Subject =
  | { kind: "user"; id: string; roles: readonly Role[] }
  | { kind: "system"; name: "chatd" };

/** behavior.md's `AsChatd`: background work (chat loop, workers) that acts for no single user. */
export const CHATD_SUBJECT: Subject = { kind: "system", name: "chatd" };

export interface PolicyObject {
  type: Resource;
  /** The owning user; for a `user` object, that user's own id. Absent means owned by nobody. */
  ownerId?: string;
  /**
   * The share the subject holds on this object, looked up by the caller. Only workspaces have
   * shares; on any other resource it is ignored.
   */
  shareRole?: ShareRole;
}

/**
 * Which objects a grant covers: all of them, the subject's own, or the ones shared with the
 * subject with at least `read` or at least `use`.
 */
export type Scope = "any" | "own" | "shared_read" | "shared_use";
export const SCOPES = ["any", "own", "shared_read", "shared_use"] as const satisfies readonly Scope[];

type Grants = { readonly [R in Resource]?: { readonly [A in ActionOn<R>]?: readonly Scope[] } };

const ANY: readonly Scope[] = ["any"];
const OWN: readonly Scope[] = ["own"];

function crud(scopes: readonly Scope[]): { readonly [A in (typeof CRUD)[number]]: readonly Scope[] } {
  return { create: scopes, read: scopes, update: scopes, delete: scopes };
}

/**
 * What each role grants. A user holds the union of their roles' grants, and every user holds at
 * least `member`'s, so higher roles only list what they add.
 */
const ROLE_GRANTS: Readonly<Record<Role, Grants>> = {
  owner: {
    chat: crud(ANY),
    chat_file: crud(ANY),
    workspace: { ...crud(ANY), ssh: ANY, application_connect: ANY },
    template: crud(ANY),
    deployment_config: crud(ANY),
    user: { ...crud(ANY), read_personal: ANY, update_personal: ANY },
    group: crud(ANY),
  },
  admin: {
    chat: crud(ANY),
    chat_file: crud(ANY),
    // No ssh or application_connect here: an admin may read and manage any workspace, but attaching
    // another user's workspace to a chat would run code as that user (Coder PR #23094). They come
    // only from the member grants below: own workspaces and `use` shares.
    workspace: crud(ANY),
    template: crud(ANY),
    deployment_config: crud(ANY),
    // Personal data (custom prompt and the like) stays the user's own: member grants cover self.
    user: crud(ANY),
    group: crud(ANY),
  },
  member: {
    chat: crud(OWN),
    chat_file: crud(OWN),
    // Shares never grant update or delete: the owner stays in charge of the workspace's lifecycle.
    workspace: {
      create: OWN,
      read: ["own", "shared_read"],
      update: OWN,
      delete: OWN,
      ssh: ["own", "shared_use"],
      application_connect: ["own", "shared_use"],
    },
    template: { read: ANY },
    // Not update: role changes are `update` on user, which only admins and owners hold.
    user: { read: OWN, read_personal: OWN, update_personal: OWN },
  },
};

const SYSTEM_GRANTS: Readonly<Record<Extract<Subject, { kind: "system" }>["name"], Grants>> = {
  chatd: {
    chat: crud(ANY),
    chat_file: { create: ANY, read: ANY },
    workspace: { read: ANY, update: ANY },
    // Lets routes list the enabled model configs for members, who cannot read deployment config.
    deployment_config: { read: ANY },
    user: { read: ANY, read_personal: ANY },
  },
};

export function isRole(value: string): value is Role {
  return ROLES.some((role) => role === value);
}

/**
 * A user subject from roles as stored (free text): unknown roles are dropped and `member` is always
 * present, so a corrupt or empty role list yields a plain member, never more.
 */
export function userSubject(id: string, roles: readonly string[]): Subject {
  const known = new Set<Role>(["member"]);
  for (const role of roles) if (isRole(role)) known.add(role);
  return { kind: "user", id, roles: ROLES.filter((role) => known.has(role)) };
}

function grantLayers(subject: Subject): readonly Grants[] {
  if (subject.kind === "system") return [SYSTEM_GRANTS[subject.name]];
  // Filtered again here because a Subject may be built without userSubject (or from bad data).
  const layers: Grants[] = [ROLE_GRANTS.member];
  for (const role of ROLES) {
    if (role !== "member" && subject.roles.some((held) => held === role)) layers.push(ROLE_GRANTS[role]);
  }
  return layers;
}

/** The scopes in which the subject may do `action` on `resource`: the union over its roles. */
export function grantedScopes(subject: Subject, action: Action, resource: Resource): ReadonlySet<Scope> {
  const scopes = new Set<Scope>();
  for (const layer of grantLayers(subject)) {
    const byAction: Partial<Record<Action, readonly Scope[]>> | undefined = layer[resource];
    for (const scope of byAction?.[action] ?? []) scopes.add(scope);
  }
  return scopes;
}

/** Whether one scope covers one object. `sql.ts` has the SQL twin of this switch. */
export function scopeCovers(scope: Scope, subject: Subject, object: PolicyObject): boolean {
  switch (scope) {
    case "any":
      return true;
    case "own":
      return subject.kind === "user" && object.ownerId !== undefined && object.ownerId === subject.id;
    case "shared_read":
      return object.type === "workspace" && (object.shareRole === "read" || object.shareRole === "use");
    case "shared_use":
      return object.type === "workspace" && object.shareRole === "use";
  }
}

export function can(subject: Subject, action: Action, object: PolicyObject): boolean {
  for (const scope of grantedScopes(subject, action, object.type)) {
    if (scopeCovers(scope, subject, object)) return true;
  }
  return false;
}

/** Coder's wording for a denied request. */
export class ForbiddenError extends Error {
  readonly status = 403;
  constructor(message = "Forbidden.") {
    super(message);
    this.name = "ForbiddenError";
  }
}

export function authorize(subject: Subject, action: Action, object: PolicyObject): void {
  if (!can(subject, action, object)) throw new ForbiddenError();
}
