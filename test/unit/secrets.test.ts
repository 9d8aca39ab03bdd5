import { describe, expect, it } from "vitest";
import { generateKey, SecretCipher, SecretDecryptionError } from "../../src/secrets/cipher.js";
import { REDACTED, scrubSecrets } from "../../src/observability/scrub.js";

describe("secret cipher", () => {
  it("round-trips, uses a fresh IV each time, and never contains the plaintext", () => {
    const cipher = new SecretCipher(generateKey());
    const plaintext = "sk-ant-api03-very-secret-value";
    const a = cipher.seal(plaintext);
    const b = cipher.seal(plaintext);
    expect(a).not.toBe(b);
    expect(a).not.toContain(plaintext);
    expect(a.startsWith(`v1:${cipher.fingerprint}:`)).toBe(true);
    expect(cipher.open(a)).toBe(plaintext);
    expect(cipher.open(cipher.seal(""))).toBe("");
  });

  it("refuses another key's value, a tampered value and garbage, with clear errors", () => {
    const cipher = new SecretCipher(generateKey());
    const other = new SecretCipher(generateKey());
    const sealed = cipher.seal("value");
    expect(() => other.open(sealed)).toThrow(/another encryption key/);
    const raw = Buffer.from(sealed.split(":")[2] ?? "", "base64");
    raw[raw.length - 1] = (raw[raw.length - 1] ?? 0) ^ 1;
    expect(() => cipher.open(`v1:${cipher.fingerprint}:${raw.toString("base64")}`)).toThrow(SecretDecryptionError);
    expect(() => cipher.open("plaintext")).toThrow(/not a sealed secret/);
    // A value moved to another fingerprint fails authentication (the fingerprint is bound in).
    expect(() => new SecretCipher(Buffer.alloc(31))).toThrow(/32 bytes/);
  });
});

describe("log scrubbing", () => {
  it.each([
    ["an OpenAI key", "key sk-proj-abcdefghijklmnopqrstuvwx end"],
    ["an Anthropic key", "sk-ant-api03-AAAAAAAAAAAAAAAAAAAAAAAA"],
    ["a Google key", "AIzaSyA1234567890abcdefghijklmnopqrstu"],
    ["a GitHub token", "ghp_abcdefghijklmnopqrstuvwxyz0123456789"],
    ["a bearer header", "Authorization: Bearer abc.def.ghi-123"],
    ["a chatd token", "token k01kvy85f8-TpsxJ5zexB7wfbFiJAaDgk leaked"],
  ])("removes %s", (_name, text) => {
    const scrubbed = scrubSecrets(text);
    expect(scrubbed).toContain(REDACTED);
    expect(scrubbed).not.toMatch(/sk-|AIza|ghp_|abc\.def|TpsxJ5/);
  });

  it("leaves ordinary text alone", () => {
    const line = '{"msg":"request","path":"/api/v2/users/me","status":200}';
    expect(scrubSecrets(line)).toBe(line);
  });
});
