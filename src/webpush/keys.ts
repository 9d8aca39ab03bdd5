/**
 * The deployment's VAPID key pair (RFC 8292): generated once, kept sealed in `server_secrets`,
 * and read back by every replica, so each one signs pushes with the key browsers subscribed to.
 *
 * Invariants:
 * - The pair is generated at most once per database: every replica offers a fresh candidate with
 *   INSERT … ON CONFLICT DO NOTHING and then reads the stored row back, so the first INSERT wins
 *   and all replicas (and every later start) end up with the winner.
 * - The private key is only ever stored sealed with the deployment's SecretCipher; a sealed value
 *   that does not open or parse is an error (not silently replaced: that would invalidate every
 *   browser's subscription without anyone noticing).
 */
import { eq } from "drizzle-orm";
import webpush from "web-push";
import { z } from "zod";
import type { Database } from "../db/client.js";
import { serverSecrets } from "../db/schema/index.js";
import type { SecretCipher } from "../secrets/cipher.js";
import { P256_PUBLIC_KEY_BYTES, base64UrlBytes } from "./encoding.js";

/** `server_secrets` row holding the sealed pair. */
export const VAPID_SECRET_NAME = "webpush_vapid_keys";

/** A VAPID private key is a raw P-256 scalar. */
const P256_PRIVATE_KEY_BYTES = 32;

/** The stored (sealed) form; base64url as web-push produces and consumes them. */
const vapidKeysSchema = z.object({
  public_key: base64UrlBytes(P256_PUBLIC_KEY_BYTES),
  private_key: base64UrlBytes(P256_PRIVATE_KEY_BYTES),
});

export interface VapidKeys {
  /** base64url of the uncompressed P-256 point: what browsers pass as applicationServerKey. */
  publicKey: string;
  privateKey: string;
}

async function readSealed(db: Database): Promise<string | undefined> {
  const [row] = await db.select({ value: serverSecrets.value }).from(serverSecrets).where(eq(serverSecrets.name, VAPID_SECRET_NAME));
  return row?.value;
}

/** The deployment's pair, generated and stored on first call; `generated` says this call made it. */
export async function loadVapidKeys(db: Database, cipher: SecretCipher): Promise<{ keys: VapidKeys; generated: boolean }> {
  let sealed = await readSealed(db);
  let generated = false;
  if (sealed === undefined) {
    const candidate = webpush.generateVAPIDKeys();
    const value = cipher.seal(JSON.stringify({ public_key: candidate.publicKey, private_key: candidate.privateKey }));
    const inserted = await db
      .insert(serverSecrets)
      .values({ name: VAPID_SECRET_NAME, value })
      .onConflictDoNothing()
      .returning({ name: serverSecrets.name });
    generated = inserted.length > 0;
    sealed = await readSealed(db);
    if (sealed === undefined) throw new Error("the VAPID keys vanished right after they were written");
  }
  const parsed = vapidKeysSchema.safeParse(JSON.parse(cipher.open(sealed)));
  if (!parsed.success) throw new Error(`the stored VAPID keys are malformed: ${parsed.error.issues.map((issue) => issue.message).join("; ")}`);
  return { keys: { publicKey: parsed.data.public_key, privateKey: parsed.data.private_key }, generated };
}
