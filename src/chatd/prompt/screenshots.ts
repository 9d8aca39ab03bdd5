/**
 * Old screenshots leave the prompt (computer use): every computer action answers with a
 * 1280×720 screenshot, about 1,200 input tokens each, so a long desktop session would resend
 * hundreds of stale images on every step. Only the most recent ones tell the model what the
 * screen looks like now; older tool-result images are replaced by a short text.
 *
 * Invariants:
 * - Only images inside tool results are touched; images a person attached stay.
 * - At least `keep` of the newest tool-result images always stay.
 * - Images are removed in whole chunks of `chunk`, oldest first, so the prompt's prefix (and with
 *   it Anthropic's prompt cache) changes only once every `chunk` screenshots, not on every step.
 * - Pure: the same messages and numbers give the same prompt; the input is not modified.
 */
import type { ModelMessage, ToolResultPart } from "ai";

/** The newest screenshots a computer-use prompt keeps: the current screen and the two before it. */
export const KEPT_SCREENSHOTS = 3;
/** Screenshots are dropped ten at a time, so nine steps in ten reuse the cached prefix. */
export const SCREENSHOT_REMOVAL_CHUNK = 10;
export const OMITTED_SCREENSHOT_TEXT = "[screenshot omitted: a later screenshot shows the current screen]";

type ContentOutput = Extract<ToolResultPart["output"], { type: "content" }>;

function isImage(item: ContentOutput["value"][number]): boolean {
  return item.type === "image-data" || item.type === "media" || item.type === "image-url";
}

function toolImageCount(messages: readonly ModelMessage[]): number {
  let count = 0;
  for (const message of messages) {
    if (message.role !== "tool") continue;
    for (const part of message.content) {
      if (part.type === "tool-result" && part.output.type === "content") count += part.output.value.filter(isImage).length;
    }
  }
  return count;
}

export function omitOldScreenshots(messages: readonly ModelMessage[], keep = KEPT_SCREENSHOTS, chunk = SCREENSHOT_REMOVAL_CHUNK): ModelMessage[] {
  const excess = toolImageCount(messages) - keep;
  let toRemove = excess - (excess % chunk);
  if (toRemove <= 0) return [...messages];
  return messages.map((message): ModelMessage => {
    if (message.role !== "tool" || toRemove <= 0) return message;
    const content = message.content.map((part) => {
      if (part.type !== "tool-result" || part.output.type !== "content" || toRemove <= 0) return part;
      const value = part.output.value.map((item) => {
        if (!isImage(item) || toRemove <= 0) return item;
        toRemove--;
        return { type: "text" as const, text: OMITTED_SCREENSHOT_TEXT };
      });
      return { ...part, output: { type: "content" as const, value } };
    });
    return { ...message, content };
  });
}
