/**
 * The world the chat route tests share: a server, an owner, an admin and two members, and a
 * provider that never answers (chats the worker picks up stay quietly `running`).
 */
import { expect } from "vitest";
import { startSilentLlm, type SilentLlm } from "./silent-llm.js";
import { field, startTestServer, type TestServer, type TestUser } from "./server.js";

export const CHATS = "/api/experimental/chats";

export interface ChatRouteWorld {
  t: TestServer;
  owner: TestUser;
  admin: TestUser;
  alice: TestUser;
  bob: TestUser;
  silentLlm: SilentLlm;
  /** Configures the silent provider (once) and adds a model config; returns its id. */
  addModelConfig(model: string): Promise<string>;
  close(): Promise<void>;
}

export async function startChatRouteWorld(): Promise<ChatRouteWorld> {
  const silentLlm = await startSilentLlm();
  const t = await startTestServer();
  const owner = await t.createOwner();
  const admin = await t.createUser(owner, ["admin"]);
  const alice = await t.createUser(owner);
  const bob = await t.createUser(owner);
  let providerReady = false;
  return {
    t,
    owner,
    admin,
    alice,
    bob,
    silentLlm,
    addModelConfig: async (model) => {
      if (!providerReady) {
        const provider = await t.request(`${CHATS}/providers`, {
          method: "POST",
          token: admin.token,
          body: { provider: "anthropic", api_key: "sk-test", base_url: silentLlm.baseUrl },
        });
        expect(provider.status).toBe(201);
        providerReady = true;
      }
      const response = await t.request(`${CHATS}/model-configs`, {
        method: "POST",
        token: admin.token,
        body: { provider: "anthropic", model, context_limit: 200_000 },
      });
      expect(response.status).toBe(201);
      return String(field(response.body, "id"));
    },
    close: async () => {
      await t.close();
      await silentLlm.close();
    },
  };
}
