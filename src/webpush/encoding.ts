/**
 * The encodings a push subscription uses (RFC 8291 section 3.2, the Push API's PushSubscription):
 * keys are unpadded base64url, the browser's ECDH key an uncompressed P-256 point, the auth
 * secret 16 bytes. Pure zod helpers shared by the key store and the subscription routes.
 */
import { ECDH } from "node:crypto";
import { z } from "zod";

/** An uncompressed P-256 point: 0x04, then X and Y (32 bytes each). */
export const P256_PUBLIC_KEY_BYTES = 65;
/** RFC 8291: the authentication secret is 16 octets. */
export const AUTH_SECRET_BYTES = 16;

/** Unpadded base64url (a browser's `toJSON()`); padding is tolerated, other alphabets are not. */
const BASE64URL = /^[A-Za-z0-9_-]+={0,2}$/;

/** A base64url string that decodes to exactly `bytes` bytes. */
export function base64UrlBytes(bytes: number) {
  return z
    .string()
    .regex(BASE64URL, "Must be base64url.")
    .refine((value) => Buffer.from(value, "base64url").length === bytes, `Must decode to ${bytes} bytes.`);
}

/** Whether `bytes` is a point on P-256 (a key web-push can run ECDH with; anything else throws there). */
function isP256Point(bytes: Buffer): boolean {
  try {
    ECDH.convertKey(bytes, "prime256v1");
    return true;
  } catch {
    return false;
  }
}

/** A browser's `keys.p256dh`: base64url of an uncompressed point on P-256. */
export const p256dhKeySchema = base64UrlBytes(P256_PUBLIC_KEY_BYTES).refine(
  (value) => isP256Point(Buffer.from(value, "base64url")),
  "Must be an uncompressed P-256 public key.",
);

/** A browser's `keys.auth`. */
export const authSecretSchema = base64UrlBytes(AUTH_SECRET_BYTES);

/** Push service URLs are short (FCM's and Mozilla's are ~200 characters); this bounds a row. */
export const MAX_ENDPOINT_LENGTH = 2048;

/** Loopback hosts: an http endpoint there never leaves this machine (URL.hostname keeps IPv6 brackets). */
function isLoopbackHost(hostname: string): boolean {
  return hostname === "localhost" || hostname === "[::1]" || /^127(?:\.\d{1,3}){3}$/.test(hostname);
}

/**
 * A push endpoint: an absolute https URL. Plain http is accepted only on loopback, where the
 * request cannot cross a network (a push service running beside the server, as the tests run
 * one; real push services are all https). No credentials in the URL: they would be sent along.
 */
export const pushEndpointSchema = z
  .string()
  .max(MAX_ENDPOINT_LENGTH)
  .refine((value) => {
    if (!URL.canParse(value)) return false;
    const url = new URL(value);
    if (url.username !== "" || url.password !== "") return false;
    return url.protocol === "https:" || (url.protocol === "http:" && isLoopbackHost(url.hostname));
  }, "Must be an absolute https URL (http only on loopback), without credentials.");

/** What a subscription's endpoint may be logged as: its origin, never the path (the path is the capability). */
export function endpointOrigin(endpoint: string): string {
  return URL.canParse(endpoint) ? new URL(endpoint).origin : "(invalid endpoint)";
}
