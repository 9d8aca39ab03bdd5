/**
 * Checks a finished chat's stored history against the steps its model was scripted to take:
 * exactly one user message, then per step one assistant message (the tool call it was told to
 * make, or the final text) followed by one tool message per call. Every problem is returned as a
 * line naming the chat, so a reliability run reports all broken chats at once instead of the
 * first. A step stored twice, a tool call without a result (or with two), a lost message and a
 * step out of order all show up here.
 */
import type { ChatMessagePart } from "../../src/sdk/schemas/parts.js";

export interface StoredMessage {
  id: number;
  role: "system" | "user" | "assistant" | "tool";
  parts: readonly ChatMessagePart[];
}

export type ExpectedStep =
  | { kind: "tool"; tool: string; check?: (result: unknown) => string | undefined }
  | { kind: "text"; text: string };

/** Problems with how tool calls and results pair up; empty when every call has exactly one result. */
export function toolPairingProblems(messages: readonly StoredMessage[]): string[] {
  const problems: string[] = [];
  const calls = new Map<string, number>();
  const results = new Map<string, number>();
  for (const message of messages) {
    for (const part of message.parts) {
      if (part.provider_executed || part.tool_call_id === undefined) continue;
      if (part.type === "tool-call") calls.set(part.tool_call_id, (calls.get(part.tool_call_id) ?? 0) + 1);
      if (part.type === "tool-result") results.set(part.tool_call_id, (results.get(part.tool_call_id) ?? 0) + 1);
    }
  }
  for (const [id, count] of calls) {
    if (count > 1) problems.push(`tool call ${id} stored ${count} times`);
    const answered = results.get(id) ?? 0;
    if (answered !== 1) problems.push(`tool call ${id} has ${answered} results`);
  }
  for (const id of results.keys()) if (!calls.has(id)) problems.push(`tool result ${id} answers no call`);
  return problems;
}

function describeRoles(messages: readonly StoredMessage[]): string {
  return messages.map((message) => message.role).join(",");
}

/** Every way `messages` (system messages included or not) differs from `steps`. */
export function historyProblems(messages: readonly StoredMessage[], steps: readonly ExpectedStep[]): string[] {
  const visible = messages.filter((message) => message.role !== "system");
  const expectedRoles = ["user", ...steps.flatMap((step) => (step.kind === "tool" ? ["assistant", "tool"] : ["assistant"]))];
  const problems = toolPairingProblems(visible);
  if (visible.map((message) => message.role).join(",") !== expectedRoles.join(",")) {
    problems.push(`roles ${describeRoles(visible)}, expected ${expectedRoles.join(",")}`);
    return problems;
  }
  let index = 1;
  for (const [number, step] of steps.entries()) {
    const assistant = visible[index++];
    const calls = assistant?.parts.filter((part) => part.type === "tool-call") ?? [];
    if (step.kind === "text") {
      const text = assistant?.parts.flatMap((part) => (part.type === "text" ? [part.text ?? ""] : [])).join("");
      if (calls.length > 0) problems.push(`step ${number}: ${calls.length} tool calls where only text was scripted`);
      if (text !== step.text) problems.push(`step ${number}: text ${JSON.stringify(text)}, expected ${JSON.stringify(step.text)}`);
      continue;
    }
    const tool = visible[index++];
    const [call] = calls;
    if (calls.length !== 1 || call?.tool_name !== step.tool) {
      problems.push(`step ${number}: calls ${calls.map((c) => c.tool_name).join(",") || "none"}, expected one ${step.tool}`);
      continue;
    }
    const results = tool?.parts.filter((part) => part.type === "tool-result") ?? [];
    const [result] = results;
    if (results.length !== 1 || !result || result.tool_call_id !== call.tool_call_id) {
      problems.push(`step ${number}: the tool message does not answer ${call.tool_call_id}`);
      continue;
    }
    if (result.is_error) problems.push(`step ${number}: ${step.tool} failed: ${JSON.stringify(result.result)}`);
    else {
      const wrong = step.check?.(result.result);
      if (wrong) problems.push(`step ${number}: ${step.tool}: ${wrong}`);
    }
  }
  return problems;
}
