/**
 * The encryption-key canary: a known value sealed with the key at first start and kept in
 * `server_secrets`. Every start opens it, so a replica given another CHATD_ENCRYPTION_KEY refuses
 * to start with a clear message instead of running and failing chats later ("secret was sealed
 * with another encryption key").
 *
 * A database from before the canary existed may already hold sealed values: the first one found
 * is checked instead, and only a key that opens it writes the canary. Two replicas with different
 * keys starting together race on the INSERT; the loser reads the winner's canary back and refuses.
 */
import { eq, ne } from "drizzle-orm";
import type { Database } from "../db/client.js";
import { chatProviders, externalAuthLinks, serverSecrets } from "../db/schema/index.js";
import { StartupError } from "../util/startup-error.js";
import { sealedFingerprint, SecretDecryptionError, type SecretCipher } from "./cipher.js";

const CANARY_NAME = "encryption_key_canary";
const CANARY_PLAINTEXT = "chatd encryption key canary v1";

export class EncryptionKeyMismatchError extends StartupError {
  constructor(keyDescription: string, current: string, sealedWith: string | undefined) {
    super(
      `${keyDescription} is not the key this database's secrets were sealed with (this key's fingerprint is ${current}, ` +
        (sealedWith === undefined ? "the sealed canary is unreadable" : `theirs is ${sealedWith}`) +
        "); start with the original key (every replica needs the same CHATD_ENCRYPTION_KEY)",
    );
    this.name = "EncryptionKeyMismatchError";
  }
}

function opens(cipher: SecretCipher, sealed: string, expected?: string): boolean {
  try {
    const plaintext = cipher.open(sealed);
    return expected === undefined || plaintext === expected;
  } catch (error) {
    if (error instanceof SecretDecryptionError) return false;
    throw error;
  }
}

async function firstSealedValue(db: Database): Promise<string | undefined> {
  const [provider] = await db
    .select({ sealed: chatProviders.apiKeySealed })
    .from(chatProviders)
    .where(ne(chatProviders.apiKeySealed, ""))
    .limit(1);
  if (provider) return provider.sealed;
  const [link] = await db.select({ sealed: externalAuthLinks.sealedToken }).from(externalAuthLinks).limit(1);
  return link?.sealed;
}

async function readCanary(db: Database): Promise<string | undefined> {
  const [row] = await db.select({ value: serverSecrets.value }).from(serverSecrets).where(eq(serverSecrets.name, CANARY_NAME));
  return row?.value;
}

/**
 * Resolves when `cipher` holds the database's key (writing the canary on first start); throws
 * EncryptionKeyMismatchError otherwise. `keyDescription` names where the key came from.
 */
export async function verifyEncryptionKey(db: Database, cipher: SecretCipher, keyDescription: string): Promise<void> {
  const refuse = (sealed: string) => new EncryptionKeyMismatchError(keyDescription, cipher.fingerprint, sealedFingerprint(sealed));
  let canary = await readCanary(db);
  if (canary === undefined) {
    const existing = await firstSealedValue(db);
    if (existing !== undefined && !opens(cipher, existing)) throw refuse(existing);
    await db.insert(serverSecrets).values({ name: CANARY_NAME, value: cipher.seal(CANARY_PLAINTEXT) }).onConflictDoNothing();
    canary = await readCanary(db);
    if (canary === undefined) throw new Error("the encryption key canary vanished right after it was written");
  }
  if (!opens(cipher, canary, CANARY_PLAINTEXT)) throw refuse(canary);
}
