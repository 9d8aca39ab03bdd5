import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { apiKeys, users } from "../../src/db/schema/index.js";
import { queryRows } from "../../src/db/raw.js";
import { afterCommit, transaction } from "../../src/db/transaction.js";
import { useFreshDatabase } from "../helpers/database.js";

const database = useFreshDatabase();

describe("database", () => {
  it("reads every column type the same way on both backends", async () => {
    const [user] = await database.handle.db
      .insert(users)
      .values({ username: "types", email: "types@example.com", hashedPassword: "x" })
      .returning();
    expect(user).toBeDefined();
    if (!user) return;
    expect(user.createdAt).toBeInstanceOf(Date);
    expect(user.roles).toEqual(["member"]);
    const [key] = await database.handle.db
      .insert(apiKeys)
      .values({ id: "k1", userId: user.id, hashedSecret: Buffer.from([0, 1, 255]) })
      .returning();
    expect(Buffer.isBuffer(key?.hashedSecret)).toBe(true);
    expect([...(key?.hashedSecret ?? [])]).toEqual([0, 1, 255]);

    const rows = await queryRows(
      database.handle.db,
      sql`SELECT 9007199254740991::int8 AS big, count(*) AS n, 1.25::numeric AS dec, '{"a":[1]}'::jsonb AS doc, '\\x00ff'::bytea AS bin`,
    );
    expect(rows[0]).toEqual({ big: 9007199254740991, n: 1, dec: "1.25", doc: { a: [1] }, bin: Buffer.from([0, 255]) });
  });

  it("refuses an int8 that does not fit in a JavaScript number instead of rounding it", async () => {
    const failure: unknown = await database.handle.db.execute(sql`SELECT 9007199254740993::int8 AS big`).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(Error);
    const cause = failure instanceof Error ? failure.cause : undefined;
    expect(String(cause ?? failure)).toMatch(/does not fit/);
  });

  it("runs afterCommit callbacks after commit and drops them on rollback", async () => {
    const seen: string[] = [];
    await transaction(database.handle.db, async (tx) => {
      afterCommit(tx, () => seen.push("committed"));
      await tx.execute(sql`SELECT 1`);
      expect(seen).toEqual([]);
    });
    expect(seen).toEqual(["committed"]);
    await expect(
      transaction(database.handle.db, async (tx) => {
        afterCommit(tx, () => seen.push("rolled back"));
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect(seen).toEqual(["committed"]);
  });
});
