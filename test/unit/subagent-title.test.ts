/** spawn_agent's child titles (behavior.md section 6): given, or 6 words + "...", ≤ 80 runes. */
import { describe, expect, it } from "vitest";
import { childTitle } from "../../src/chatd/tools/subagents/index.js";

describe("childTitle", () => {
  it("uses the first six words of the prompt, with ... only when cut", () => {
    expect(childTitle("one two three four five six seven", undefined)).toBe("one two three four five six...");
    expect(childTitle("  one\ttwo\nthree ", undefined)).toBe("one two three");
    expect(childTitle("one two three four five six", undefined)).toBe("one two three four five six");
  });

  it("prefers a given title, ignoring a blank one", () => {
    expect(childTitle("the prompt", "  Helper  ")).toBe("Helper");
    expect(childTitle("the prompt", "   ")).toBe("the prompt");
  });

  it("caps titles at 80 runes without splitting a character", () => {
    const emoji = "😀".repeat(100);
    expect(Array.from(childTitle(emoji, undefined))).toHaveLength(80);
    expect(Array.from(childTitle("x", "y".repeat(200)))).toHaveLength(80);
  });
});
