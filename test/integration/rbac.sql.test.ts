/**
 * authorizedFilter against a real database (PGlite and PostgreSQL): listings page without short
 * pages, and the SQL verdict on every row equals `can` on that row.
 */
import { and, eq, inArray, sql, type SQL } from "drizzle-orm";
import { pgTable, primaryKey, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DatabaseHandle } from "../../src/db/client.js";
import { ACTIONS, can, CHATD_SUBJECT, RESOURCES, type Subject } from "../../src/rbac/policy.js";
import { authorizedFilter, type AuthorizedFilterOptions } from "../../src/rbac/sql.js";
import { freshDatabase, type FreshDatabase } from "../helpers/database.js";
import type { ShareRole } from "../../src/sdk/schemas/workspaces.js";

const things = pgTable("rbac_things", {
  id: uuid("id").primaryKey(),
  ownerId: uuid("owner_id").notNull(),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
});
const shares = pgTable(
  "rbac_shares",
  {
    thingId: uuid("thing_id").notNull(),
    userId: uuid("user_id").notNull(),
    role: text("role").notNull(),
  },
  (t) => [primaryKey({ columns: [t.thingId, t.userId] })],
);

const COLUMNS = { owner: things.ownerId, id: things.id };

const uuidOf = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, "0")}`;
const ALICE = uuidOf(0xa11ce);
const BOB = uuidOf(0xb0b);
const CAROL = uuidOf(0xca201);
const DAVE = uuidOf(0xda7e);

const alice: Subject = { kind: "user", id: ALICE, roles: ["member"] };
const bob: Subject = { kind: "user", id: BOB, roles: ["admin"] };
const carol: Subject = { kind: "user", id: CAROL, roles: ["member"] };
const dave: Subject = { kind: "user", id: DAVE, roles: ["owner"] };

/** Owners interleaved so that any one user's rows are scattered across every page. */
const OWNER_CYCLE = [CAROL, ALICE, CAROL, BOB, DAVE];
const ROWS = Array.from({ length: 40 }, (_, i) => ({ id: uuidOf(i + 1), ownerId: OWNER_CYCLE[i % 5] ?? CAROL }));

const SHARES: { thingId: string; userId: string; role: ShareRole }[] = [];
ROWS.forEach((row, i) => {
  if (row.ownerId === CAROL && i % 3 === 0) SHARES.push({ thingId: row.id, userId: ALICE, role: "read" });
  if (row.ownerId === CAROL && i % 3 === 1) SHARES.push({ thingId: row.id, userId: ALICE, role: "use" });
  if (row.ownerId === CAROL && i % 4 === 2) SHARES.push({ thingId: row.id, userId: BOB, role: "read" });
  if (row.ownerId === DAVE && i % 2 === 0) SHARES.push({ thingId: row.id, userId: BOB, role: "use" });
  if (row.ownerId === ALICE && i % 3 === 0) SHARES.push({ thingId: row.id, userId: BOB, role: "use" });
});

function shareOf(thingId: string, subject: Subject): ShareRole | undefined {
  if (subject.kind !== "user") return undefined;
  return SHARES.find((share) => share.thingId === thingId && share.userId === subject.id)?.role;
}

let fresh: FreshDatabase;
let handle: DatabaseHandle;

beforeAll(async () => {
  fresh = await freshDatabase();
  handle = await fresh.open();
  await handle.db.execute(sql`
    CREATE TABLE rbac_things (
      id uuid PRIMARY KEY,
      owner_id uuid NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    )`);
  await handle.db.execute(sql`
    CREATE TABLE rbac_shares (
      thing_id uuid NOT NULL REFERENCES rbac_things (id) ON DELETE CASCADE,
      user_id uuid NOT NULL,
      role text NOT NULL CHECK (role IN ('read', 'use')),
      PRIMARY KEY (thing_id, user_id)
    )`);
  await handle.db.insert(things).values(ROWS);
  await handle.db.insert(shares).values(SHARES);
});
afterAll(async () => {
  await handle.close();
  await fresh.destroy();
});

/** What a route would pass: the subject's shares with at least `role`, as a Drizzle subquery. */
function shareOptions(subject: Subject): AuthorizedFilterOptions {
  if (subject.kind !== "user") return {};
  return {
    sharedIds: (role) =>
      handle.db
        .select({ id: shares.thingId })
        .from(shares)
        .where(and(eq(shares.userId, subject.id), inArray(shares.role, role === "read" ? ["read", "use"] : ["use"])))
        .getSQL(),
  };
}

const PAGE = 5;

async function listPages(where: SQL): Promise<string[][]> {
  const pages: string[][] = [];
  for (let offset = 0; ; offset += PAGE) {
    const rows = await handle.db
      .select({ id: things.id })
      .from(things)
      .where(where)
      .orderBy(things.id)
      .limit(PAGE)
      .offset(offset);
    pages.push(rows.map((row) => row.id));
    if (rows.length < PAGE) return pages;
  }
}

function expectFullPages(pages: string[][], expected: string[]): void {
  expect(pages.flat()).toEqual(expected);
  pages.slice(0, -1).forEach((page) => expect(page).toHaveLength(PAGE));
  expect(pages.at(-1)?.length).toBeLessThan(PAGE);
}

/** Expected ids written from the data directly, not through the policy. */
function idsWhere(keep: (row: (typeof ROWS)[number]) => boolean): string[] {
  return ROWS.filter(keep)
    .map((row) => row.id)
    .sort();
}

describe("authorizedFilter listings", () => {
  const workspaceFilter = (subject: Subject, action: "read" | "ssh") =>
    authorizedFilter(subject, action, "workspace", COLUMNS, shareOptions(subject));

  it("would give short pages if rows were dropped after LIMIT (so the data tests something)", async () => {
    const firstPage = await handle.db.select().from(things).orderBy(things.id).limit(PAGE);
    const visible = firstPage.filter((row) => row.ownerId === ALICE || shareOf(row.id, alice) !== undefined);
    expect(visible.length).toBeGreaterThan(0);
    expect(visible.length).toBeLessThan(PAGE);
  });

  it("lists a member's own and shared workspaces in full pages", async () => {
    const expected = idsWhere((row) => row.ownerId === ALICE || shareOf(row.id, alice) !== undefined);
    expect(expected.length).toBeGreaterThan(2 * PAGE);
    expectFullPages(await listPages(workspaceFilter(alice, "read")), expected);
  });

  it("lists every workspace for an admin's read", async () => {
    expectFullPages(await listPages(workspaceFilter(bob, "read")), idsWhere(() => true));
  });

  it("lists only own and use-shared workspaces for an admin's ssh", async () => {
    const expected = idsWhere((row) => row.ownerId === BOB || shareOf(row.id, bob) === "use");
    // Bob holds read shares too; they must not count for ssh.
    expect(SHARES.some((share) => share.userId === BOB && share.role === "read")).toBe(true);
    expect(expected.length).toBeGreaterThan(PAGE);
    expectFullPages(await listPages(workspaceFilter(bob, "ssh")), expected);
  });

  it("lists a member's own and use-shared workspaces for ssh", async () => {
    const expected = idsWhere((row) => row.ownerId === ALICE || shareOf(row.id, alice) === "use");
    expectFullPages(await listPages(workspaceFilter(alice, "ssh")), expected);
  });

  it("ignores shares outside workspaces: a member's chats are their own only", async () => {
    const filter = authorizedFilter(alice, "read", "chat", COLUMNS, shareOptions(alice));
    expectFullPages(await listPages(filter), idsWhere((row) => row.ownerId === ALICE));
  });
});

describe("authorizedFilter agrees with can", () => {
  const subjects: [string, Subject][] = [
    ["member alice", alice],
    ["admin bob", bob],
    ["member carol", carol],
    ["owner dave", dave],
    ["system chatd", CHATD_SUBJECT],
  ];

  it.each(subjects)("on every row, resource and action for %s", async (_name, subject) => {
    let checked = 0;
    for (const resource of RESOURCES) {
      for (const action of ACTIONS) {
        const filter = authorizedFilter(subject, action, resource, COLUMNS, shareOptions(subject));
        const rows = await handle.db
          .select({ id: things.id, ownerId: things.ownerId, allowed: sql<boolean>`${filter}` })
          .from(things)
          .orderBy(things.id);
        expect(rows).toHaveLength(ROWS.length);
        for (const row of rows) {
          const shareRole = shareOf(row.id, subject);
          const expected = can(subject, action, { type: resource, ownerId: row.ownerId, shareRole });
          expect({ resource, action, id: row.id, allowed: row.allowed }).toEqual({
            resource,
            action,
            id: row.id,
            allowed: expected,
          });
          checked++;
        }
      }
    }
    expect(checked).toBe(RESOURCES.length * ACTIONS.length * ROWS.length);
  });
});
