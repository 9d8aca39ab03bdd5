import { describe, expect, it } from "vitest";
import { hashPassword, verifyPassword } from "../../src/auth/password.js";
import { LoginThrottle, type ThrottlePolicy } from "../../src/auth/throttle.js";
import { hashSecret, newToken, parseToken, secretMatches } from "../../src/auth/token.js";

describe("passwords", () => {
  it("verifies the right password and rejects others; hashes are salted", async () => {
    const hash = await hashPassword("correct horse");
    expect(hash).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(await verifyPassword("correct horse", hash)).toBe(true);
    expect(await verifyPassword("correct horsE", hash)).toBe(false);
    expect(await hashPassword("correct horse")).not.toBe(hash);
  });

  it("rejects malformed stored hashes instead of throwing", async () => {
    expect(await verifyPassword("x", "")).toBe(false);
    expect(await verifyPassword("x", "bcrypt$whatever")).toBe(false);
  });
});

describe("tokens", () => {
  it("are <id>-<secret>, parse back, and match only their own hash", () => {
    const token = newToken();
    expect(token.token).toMatch(/^[a-z0-9]{10}-[A-Za-z0-9]{22}$/);
    const parsed = parseToken(token.token);
    expect(parsed?.id).toBe(token.id);
    expect(secretMatches(parsed?.secret ?? "", token.hashedSecret)).toBe(true);
    expect(secretMatches("A".repeat(22), token.hashedSecret)).toBe(false);
    expect(hashSecret("a").length).toBe(32);
  });

  it.each(["", "abc", "ABCDEFGHIJ-aaaaaaaaaaaaaaaaaaaaaa", "abcdefghij-short", "abcdefghij-aaaaaaaaaaaaaaaaaaaaaa-extra"])(
    "rejects %j",
    (text) => {
      expect(parseToken(text)).toBeUndefined();
    },
  );
});

describe("login throttle", () => {
  const policy: ThrottlePolicy = { freeFailures: 3, baseDelayMs: 1_000, maxDelayMs: 8_000, forgetAfterMs: 60_000 };

  function clock() {
    let now = 1_000_000;
    return { now: () => now, advance: (ms: number) => (now += ms) };
  }

  it("allows the free failures, then doubles the wait up to the cap", () => {
    const time = clock();
    const throttle = new LoginThrottle(policy, time.now);
    for (let i = 0; i < 3; i++) {
      expect(throttle.retryAfterMs("alice")).toBe(0);
      throttle.recordFailure("alice");
    }
    expect(throttle.retryAfterMs("alice")).toBe(1_000);
    time.advance(1_000);
    expect(throttle.retryAfterMs("alice")).toBe(0);
    const waits: number[] = [];
    for (let i = 0; i < 5; i++) {
      throttle.recordFailure("alice");
      waits.push(throttle.retryAfterMs("alice"));
    }
    expect(waits).toEqual([2_000, 4_000, 8_000, 8_000, 8_000]);
    expect(throttle.retryAfterMs("bob")).toBe(0);
  });

  it("forgets after a quiet window and on clear", () => {
    const time = clock();
    const throttle = new LoginThrottle(policy, time.now);
    for (let i = 0; i < 4; i++) throttle.recordFailure("carol");
    expect(throttle.retryAfterMs("carol")).toBeGreaterThan(0);
    time.advance(60_001);
    expect(throttle.retryAfterMs("carol")).toBe(0);
    for (let i = 0; i < 4; i++) throttle.recordFailure("dave");
    throttle.clear("dave");
    expect(throttle.retryAfterMs("dave")).toBe(0);
  });
});
