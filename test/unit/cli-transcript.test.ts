/** What `chatd chat` prints for a sequence of history and stream events (src/cli/transcript.ts). */
import { describe, expect, it } from "vitest";
import { codesFor } from "../../src/cli/colour.js";
import { RESTART_MARKER, snapshotOrder, Transcript } from "../../src/cli/transcript.js";
import type { ChatMessage } from "../../src/sdk/schemas/chats.js";
import type { ChatMessagePart } from "../../src/sdk/schemas/parts.js";
import type { StreamEvent } from "../../src/sdk/schemas/streams.js";

const CHAT = "00000000-0000-4000-8000-000000000001";
const plain = codesFor({ isTTY: false });

function transcript() {
  let out = "";
  let err = "";
  const t = new Transcript({ out: { write: (s) => void (out += s) }, err: { write: (s) => void (err += s) }, outCodes: plain, errCodes: plain });
  return { t, out: () => out, err: () => err };
}

let nextId = 1;
function message(role: ChatMessage["role"], content: ChatMessagePart[]): ChatMessage {
  return { id: nextId++, chat_id: CHAT, created_by: null, model_config_id: null, created_at: "2026-03-23T10:00:00Z", role, content };
}
const stored = (role: ChatMessage["role"], content: ChatMessagePart[]): StreamEvent => ({ type: "message", chat_id: CHAT, message: message(role, content) });
const reset = (episode: string): StreamEvent => ({ type: "preview_reset", chat_id: CHAT, preview_reset: { episode } });
function parts(episode: string, role: "assistant" | "tool", ...list: ChatMessagePart[]): StreamEvent[] {
  return list.map((part, i) => ({ type: "message_part", chat_id: CHAT, message_part: { role, part, episode, seq: i + 1 } }));
}
const call: ChatMessagePart = { type: "tool-call", tool_call_id: "call_1", tool_name: "echo", args: { text: "ping" } };
const result: ChatMessagePart = { type: "tool-result", tool_call_id: "call_1", tool_name: "echo", result: { echoed: "ping" } };
const count = (haystack: string, needle: string) => haystack.split(needle).length - 1;

