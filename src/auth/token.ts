/**
 * Session and API tokens: `<id>-<secret>`. The id (10 lowercase alphanumerics) is the row's
 * primary key and may appear in logs and URLs; the secret (22 alphanumerics, about 131 bits) is
 * only ever stored hashed.
 */
import { createHash, randomInt, timingSafeEqual } from "node:crypto";

const ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";
const SECRET_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
export const TOKEN_ID_LENGTH = 10;
export const TOKEN_SECRET_LENGTH = 22;
const TOKEN_PATTERN = /^([a-z0-9]{10})-([A-Za-z0-9]{22})$/;

function randomString(alphabet: string, length: number): string {
  let out = "";
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

export interface NewToken {
  id: string;
  /** The full `<id>-<secret>` string; shown to the user once. */
  token: string;
  hashedSecret: Buffer;
}

export function hashSecret(secret: string): Buffer {
  return createHash("sha256").update(secret).digest();
}

export function newToken(): NewToken {
  const id = randomString(ID_ALPHABET, TOKEN_ID_LENGTH);
  const secret = randomString(SECRET_ALPHABET, TOKEN_SECRET_LENGTH);
  return { id, token: `${id}-${secret}`, hashedSecret: hashSecret(secret) };
}

export function parseToken(token: string): { id: string; secret: string } | undefined {
  const match = TOKEN_PATTERN.exec(token.trim());
  if (!match?.[1] || !match[2]) return undefined;
  return { id: match[1], secret: match[2] };
}

export function secretMatches(secret: string, hashed: Buffer): boolean {
  const candidate = hashSecret(secret);
  return candidate.length === hashed.length && timingSafeEqual(candidate, hashed);
}
