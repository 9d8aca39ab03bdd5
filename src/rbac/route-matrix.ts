/**
 * The authorization matrix: for every route the server has, the status each kind of caller gets.
 * This table is the specification (PRODUCT.md section 5, behavior.md sections 3 and 10); the
 * policy (policy.ts) is how the server meets it, and test/integration/authz-matrix.test.ts checks
 * the running server against it. That test fails when a route has no row here, so a new route
 * cannot ship without its authorization being written down.
 *
 * Columns, for a route about one object (a chat, a workspace, a file, a user, a token…):
 * - `member` owns the object (for user routes, the member *is* the object);
 * - `other_member` is another member who neither owns it nor holds a share of it;
 * - `admin` holds the admin role; `owner` is the first user (role owner);
 * - `anonymous` sends no credential.
 * For routes about no particular object (lists, creation, settings) `member` and `other_member`
 * are simply two members.
 *
 * The conventions the rows follow:
 * - No credential: 401 on every route that needs a login.
 * - Something the caller may not read answers exactly like something that does not exist (404),
 *   so ids cannot be probed: another member's chat, file, workspace, build, API tokens, and the
 *   user record itself (a member reads only themselves; behavior.md: "members get 404 from user
 *   lookup").
 * - Admin-only routes answer 403 to members (behavior.md: providers, workspace TTL; PRODUCT.md:
 *   users, groups, template writes), except the system prompt's PUT, which behavior.md makes 404.
 * - Something the caller may read but not change answers 403. Admins manage any chat and
 *   workspace (read, update, builds), but personal data stays personal: an admin sees the member
 *   yet gets 403 for their API tokens; only an owner, who may do everything, gets through.
 * - Success statuses are the route's own (201 create, 204 no content); 409 or 400 in a column
 *   means the caller was allowed and the request itself was then refused on its merits.
 * - Endpoints for workspace agents and for other replicas never accept a user's credential (401).
 */
export const CALLERS = ["anonymous", "member", "other_member", "admin", "owner"] as const;
export type Caller = (typeof CALLERS)[number];

export type ExpectedStatuses = Readonly<Record<Caller, number>>;

export interface RouteRule {
  /** What each caller gets. */
  readonly expect: ExpectedStatuses;
  /** Why a row is not what the conventions above would predict. */
  readonly note?: string;
}

/** `METHOD /path/{param}`, the OpenAPI spelling, for every route (documented or not). */
export type RouteKey = `${"GET" | "POST" | "PUT" | "PATCH" | "DELETE"} /${string}`;

function statuses(anonymous: number, member: number, other_member: number, admin: number, owner: number): ExpectedStatuses {
  return { anonymous, member, other_member, admin, owner };
}

/** The same answer for everyone. */
const everyone = (status: number) => statuses(status, status, status, status, status);
/** Any logged-in user, about their own things or things everyone may read. */
const anyUser = (status: number) => statuses(401, status, status, status, status);
/** Admins and owners; members are refused. */
const adminOnly = (status: number) => statuses(401, 403, 403, status, status);
/** One member's object: the owner, admins and owners; another member is told it does not exist. */
const ownedObject = (status: number) => statuses(401, status, 404, status, status);
/** Personal data of the member: only that member and the owner role; an admin sees the user, not this. */
const personal = (status: number) => statuses(401, status, 404, 403, status);
/** The member's own user record managed by an admin: a member may not, another cannot see it. */
const userManagement = (status: number) => statuses(401, 403, 404, status, status);

