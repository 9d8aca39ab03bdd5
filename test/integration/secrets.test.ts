import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DatabaseHandle } from "../../src/db/client.js";
import { generateKey, SecretCipher } from "../../src/secrets/cipher.js";
import { KEY_FILE_NAME, resolveEncryptionKey } from "../../src/secrets/key.js";
import { freshDatabase, type FreshDatabase } from "../helpers/database.js";

let fresh: FreshDatabase;
let handle: DatabaseHandle;

beforeAll(async () => {
  fresh = await freshDatabase();
  handle = await fresh.open();
});
afterAll(async () => {
  await handle.close();
  await fresh.destroy();
});

describe("encryption key", () => {
  it("is generated once on first start and the same key comes back after", async () => {
    const first = await resolveEncryptionKey(undefined, fresh.location.dataDir, handle);
    const second = await resolveEncryptionKey(undefined, fresh.location.dataDir, handle);
    expect(first.generated).toBe(true);
    expect(second.generated).toBe(false);
    expect(second.key.equals(first.key)).toBe(true);
    expect(first.source).toBe(handle.kind === "pglite" ? "file" : "database");
    // A value sealed before a restart opens after it.
    expect(new SecretCipher(second.key).open(new SecretCipher(first.key).seal("api key"))).toBe("api key");
    if (handle.kind === "pglite") {
      const stat = fs.statSync(path.join(fresh.location.dataDir, KEY_FILE_NAME));
      expect(stat.mode & 0o777).toBe(0o600);
    }
  });

  it("uses the configured key when there is one", async () => {
    const configured = generateKey();
    const resolved = await resolveEncryptionKey(configured, fresh.location.dataDir, handle);
    expect(resolved).toEqual({ key: configured, source: "config", generated: false });
  });
});
