/**
 * AES-256-GCM sealing. Format: `v1:<key fingerprint>:<base64(iv | tag | ciphertext)>`.
 * A fresh 12-byte IV per value (GCM's recommended size); the 16-byte tag authenticates both the
 * ciphertext and the fingerprint (as additional data), so a value cannot be moved between keys.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";

const ALGORITHM = "aes-256-gcm";
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const FORMAT_VERSION = "v1";

export class SecretDecryptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SecretDecryptionError";
  }
}

/** The fingerprint a sealed value names (not secret), or undefined when it is not one. */
export function sealedFingerprint(sealed: string): string | undefined {
  const [version, fingerprint] = sealed.split(":");
  return version === FORMAT_VERSION && fingerprint !== undefined && fingerprint !== "" ? fingerprint : undefined;
}

export class SecretCipher {
  readonly fingerprint: string;
  readonly #key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== KEY_BYTES) throw new Error(`encryption key must be ${KEY_BYTES} bytes, got ${key.length}`);
    this.#key = Buffer.from(key);
    // Not secret: identifies the key without revealing it (8 bytes of its SHA-256).
    this.fingerprint = createHash("sha256").update(key).digest("hex").slice(0, 16);
  }

  seal(plaintext: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, this.#key, iv);
    cipher.setAAD(Buffer.from(this.fingerprint));
    const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    const sealed = Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64");
    return `${FORMAT_VERSION}:${this.fingerprint}:${sealed}`;
  }

  open(sealed: string): string {
    const [version, fingerprint, data] = sealed.split(":");
    if (version !== FORMAT_VERSION || fingerprint === undefined || data === undefined) {
      throw new SecretDecryptionError("not a sealed secret");
    }
    if (fingerprint !== this.fingerprint) {
      throw new SecretDecryptionError(
        `secret was sealed with another encryption key (fingerprint ${fingerprint}, current ${this.fingerprint})`,
      );
    }
    const raw = Buffer.from(data, "base64");
    if (raw.length < IV_BYTES + TAG_BYTES) throw new SecretDecryptionError("sealed secret is truncated");
    const decipher = createDecipheriv(ALGORITHM, this.#key, raw.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(fingerprint));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString("utf8");
    } catch {
      throw new SecretDecryptionError("sealed secret failed authentication (corrupted or tampered)");
    }
  }
}

export function generateKey(): Buffer {
  return randomBytes(KEY_BYTES);
}
