/**
 * Mock LLM provider servers for tests and for trying chatd without an API key: one `node:http`
 * server speaking OpenAI Chat Completions, OpenAI Responses, Anthropic Messages and Gemini.
 * See README.md in this folder.
 */
export { startMockLlm, type MockLlm, type MockLlmOptions, type MockTurnSource, type RecordedRequest } from "./server.js";
export {
  mockScriptSchema,
  mockTurnSchema,
  parseScript,
  type MockFault,
  type MockPart,
  type MockTurn,
  type MockUsage,
} from "./script.js";
export type { MockFormat } from "./wire.js";
