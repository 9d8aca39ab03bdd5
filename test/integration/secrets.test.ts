import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { generateKey, SecretCipher } from "../../src/secrets/cipher.js";
import { KEY_FILE_NAME, resolveEncryptionKey } from "../../src/secrets/key.js";
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
