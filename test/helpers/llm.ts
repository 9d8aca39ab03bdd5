/**
 * Shared pieces of the tests that drive the AI SDK against the mock provider servers: one mock
 * per test file (reset before each test), and readers for a collected stream.
 */
import { tool, type TextStreamPart, type ToolSet } from "ai";
import { z } from "zod";
import { afterAll, beforeAll, beforeEach } from "vitest";
import { startMockLlm, type MockLlm } from "../../src/llm/mock/index.js";

/**
 * Starts a mock for the file and resets it before each test. The returned object forwards to the
 * live mock, so it can be used at module level.
 */
export function useMockLlm(): MockLlm {
  let live: MockLlm | undefined;
  const current = (): MockLlm => {
    if (!live) throw new Error("useMockLlm: the mock is used before beforeAll started it");
    return live;
  };
  beforeAll(async () => {
    live = await startMockLlm();
  });
  afterAll(async () => {
    await live?.close();
  });
  beforeEach(() => {
    live?.reset();
  });
  return {
    get url() {
      return current().url;
    },
    get baseUrls() {
      return current().baseUrls;
    },
    get requests() {
      return current().requests;
    },
    get pendingTurns() {
      return current().pendingTurns;
    },
    enqueue: (...turns) => current().enqueue(...turns),
    reset: () => current().reset(),
    waitForRequests: (count, timeoutMs) => current().waitForRequests(count, timeoutMs),
    close: () => current().close(),
  };
}

export async function collect<T extends ToolSet>(stream: AsyncIterable<TextStreamPart<T>>): Promise<TextStreamPart<T>[]> {
  const parts: TextStreamPart<T>[] = [];
  for await (const part of stream) parts.push(part);
  return parts;
}

export const textOf = <T extends ToolSet>(parts: TextStreamPart<T>[]): string =>
  parts.flatMap((part) => (part.type === "text-delta" ? [part.text] : [])).join("");
export const reasoningOf = <T extends ToolSet>(parts: TextStreamPart<T>[]): string =>
  parts.flatMap((part) => (part.type === "reasoning-delta" ? [part.text] : [])).join("");
export const finishStep = <T extends ToolSet>(parts: TextStreamPart<T>[]) => parts.find((part) => part.type === "finish-step");

/** The tool the wire tests ask for; no execute, so a step ends with the call. */
export const weatherTools = {
  get_weather: tool({
    description: "Weather forecast for a city",
    inputSchema: z.object({ city: z.string(), days: z.number() }),
  }),
} satisfies ToolSet;
