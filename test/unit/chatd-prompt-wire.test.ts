/**
 * The assembled prompt through the real AI SDK providers, up to the HTTP request body (a fake
 * fetch captures it and fails the call): the SDK accepts it (no invalid-prompt or
 * missing-tool-result error) and each provider's request has the expected shape.
 */
import { createAnthropic } from "@ai-sdk/anthropic";
import { createGoogleGenerativeAI } from "@ai-sdk/google";
import { createOpenAI } from "@ai-sdk/openai";
import { generateText, type LanguageModel, type ModelMessage } from "ai";
import { describe, expect, it } from "vitest";
import { assemblePrompt, type PromptMessageRow } from "../../src/chatd/prompt/assemble.js";
import type { ChatMessagePart } from "../../src/sdk/schemas/parts.js";
import type { ProviderName } from "../../src/sdk/schemas/llm.js";

class Captured extends Error {}

type Fetch = typeof globalThis.fetch;

/** Sends `messages` through `makeModel`'s provider and returns the JSON body it would POST. */
async function requestBody(makeModel: (fetch: Fetch) => LanguageModel, messages: ModelMessage[]): Promise<unknown> {
  let body: unknown;
  const fetch: Fetch = async (_input, init) => {
    body = JSON.parse(typeof init?.body === "string" ? init.body : "null");
    throw new Captured("captured");
  };
  await expect(generateText({ model: makeModel(fetch), messages, allowSystemInMessages: true, maxRetries: 0 })).rejects.toThrow();
  expect(body).toBeDefined();
  return body;
}

const MODELS: Record<Exclude<ProviderName, "openai-compat">, (fetch: Fetch) => LanguageModel> = {
  anthropic: (fetch) => createAnthropic({ apiKey: "test", fetch })("claude-sonnet-4-5"),
  openai: (fetch) => createOpenAI({ apiKey: "test", fetch }).responses("gpt-5"),
  google: (fetch) => createGoogleGenerativeAI({ apiKey: "test", fetch })("gemini-2.5-flash"),
};

let nextId = 0;
const row = (role: PromptMessageRow["role"], parts: ChatMessagePart[], extra: Partial<PromptMessageRow> = {}): PromptMessageRow => ({
  id: ++nextId,
  role,
  visibility: "both",
  compressed: false,
  deleted: false,
  parts,
  ...extra,
});

/** A history with a late system row, an interrupted call, an orphan and odd call ids. */
const history: PromptMessageRow[] = [
  row("system", [{ type: "text", text: "You are a coding agent." }], { visibility: "model" }),
  row("user", [{ type: "text", text: "List the repo." }]),
  row("assistant", [
    { type: "text", text: "Listing." },
    { type: "tool-call", tool_call_id: "call.1", tool_name: "execute", args: { command: "ls" } },
    { type: "tool-call", tool_call_id: "call.2", tool_name: "read_file", args: { path: "README.md" } },
  ]),
  row("tool", [{ type: "tool-result", tool_call_id: "call.1", tool_name: "execute", result: { output: "README.md" } }]),
  row("system", [{ type: "text", text: "This chat is attached to a workspace." }], { visibility: "model" }),
  row("tool", [{ type: "tool-result", tool_call_id: "stray", tool_name: "execute", result: { output: "?" } }]),
  row("user", [{ type: "text", text: "Thanks, now summarize it." }]),
];

describe("assembled prompts through the AI SDK providers", () => {
  it.each<keyof typeof MODELS>(["anthropic", "openai", "google"])("%s accepts the prompt", async (provider) => {
    const messages = assemblePrompt(history, { provider, extraSystem: { userInstructions: "Be brief." } });
    await requestBody(MODELS[provider], messages);
  });

  it("anthropic: cache breakpoints, sanitized ids, synthetic results, replayed thinking and web search", async () => {
    const rows: PromptMessageRow[] = [
      ...history,
      row("assistant", [
        { type: "reasoning", text: "Need the web.", provider_metadata: { anthropic: { signature: "sig-1" } } },
        { type: "tool-call", tool_call_id: "srvtoolu_1", tool_name: "web_search", args: { query: "chatd" }, provider_executed: true },
        {
          type: "tool-result",
          tool_call_id: "srvtoolu_1",
          tool_name: "web_search",
          provider_executed: true,
          result: [{ url: "https://example.com", title: "Example", pageAge: null, encryptedContent: "enc", type: "web_search_result" }],
        },
        { type: "text", text: "Found it." },
      ]),
      row("user", [{ type: "text", text: "Great." }]),
    ];
    const body = await requestBody(MODELS.anthropic, assemblePrompt(rows, { provider: "anthropic", extraSystem: { workspaceContext: "OS: linux" } }));
    expect(body).toMatchObject({
      system: [
        { type: "text", text: "You are a coding agent." },
        { type: "text", text: "This chat is attached to a workspace." },
        { type: "text", text: "<workspace-context>\nOS: linux\n</workspace-context>", cache_control: { type: "ephemeral" } },
      ],
    });
    const json = JSON.stringify(body);
    // Exactly three breakpoints: last system block, last two messages.
    expect(json.match(/"cache_control"/g)).toHaveLength(3);
    expect(json).toContain('"tool_use_id":"call_1"');
    expect(json).toContain('"tool_use_id":"call_2"');
    expect(json).toContain("tool call was interrupted and did not receive a result");
    expect(json).toContain('"id":"stray"');
    expect(json).toContain('{"type":"thinking","thinking":"Need the web.","signature":"sig-1"}');
    expect(json).toContain('"type":"server_tool_use"');
    expect(json).toContain('"type":"web_search_tool_result"');
  });

  it("google: every system message goes into the system instruction", async () => {
    const body = await requestBody(MODELS.google, assemblePrompt(history, { provider: "google" }));
    expect(body).toMatchObject({
      systemInstruction: { parts: [{ text: "You are a coding agent." }, { text: "This chat is attached to a workspace." }] },
    });
    expect(JSON.stringify(body)).not.toContain("cache_control");
  });
});
