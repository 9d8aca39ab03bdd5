import { describe, expect, it } from "vitest";
import type { ModelMessage } from "ai";
import { KEPT_SCREENSHOTS, OMITTED_SCREENSHOT_TEXT, SCREENSHOT_REMOVAL_CHUNK, omitOldScreenshots } from "../../src/chatd/prompt/screenshots.js";
import { assemblePrompt, type PromptMessageRow } from "../../src/chatd/prompt/assemble.js";

/** A conversation of `count` computer steps, each answered with screenshot number i. */
function steps(count: number): ModelMessage[] {
  const messages: ModelMessage[] = [{ role: "user", content: [{ type: "image", image: "dXNlcg==", mediaType: "image/png" }] }];
  for (let i = 0; i < count; i++) {
    messages.push({ role: "assistant", content: [{ type: "tool-call", toolCallId: `c${i}`, toolName: "computer", input: { action: "screenshot" } }] });
    messages.push({
      role: "tool",
      content: [{ type: "tool-result", toolCallId: `c${i}`, toolName: "computer", output: { type: "content", value: [{ type: "image-data", data: `shot${i}`, mediaType: "image/png" }] } }],
    });
  }
  return messages;
}

/** Which screenshots are still images, in order. */
function keptShots(messages: readonly ModelMessage[]): string[] {
  return messages.flatMap((message) =>
    message.role === "tool"
      ? message.content.flatMap((part) =>
          part.type === "tool-result" && part.output.type === "content" ? part.output.value.flatMap((item) => (item.type === "image-data" ? [String(item.data)] : [])) : [],
        )
      : [],
  );
}

describe("omitOldScreenshots", () => {
  it("keeps everything until the excess reaches a whole chunk", () => {
    const count = KEPT_SCREENSHOTS + SCREENSHOT_REMOVAL_CHUNK - 1;
    expect(keptShots(omitOldScreenshots(steps(count)))).toHaveLength(count);
  });

  it("drops the oldest chunk, and the prefix stays the same until the next chunk", () => {
    const atChunk = omitOldScreenshots(steps(KEPT_SCREENSHOTS + SCREENSHOT_REMOVAL_CHUNK));
    expect(keptShots(atChunk)).toEqual(Array.from({ length: KEPT_SCREENSHOTS }, (_, i) => `shot${SCREENSHOT_REMOVAL_CHUNK + i}`));
    const later = omitOldScreenshots(steps(KEPT_SCREENSHOTS + SCREENSHOT_REMOVAL_CHUNK + 5));
    // Five steps later the same ten are gone and nothing else: the cached prefix is unchanged.
    expect(later.slice(0, atChunk.length)).toEqual(atChunk);
    expect(keptShots(later)).toHaveLength(KEPT_SCREENSHOTS + 5);
  });

  it("replaces an image by a text and leaves the user's own image alone", () => {
    const out = omitOldScreenshots(steps(KEPT_SCREENSHOTS + SCREENSHOT_REMOVAL_CHUNK));
    expect(out[0]).toEqual(steps(1)[0]);
    const firstResult = out[2];
    expect(firstResult?.role === "tool" && firstResult.content[0]?.type === "tool-result" ? firstResult.content[0].output : undefined).toEqual({
      type: "content",
      value: [{ type: "text", text: OMITTED_SCREENSHOT_TEXT }],
    });
  });

  it("does not modify its input", () => {
    const input = steps(KEPT_SCREENSHOTS + SCREENSHOT_REMOVAL_CHUNK);
    const copy = structuredClone(input);
    omitOldScreenshots(input);
    expect(input).toEqual(copy);
  });

  it("applies in prompt assembly only when asked (computer-use chats)", () => {
    let id = 0;
    const rows: PromptMessageRow[] = [{ id: ++id, role: "user", visibility: "both", compressed: false, deleted: false, parts: [{ type: "text", text: "go" }] }];
    for (let i = 0; i < KEPT_SCREENSHOTS + SCREENSHOT_REMOVAL_CHUNK; i++) {
      rows.push({ id: ++id, role: "assistant", visibility: "both", compressed: false, deleted: false, parts: [{ type: "tool-call", tool_call_id: `c${i}`, tool_name: "computer", args: {} }] });
      rows.push({ id: ++id, role: "tool", visibility: "both", compressed: false, deleted: false, parts: [{ type: "tool-result", tool_call_id: `c${i}`, tool_name: "computer", result: { data: `shot${i}`, mime_type: "image/png", text: "" } }] });
    }
    expect(keptShots(assemblePrompt(rows, { provider: "anthropic" }))).toHaveLength(KEPT_SCREENSHOTS + SCREENSHOT_REMOVAL_CHUNK);
    expect(keptShots(assemblePrompt(rows, { provider: "anthropic", omitOldScreenshots: true }))).toHaveLength(KEPT_SCREENSHOTS);
  });
});