export const ROUTE_MATRIX = {
  // System and sign-in.
  "GET /healthz": { expect: everyone(200) },
  "GET /metrics": { expect: everyone(200), note: "PRODUCT.md: no login; restrict it at the proxy." },
  "GET /api/openapi.json": { expect: everyone(200) },
  "GET /": { expect: everyone(200), note: "The web UI's page (a placeholder until it is built)." },
  "GET /api/v2/users/first": { expect: everyone(200) },
  "POST /api/v2/users/first": { expect: everyone(409), note: "Public, and closed for good once the first user exists." },
  "POST /api/v2/users/login": { expect: everyone(201), note: "Public: the member's own credentials, whoever sends them." },
  "POST /api/v2/users/logout": { expect: anyUser(200) },

  // Users and their API tokens.
  "GET /api/v2/users": { expect: adminOnly(200), note: "PRODUCT.md: listing users is an admin route (issue 11 defect 3)." },
  "POST /api/v2/users": { expect: adminOnly(201) },
  "GET /api/v2/users/{user}": { expect: ownedObject(200) },
  "PATCH /api/v2/users/{user}/roles": { expect: userManagement(200) },
  "PUT /api/v2/users/{user}/status/suspend": { expect: userManagement(200) },
  "PUT /api/v2/users/{user}/status/activate": { expect: userManagement(200) },
  "POST /api/v2/users/{user}/keys": { expect: personal(201) },
  "GET /api/v2/users/{user}/keys": { expect: personal(200) },
  "DELETE /api/v2/users/{user}/keys/{id}": { expect: personal(204) },

  // Web push: the key anyone logged in subscribes with; subscriptions are the member's alone.
  "GET /api/experimental/webpush/vapid-public-key": { expect: anyUser(200) },
  "POST /api/v2/users/{user}/webpush/subscription": {
    expect: statuses(401, 204, 404, 403, 403),
    note: "Self only, owners included: a subscription sends that user's chat titles and summaries to the subscriber's browser.",
  },
  "DELETE /api/v2/users/{user}/webpush/subscription": { expect: statuses(401, 204, 404, 403, 403), note: "Self only, as subscribing." },
  "POST /api/v2/users/{user}/webpush/test": { expect: statuses(401, 204, 404, 403, 403), note: "Self only, as subscribing." },

  // Groups: admin.
  "GET /api/v2/groups": { expect: adminOnly(200) },
  "POST /api/v2/groups": { expect: adminOnly(201) },
  "GET /api/v2/groups/{group}": { expect: adminOnly(200), note: "403 even to a member of the group: groups are deployment configuration." },
  "PATCH /api/v2/groups/{group}": { expect: adminOnly(200) },
  "DELETE /api/v2/groups/{group}": { expect: adminOnly(204) },
  "POST /api/v2/groups/{group}/members": { expect: adminOnly(201) },
  "DELETE /api/v2/groups/{group}/members/{user}": { expect: adminOnly(204) },

  // Templates: everyone reads, admins write.
  "GET /api/v2/templates": { expect: anyUser(200) },
  "POST /api/v2/templates": { expect: adminOnly(201) },
  "GET /api/v2/templates/{template}": { expect: anyUser(200) },
  "PATCH /api/v2/templates/{template}": { expect: adminOnly(200) },
  "DELETE /api/v2/templates/{template}": { expect: adminOnly(204) },

  // Workspaces, builds, shares: the member's workspace.
  "GET /api/v2/workspaces": { expect: anyUser(200), note: "Each caller sees what they may read." },
  "POST /api/v2/workspaces": { expect: anyUser(201) },
  "GET /api/v2/workspaces/{workspace}": { expect: ownedObject(200) },
  "POST /api/v2/workspaces/{workspace}/builds": {
    expect: ownedObject(409),
    note: "A start of a started workspace: allowed callers get the state conflict, another member the 404.",
  },
  "GET /api/v2/workspaces/{workspace}/builds": { expect: ownedObject(200) },
  "GET /api/v2/workspacebuilds/{build}": { expect: ownedObject(200) },
  "GET /api/v2/workspaces/{workspace}/shares": { expect: ownedObject(200) },
  "PUT /api/v2/workspaces/{workspace}/shares/{user}": {
    expect: ownedObject(200),
    note: "A read share. A use share also needs ssh, so an admin gets 403 for it (workspaces-api.test.ts).",
  },
  "DELETE /api/v2/workspaces/{workspace}/shares/{user}": { expect: ownedObject(204) },

  // The caller's own git host token.
  "GET /api/v2/external-auth/{provider}": { expect: anyUser(200) },
  "PUT /api/v2/external-auth/{provider}": { expect: anyUser(204) },
  "DELETE /api/v2/external-auth/{provider}": { expect: anyUser(204) },

  // Providers and model configs (behavior.md: providers admin only, 403; model configs read by all).
  "GET /api/experimental/chats/providers": { expect: adminOnly(200) },
  "POST /api/experimental/chats/providers": { expect: adminOnly(201) },
  "PATCH /api/experimental/chats/providers/{id}": { expect: adminOnly(200) },
  "DELETE /api/experimental/chats/providers/{id}": { expect: adminOnly(204) },
  "POST /api/experimental/chats/providers/{id}/test": { expect: adminOnly(200) },
  "GET /api/experimental/chats/model-configs": { expect: anyUser(200), note: "Members see the enabled ones." },
  "POST /api/experimental/chats/model-configs": { expect: adminOnly(201) },
  "PATCH /api/experimental/chats/model-configs/{id}": { expect: adminOnly(200) },
  "DELETE /api/experimental/chats/model-configs/{id}": { expect: adminOnly(204) },
  "GET /api/experimental/chats/models": { expect: anyUser(200) },

  // MCP servers (behavior.md section 3): admins write; members read the enabled ones.
  "GET /api/experimental/mcp/servers": { expect: anyUser(200), note: "Members see the enabled ones, without secret-bearing fields." },
  "POST /api/experimental/mcp/servers": { expect: adminOnly(201) },
  "GET /api/experimental/mcp/servers/{id}": { expect: anyUser(200), note: "An enabled server; a disabled one is 404 to members." },
  "PATCH /api/experimental/mcp/servers/{id}": { expect: adminOnly(200) },
  "DELETE /api/experimental/mcp/servers/{id}": { expect: adminOnly(204) },
  "GET /api/experimental/mcp/servers/{id}/oauth2/connect": { expect: anyUser(200), note: "Each user connects their own account." },
  "GET /api/experimental/mcp/servers/{id}/oauth2/callback": {
    expect: anyUser(400),
    note: "Without the sealed state of this user's own connect, every caller is refused on its merits.",
  },
  "POST /api/experimental/mcp/servers/{id}/oauth2/disconnect": { expect: anyUser(204), note: "Forgets the caller's own token only." },

  // Chat settings.
  "GET /api/experimental/chats/config/system-prompt": { expect: anyUser(200) },
  "PUT /api/experimental/chats/config/system-prompt": { expect: statuses(401, 404, 404, 204, 204), note: "behavior.md: a non-admin gets 404." },
  "GET /api/experimental/chats/config/user-prompt": { expect: anyUser(200) },
  "PUT /api/experimental/chats/config/user-prompt": { expect: anyUser(200) },
  "GET /api/experimental/chats/config/workspace-ttl": { expect: anyUser(200) },
  "PUT /api/experimental/chats/config/workspace-ttl": { expect: adminOnly(204), note: "behavior.md: PUT admin (403)." },
  "GET /api/experimental/chats/config/desktop-enabled": { expect: anyUser(200) },
  "PUT /api/experimental/chats/config/desktop-enabled": { expect: adminOnly(204), note: "behavior.md: PUT admin (403)." },

  // Cost and usage limits.
  "GET /api/experimental/chats/cost/users": { expect: adminOnly(200), note: "behavior.md: needs read on chat site-wide (403)." },
  "GET /api/experimental/chats/insights/pull-requests": { expect: adminOnly(200), note: "behavior.md: needs read on deployment_config (403)." },
  "GET /api/experimental/chats/cost/{user}/summary": { expect: ownedObject(200), note: "behavior.md: members get 404 from the user lookup." },
  "GET /api/experimental/chats/usage-limits": { expect: adminOnly(200) },
  "PUT /api/experimental/chats/usage-limits": { expect: adminOnly(200) },
  "GET /api/experimental/chats/usage-limits/status": { expect: anyUser(200), note: "The caller's own status." },
  "PUT /api/experimental/chats/usage-limits/overrides/{user}": { expect: adminOnly(200) },
  "DELETE /api/experimental/chats/usage-limits/overrides/{user}": { expect: adminOnly(204) },
  "PUT /api/experimental/chats/usage-limits/group-overrides/{group}": { expect: adminOnly(200) },
  "DELETE /api/experimental/chats/usage-limits/group-overrides/{group}": { expect: adminOnly(204) },

  // Files: the member's upload.
  "POST /api/experimental/chats/files": { expect: anyUser(201) },
  "GET /api/experimental/chats/files/{file}": { expect: ownedObject(200) },

  // Chats: the member's chat (admins and owners manage every chat, behavior.md section 10).
  "POST /api/experimental/chats": { expect: anyUser(201) },
  "GET /api/experimental/chats": { expect: anyUser(200), note: "Own chats only, for every role." },
  "GET /api/experimental/chats/{chat}": { expect: ownedObject(200) },
  "PATCH /api/experimental/chats/{chat}": { expect: ownedObject(204) },
  "POST /api/experimental/chats/{chat}/interrupt": { expect: ownedObject(200) },
  "GET /api/experimental/chats/{chat}/diff": { expect: ownedObject(200), note: "The member's chat has no diff status: only its id." },
  "GET /api/experimental/chats/{chat}/messages": { expect: ownedObject(200) },
  "POST /api/experimental/chats/{chat}/messages": { expect: ownedObject(200) },
  "PATCH /api/experimental/chats/{chat}/messages/{message}": { expect: ownedObject(200) },
  "DELETE /api/experimental/chats/{chat}/queue/{id}": { expect: ownedObject(204) },
  "POST /api/experimental/chats/{chat}/queue/{id}/promote": { expect: ownedObject(200) },

  // Chat WebSockets, asked without an Upgrade: authorization first, then 400 for the missing upgrade.
  "GET /api/experimental/chats/watch": { expect: anyUser(400) },
  "GET /api/experimental/chats/{chat}/stream": { expect: ownedObject(400) },
  "GET /api/experimental/chats/{chat}/stream/git": { expect: ownedObject(400), note: "The member's chat has no workspace: 400 once it may be read." },
  "GET /api/experimental/chats/{chat}/stream/desktop": {
    expect: ownedObject(400),
    note: "The member's chat has no workspace: 400 once it may be read. With a workspace, a reader without application_connect or ssh on it (an admin) gets 403 (test/integration/desktop-stream.test.ts).",
  },

  // Agent and replica endpoints: their own credentials only.
  "GET /api/v2/workspaceagents/me/connect": { expect: everyone(401) },
  "GET /api/v2/workspaceagents/me/gitauth": { expect: everyone(401) },
  "GET /api/internal/relay/chats/{chat}/parts": { expect: everyone(401) },
  "POST /api/internal/agents/{agent}/rpc": { expect: everyone(401) },
  "GET /api/internal/agents/{agent}/git-watch": { expect: everyone(401) },
  "GET /api/internal/agents/{agent}/desktop-vnc": { expect: everyone(401) },
} as const satisfies Readonly<Record<RouteKey, RouteRule>>;

/** Handlers that are not routes of their own: the web UI's files, served to anyone. */
export const NOT_IN_MATRIX: readonly string[] = ["GET /*"];
