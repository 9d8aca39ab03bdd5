/**
 * Last-line defence against secrets in log output: rewrites substrings shaped like provider API
 * keys, bearer credentials or chatd tokens. Patterns err on the side of over-redacting.
 */

const SECRET_PATTERNS: readonly RegExp[] = [
  // OpenAI, Anthropic and similar: sk-..., sk-ant-..., sk-proj-...
  /\bsk-[A-Za-z0-9_-]{16,}/g,
  // Google API keys.
  /\bAIza[0-9A-Za-z_-]{30,}/g,
  // GitHub tokens.
  /\b(?:ghp|gho|ghu|ghs|ghr|github_pat)_[A-Za-z0-9_]{20,}/g,
  // Any "Bearer <credential>" that made it into text.
  /\b[Bb]earer\s+[A-Za-z0-9._~+/=-]{8,}/g,
  // chatd session and API tokens: <10-char id>-<22-char secret>.
  /\b[a-z0-9]{10}-[A-Za-z0-9]{22}\b/g,
];

export const REDACTED = "[REDACTED]";

export function scrubSecrets(text: string): string {
  let result = text;
  for (const pattern of SECRET_PATTERNS) result = result.replace(pattern, REDACTED);
  return result;
}