describe("Transcript", () => {
  it("prints a tool call and its result once: streamed, then stored", () => {
    const { t, out } = transcript();
    const events: StreamEvent[] = [
      reset("e1"),
      ...parts("e1", "assistant", { type: "text", text: "Let me " }, { type: "text", text: "look." }, { type: "tool-call", tool_call_id: "call_1", tool_name: "echo", args_delta: '{"te' }, call),
      ...parts("e1", "tool", result).map((event) => (event.type === "message_part" ? { ...event, message_part: { ...event.message_part, seq: 9 } } : event)),
      stored("assistant", [{ type: "text", text: "Let me look." }, call]),
      stored("tool", [result]),
      reset("e2"),
      ...parts("e2", "assistant", { type: "text", text: "Done." }),
      stored("assistant", [{ type: "text", text: "Done." }]),
    ];
    for (const event of events) t.event(event);
    t.end();
    expect(out()).toBe('Let me look.\n→ echo({"text":"ping"})\n← echo: {"echoed":"ping"}\nDone.\n');
  });

  it("does not print a step twice when the next step's preview arrives before its messages", () => {
    const { t, out } = transcript();
    for (const event of [
      ...parts("e1", "assistant", { type: "text", text: "First step." }),
      reset("e2"),
      ...parts("e2", "assistant", { type: "text", text: " Second" }),
      stored("assistant", [{ type: "text", text: "First step." }]),
      ...parts("e2", "assistant", { type: "text", text: " step." }).map((event) => (event.type === "message_part" ? { ...event, message_part: { ...event.message_part, seq: 2 } } : event)),
      stored("assistant", [{ type: "text", text: " Second step." }]),
    ]) {
      t.event(event);
    }
    t.end();
    expect(out()).toBe("First step. Second step.\n");
    expect(out()).not.toContain(RESTART_MARKER);
  });

  it("marks a step that starts over after a reconnect (a server restart), and prints the rerun once", () => {
    const { t, out } = transcript();
    for (const event of parts("e1", "assistant", { type: "text", text: "Half an ans" })) t.event(event);
    t.reconnected();
    for (const event of [reset("e2"), ...parts("e2", "assistant", { type: "text", text: "A whole answer." }), stored("assistant", [{ type: "text", text: "A whole answer." }])]) {
      t.event(event);
    }
    t.end();
    expect(out()).toBe(`Half an ans\n${RESTART_MARKER}\nA whole answer.\n`);
  });

  it("marks a rerun that arrives already stored after a reconnect", () => {
    const { t, out } = transcript();
    for (const event of parts("e1", "assistant", { type: "text", text: "Half an ans" })) t.event(event);
    t.reconnected();
    t.event(stored("assistant", [{ type: "text", text: "A whole answer." }]));
    t.end();
    expect(out()).toBe(`Half an ans\n${RESTART_MARKER}\nA whole answer.\n`);
  });

  it("does not mark a reconnect that resumes the same step", () => {
    const { t, out } = transcript();
    t.event(parts("e1", "assistant", { type: "text", text: "Half " })[0] ?? reset("e1"));
    t.reconnected();
    t.event({ type: "message_part", chat_id: CHAT, message_part: { role: "assistant", part: { type: "text", text: "and half." }, episode: "e1", seq: 2 } });
    t.event(stored("assistant", [{ type: "text", text: "Half and half." }]));
    t.event(reset("e2"));
    t.event(parts("e2", "assistant", { type: "text", text: " Next." })[0] ?? reset("e2"));
    t.end();
    expect(out()).toBe("Half and half. Next.\n");
  });

  it("marks a retried attempt", () => {
    const { t, out } = transcript();
    for (const event of parts("e1", "assistant", { type: "text", text: "Try one" })) t.event(event);
    t.event({ type: "retry", chat_id: CHAT, retry: { attempt: 1, delay_ms: 1000, error: "overloaded", retrying_at: "2026-03-23T10:00:01Z" } });
    for (const event of [reset("e2"), ...parts("e2", "assistant", { type: "text", text: "Try two" })]) t.event(event);
    t.end();
    expect(out()).toBe(`Try one\n[retry 1 in 1s: overloaded]\n${RESTART_MARKER}\nTry two\n`);
  });

  it("prints stored history in order, and only the rest of a message whose start streamed", () => {
    const { t, out } = transcript();
    t.message(message("system", [{ type: "text", text: "You are an agent." }]));
    t.message(message("user", [{ type: "text", text: "Hello?" }]));
    t.message(message("assistant", [{ type: "reasoning", text: "Greet back." }, { type: "text", text: "Hi." }, call]));
    t.message(message("tool", [result]));
    for (const event of parts("e9", "assistant", { type: "text", text: "All " })) t.event(event);
    t.event(stored("assistant", [{ type: "text", text: "All done." }]));
    t.end();
    expect(out()).toBe(`> Hello?\nGreet back.Hi.\n→ echo({"text":"ping"})\n← echo: {"echoed":"ping"}\nAll done.\n`);
    expect(count(out(), "echo(")).toBe(1);
  });

  it("writes escape codes only when given them", () => {
    const tty = codesFor({ isTTY: true }, {});
    let out = "";
    const t = new Transcript({ out: { write: (s) => void (out += s) }, err: { write: () => undefined }, outCodes: tty, errCodes: tty });
    t.message(message("assistant", [{ type: "reasoning", text: "hmm" }, { type: "text", text: "ok" }]));
    t.end();
    expect(out).toBe("\x1b[2mhmm\x1b[0mok\n");
    const { t: p, out: plainOut } = transcript();
    p.message(message("assistant", [{ type: "reasoning", text: "hmm" }, { type: "text", text: "ok" }]));
    p.end();
    expect(plainOut()).not.toMatch(/\x1b/);
  });
});

describe("snapshotOrder", () => {
  const status: StreamEvent = { type: "status", chat_id: CHAT, status: { status: "running" } };
  const step1 = stored("assistant", [{ type: "text", text: "Let me echo." }, call]);
  const step1Result = stored("tool", [result]);
  const preview2 = parts("e2", "assistant", { type: "text", text: "Echoed " });

  it("puts the messages stored before the step in progress ahead of its preview", () => {
    const sent = [status, reset("e2"), ...preview2, step1, step1Result];
    expect(snapshotOrder(sent)).toEqual([status, step1, step1Result, reset("e2"), ...preview2]);
    const { t, out } = transcript();
    for (const event of snapshotOrder(sent)) t.event(event);
    t.end();
    expect(out()).toBe('Let me echo.\n→ echo({"text":"ping"})\n← echo: {"echoed":"ping"}\nEchoed \n');
  });

  it("keeps the preview's own stored form, and anything after the snapshot, after it", () => {
    const own = stored("assistant", [{ type: "text", text: "Echoed it." }]);
    const later = reset("e3");
    expect(snapshotOrder([status, ...preview2, step1, step1Result, own, later])).toEqual([status, step1, step1Result, ...preview2, own, later]);
    const byCall = parts("e1", "assistant", call);
    expect(snapshotOrder([status, ...byCall, step1])).toEqual([status, ...byCall, step1]);
  });

  it("leaves anything that is not a snapshot as it is", () => {
    const live = [...preview2, step1];
    expect(snapshotOrder(live)).toEqual(live);
    expect(snapshotOrder([status, step1])).toEqual([status, step1]);
  });
});
