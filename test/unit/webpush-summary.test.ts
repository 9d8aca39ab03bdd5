/** The pure parts of the push body (src/webpush/summary.ts) and of subscription validation. */
import { createECDH } from "node:crypto";
import { describe, expect, it } from "vitest";
import { BODY_MAX_RUNES, cleanSummary, errorBody, ERROR_FALLBACK_BODY, firstLine, lastAssistantText, SUMMARY_MAX_RUNES } from "../../src/webpush/summary.js";
import { pushEndpointSchema, p256dhKeySchema } from "../../src/webpush/encoding.js";

describe("push bodies", () => {
  it("cleans a summary: one line, unquoted, at most SUMMARY_MAX_RUNES", () => {
    expect(cleanSummary('  "Fixed the\n login test."  ')).toBe("Fixed the login test.");
    const long = cleanSummary("word ".repeat(60));
    expect(Array.from(long)).toHaveLength(SUMMARY_MAX_RUNES);
    expect(long.endsWith("…")).toBe(true);
    expect(cleanSummary("   ")).toBe("");
  });

  it("takes the first non-empty line of an answer, and the error or its fallback", () => {
    expect(firstLine("\n\n  Done it.  \nMore.")).toBe("Done it.");
    expect(errorBody(null)).toBe(ERROR_FALLBACK_BODY);
    expect(errorBody("  ")).toBe(ERROR_FALLBACK_BODY);
    expect(Array.from(errorBody("e".repeat(1000)))).toHaveLength(BODY_MAX_RUNES);
  });

  it("reads the last assistant message's text only", () => {
    const history = [
      { role: "assistant" as const, parts: [{ type: "text" as const, text: "earlier" }] },
      { role: "tool" as const, parts: [] },
      { role: "assistant" as const, parts: [{ type: "reasoning" as const, text: "thinking" }] },
    ];
    expect(lastAssistantText(history)).toBe("");
    expect(lastAssistantText(history.slice(0, 1))).toBe("earlier");
  });
});

describe("subscription validation", () => {
  it("accepts https anywhere and http only on loopback", () => {
    for (const ok of ["https://fcm.googleapis.com/fcm/send/abc", "http://127.0.0.1:8080/push/x", "http://localhost/x", "http://[::1]:9/x"]) {
      expect(pushEndpointSchema.safeParse(ok).success, ok).toBe(true);
    }
    for (const bad of ["http://push.example.com/x", "http://10.0.0.1/x", "ws://127.0.0.1/x", "push/x", "https://u:p@push.example.com/"]) {
      expect(pushEndpointSchema.safeParse(bad).success, bad).toBe(false);
    }
  });

  it("accepts only a P-256 point as p256dh", () => {
    const ecdh = createECDH("prime256v1");
    ecdh.generateKeys();
    expect(p256dhKeySchema.safeParse(ecdh.getPublicKey().toString("base64url")).success).toBe(true);
    expect(p256dhKeySchema.safeParse(ecdh.getPublicKey(undefined, "compressed").toString("base64url")).success).toBe(false);
  });
});
