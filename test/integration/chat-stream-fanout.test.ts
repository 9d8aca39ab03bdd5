/**
 * Several viewers of one chat see the same thing: sockets whose snapshot arrived before a run
 * starts receive identical event sequences through that run (parts, stored messages, statuses),
 * on both databases. Repeated, because the defect it guards against was a race: per socket, a
 * stored message (read from the database after its hint) could overtake or fall behind the next
 * step's parts depending on how long that socket's read took.
 */
import { z } from "zod";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defineTool } from "../../src/chatd/tools/registry.js";
import { configureAnthropicModel, field, startTestServer, type TestServer, type TestUser } from "../helpers/server.js";
import { useMockLlm } from "../helpers/llm.js";
import { connectStream, type StreamClient } from "../helpers/ws.js";
import { reloadChat } from "../helpers/chats.js";
import { waitFor } from "../helpers/wait.js";

const CHATS = "/api/experimental/chats";
/** Runs per test: enough to hit the interleavings the race needed, short enough for the suite. */
const ROUNDS = 8;
const VIEWERS = 3;

const mock = useMockLlm();
let t: TestServer;
let owner: TestUser;

const echo = defineTool({
  name: "echo",
  description: "Echoes its text",
  inputSchema: z.object({ text: z.string() }),
  execute: async ({ text }) => ({ result: { echoed: text } }),
});

beforeAll(async () => {
  t = await startTestServer({ chatTools: [echo] });
  owner = await t.createOwner();
  await configureAnthropicModel(t, owner, mock.baseUrls.anthropic);
});
afterAll(async () => {
  await t.close();
});

const typeOf = (event: unknown) => field(event, "type");

/** Two steps: a tool call (its result stored between the steps), then a streamed answer. */
function enqueueRun(round: number): void {
  const title = { parts: [{ type: "text" as const, text: "Fan-out" }] };
  const toolStep = { parts: [{ type: "tool-call" as const, id: `toolu_${round}`, name: "echo", input: { text: `r${round}` } }], usage: { input: 5, output: 2 } };
  const answer = { parts: [{ type: "text" as const, text: Array.from({ length: 40 }, (_, i) => `r${round}w${i}`).join(" ") }], chunkDelayMs: 1, usage: { input: 6, output: 9 } };
  // A title request may arrive for the first message; it must not take a step's turn.
  mock.enqueue((r) => (r.stream ? toolStep : title), (r) => (r.stream ? answer : title), (r) => (r.stream ? answer : title));
}

async function settled(chatId: string): Promise<void> {
  await waitFor(async () => (await reloadChat(t.server.database.db, chatId)).status === "waiting", { timeoutMs: 15_000, message: "chat back to waiting" });
}

describe("viewers of one chat", () => {
  it(`all receive the same events in the same order, ${ROUNDS} runs in a row`, async () => {
    enqueueRun(0);
    const created = await t.request(CHATS, { method: "POST", token: owner.token, body: { content: [{ type: "text", text: "round 0" }] } });
    const chatId = String(field(created.body, "id"));
    await settled(chatId);

    for (let round = 1; round <= ROUNDS; round++) {
      mock.reset();
      const viewers: StreamClient[] = [];
      try {
        for (let i = 0; i < VIEWERS; i++) viewers.push(await connectStream(`${t.url}${CHATS}/${chatId}/stream`, owner.token));
        // Connected means the snapshot arrived: the server has subscribed everything by then.
        const snapshotEnds = await Promise.all(
          viewers.map(async (viewer) => (await viewer.waitForEvents((events) => events.some((e) => typeOf(e) === "status"), "snapshot")).length),
        );
        // Nothing may arrive between the snapshot and the run, or the cut below would be unfair.
        expect(viewers.map((viewer, i) => viewer.events().length - (snapshotEnds[i] ?? 0))).toEqual(viewers.map(() => 0));
        enqueueRun(round);
        const sent = await t.request(`${CHATS}/${chatId}/messages`, { method: "POST", token: owner.token, body: { content: [{ type: "text", text: `round ${round}` }] } });
        expect(sent.status).toBe(200);
        const finished = (events: unknown[]) =>
          events.filter((e) => typeOf(e) === "message" && field(field(e, "message"), "role") === "assistant").length >= 2 &&
          typeOf(events.at(-1)) === "status" &&
          field(field(events.at(-1), "status"), "status") === "waiting";
        const runs = await Promise.all(
          viewers.map(async (viewer, i) => (await viewer.waitForEvents(finished, `round ${round}, viewer ${i}: the run's end`)).slice(snapshotEnds[i])),
        );
        const [first, ...others] = runs;
        expect(first?.some((e) => typeOf(e) === "message_part")).toBe(true);
        for (const other of others) expect(other).toEqual(first);
      } finally {
        for (const viewer of viewers) viewer.close();
      }
      await settled(chatId);
    }
  });
});
