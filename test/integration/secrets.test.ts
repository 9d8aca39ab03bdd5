import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { generateKey, SecretCipher } from "../../src/secrets/cipher.js";
import { KEY_FILE_NAME, resolveEncryptionKey } from "../../src/secrets/key.js";
import { EncryptionKeyMismatchError, verifyEncryptionKey } from "../../src/secrets/canary.js";
import { chatProviders, serverSecrets } from "../../src/db/schema/index.js";
import { useFreshDatabase } from "../helpers/database.js";

const database = useFreshDatabase();

describe("encryption key", () => {
  it("is generated once on first start and the same key comes back after", async () => {
    const first = await resolveEncryptionKey(undefined, database.fresh.location.dataDir, database.handle);
    const second = await resolveEncryptionKey(undefined, database.fresh.location.dataDir, database.handle);
    expect(first.generated).toBe(true);
    expect(second.generated).toBe(false);
    expect(second.key.equals(first.key)).toBe(true);
    expect(first.source).toBe(database.handle.kind === "pglite" ? "file" : "database");
    // A value sealed before a restart opens after it.
    expect(new SecretCipher(second.key).open(new SecretCipher(first.key).seal("api key"))).toBe("api key");
    if (database.handle.kind === "pglite") {
      const stat = fs.statSync(path.join(database.fresh.location.dataDir, KEY_FILE_NAME));
      expect(stat.mode & 0o777).toBe(0o600);
    }
  });

  it("uses the configured key when there is one", async () => {
    const configured = generateKey();
    const resolved = await resolveEncryptionKey(configured, database.fresh.location.dataDir, database.handle);
    expect(resolved).toEqual({ key: configured, source: "config", generated: false });
  });
});

describe("encryption key canary", () => {
  const KEY = "CHATD_ENCRYPTION_KEY";

  it("is written at first start, accepted with the same key, and refuses another key", async () => {
    const db = database.handle.db;
    await db.delete(serverSecrets);
    const original = new SecretCipher(generateKey());
    await verifyEncryptionKey(db, original, KEY);
    const rows = await db.select().from(serverSecrets);
    expect(rows.map((row) => row.name)).toContain("encryption_key_canary");
    // The canary is sealed, not stored in the clear.
    expect(JSON.stringify(rows)).not.toContain("canary v1");
    await verifyEncryptionKey(db, new SecretCipher(generateKey()), KEY).then(
      () => expect.unreachable("another key must be refused"),
      (error: unknown) => {
        expect(error).toBeInstanceOf(EncryptionKeyMismatchError);
        expect(String(error)).toContain(`theirs is ${original.fingerprint}`);
      },
    );
    await expect(verifyEncryptionKey(db, original, KEY)).resolves.toBeUndefined();
  });

  it("checks a database sealed before the canary existed by its sealed values, and writes no canary for a wrong key", async () => {
    const db = database.handle.db;
    await db.delete(serverSecrets);
    const original = new SecretCipher(generateKey());
    await db.insert(chatProviders).values({ provider: "openai", apiKeySealed: original.seal("sk-test") });
    try {
      await expect(verifyEncryptionKey(db, new SecretCipher(generateKey()), KEY)).rejects.toThrow(EncryptionKeyMismatchError);
      expect(await db.select().from(serverSecrets)).toEqual([]);
      await verifyEncryptionKey(db, original, KEY);
      expect((await db.select().from(serverSecrets)).map((row) => row.name)).toEqual(["encryption_key_canary"]);
    } finally {
      await db.delete(chatProviders);
    }
  });
});
