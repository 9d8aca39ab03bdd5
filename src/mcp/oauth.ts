/**
 * OAuth 2 for MCP servers whose credential is each user's own (authorization code + PKCE). The
 * flow's state travels sealed with the deployment's cipher, so it cannot be forged or read: it
 * names the server, the user, the PKCE verifier and an expiry. Tokens are stored sealed per
 * server and user; nothing here logs a token, a code or the client secret.
 */
import { createHash, randomBytes } from "node:crypto";
import { z } from "zod";
import type { SecretCipher } from "../secrets/cipher.js";
import type { McpServerRow } from "./row.js";

/** A started connect must be finished within this; older states are refused. */
export const OAUTH_STATE_TTL_MS = 10 * 60_000;
/** The token endpoint gets this long to answer before the callback fails. */
export const OAUTH_TOKEN_TIMEOUT_MS = 10_000;
/** Bytes of the PKCE verifier (RFC 7636 asks for 32 or more). */
const VERIFIER_BYTES = 32;

const stateSchema = z.object({ server: z.string(), user: z.string(), verifier: z.string(), expires: z.number() });
export type OAuthState = z.infer<typeof stateSchema>;

const tokenResponse = z.object({
  access_token: z.string().min(1),
  token_type: z.string().optional(),
  refresh_token: z.string().optional(),
  expires_in: z.number().positive().optional(),
});
export type OAuthTokens = { accessToken: string; tokenType: string; refreshToken: string; expiresAt: Date | null };

export function redirectUriFor(origin: string, serverId: string): string {
  return `${origin}/api/experimental/mcp/servers/${serverId}/oauth2/callback`;
}

/** The provider's authorize URL for this user, with a sealed state and a PKCE challenge. */
export function authorizeUrl(cipher: SecretCipher, row: McpServerRow, userId: string, redirectUri: string, now = Date.now()): string {
  const verifier = randomBytes(VERIFIER_BYTES).toString("base64url");
  const state: OAuthState = { server: row.id, user: userId, verifier, expires: now + OAUTH_STATE_TTL_MS };
  const url = new URL(row.oauthAuthorizeUrl ?? "");
  url.searchParams.set("response_type", "code");
  url.searchParams.set("client_id", row.oauthClientId ?? "");
  url.searchParams.set("redirect_uri", redirectUri);
  url.searchParams.set("state", cipher.seal(JSON.stringify(state)));
  url.searchParams.set("code_challenge", createHash("sha256").update(verifier).digest("base64url"));
  url.searchParams.set("code_challenge_method", "S256");
  if (row.oauthScopes) url.searchParams.set("scope", row.oauthScopes);
  return url.toString();
}

/** The state if it is ours, unexpired, and for this server and user; undefined otherwise. */
export function openState(cipher: SecretCipher, sealed: string, serverId: string, userId: string, now = Date.now()): OAuthState | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(cipher.open(sealed));
  } catch {
    return undefined;
  }
  const parsed = stateSchema.safeParse(raw);
  if (!parsed.success) return undefined;
  const state = parsed.data;
  if (state.server !== serverId || state.user !== userId || state.expires < now) return undefined;
  return state;
}

export class OAuthExchangeError extends Error {}

/** Trades the code for tokens at the server's token URL. */
export function exchangeCode(
  cipher: SecretCipher,
  row: McpServerRow,
  code: string,
  verifier: string,
  redirectUri: string,
  now = Date.now(),
): Promise<OAuthTokens> {
  return tokenRequest(cipher, row, { grant_type: "authorization_code", code, redirect_uri: redirectUri, code_verifier: verifier }, now);
}

/** New tokens for an expired access token; a provider that does not rotate keeps the old refresh token. */
export async function refreshTokens(cipher: SecretCipher, row: McpServerRow, refreshToken: string, now = Date.now()): Promise<OAuthTokens> {
  const tokens = await tokenRequest(cipher, row, { grant_type: "refresh_token", refresh_token: refreshToken }, now);
  return tokens.refreshToken === "" ? { ...tokens, refreshToken } : tokens;
}

async function tokenRequest(cipher: SecretCipher, row: McpServerRow, grant: Record<string, string>, now: number): Promise<OAuthTokens> {
  const form = new URLSearchParams({ ...grant, client_id: row.oauthClientId ?? "" });
  if (row.oauthClientSecretSealed !== "") form.set("client_secret", cipher.open(row.oauthClientSecretSealed));
  let response: Response;
  try {
    response = await fetch(row.oauthTokenUrl ?? "", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
      body: form,
      signal: AbortSignal.timeout(OAUTH_TOKEN_TIMEOUT_MS),
    });
  } catch {
    throw new OAuthExchangeError("The token endpoint could not be reached.");
  }
  // The body may echo the code or secret: only the status is reported.
  if (!response.ok) throw new OAuthExchangeError(`The token endpoint answered HTTP ${response.status}.`);
  const parsed = tokenResponse.safeParse(await response.json().catch(() => undefined));
  if (!parsed.success) throw new OAuthExchangeError("The token endpoint's answer has no access_token.");
  const tokens = parsed.data;
  return {
    accessToken: tokens.access_token,
    // RFC 6750 spells it "Bearer"; some providers answer "bearer".
    tokenType: tokens.token_type && tokens.token_type.toLowerCase() !== "bearer" ? tokens.token_type : "Bearer",
    refreshToken: tokens.refresh_token ?? "",
    expiresAt: tokens.expires_in === undefined ? null : new Date(now + tokens.expires_in * 1000),
  };
}

/** The columns a token row stores for `tokens`, sealed. */
export function tokenColumns(cipher: SecretCipher, tokens: OAuthTokens) {
  return {
    accessTokenSealed: cipher.seal(tokens.accessToken),
    refreshTokenSealed: tokens.refreshToken === "" ? "" : cipher.seal(tokens.refreshToken),
    tokenType: tokens.tokenType,
    expiresAt: tokens.expiresAt,
    updatedAt: new Date(),
  };
}
