/**
 * Workspace agent rows and their tokens. A start build issues one agent (fresh id and token); the
 * workspace's current agent is always the one of its latest build, looked up when needed and never
 * stored on a chat, so a restarted workspace's new agent is found (seed: agent lookup after
 * restarts). Tokens use auth/token.ts's `<id>-<secret>` form; only the secret's hash is stored.
 */
import { and, desc, eq } from "drizzle-orm";
import { newToken, parseToken, secretMatches } from "../auth/token.js";
import type { Queryable } from "../db/client.js";
import { workspaceAgents } from "../db/schema/index.js";
import { latestBuildRow } from "./builds.js";

export type AgentRow = typeof workspaceAgents.$inferSelect;

/** Creates the agent of a start build; the token is returned once, for the provisioner to hand over. */
export async function issueAgent(q: Queryable, input: { workspaceId: string; buildId: string }): Promise<{ agent: AgentRow; token: string }> {
  const token = newToken();
  const [agent] = await q
    .insert(workspaceAgents)
    .values({ workspaceId: input.workspaceId, buildId: input.buildId, tokenId: token.id, hashedSecret: token.hashedSecret })
    .returning();
  if (!agent) throw new Error("inserting the workspace agent returned no row");
  return { agent, token: token.token };
}

/**
 * A new token for an existing agent (a local agent respawned after its server restarted); the
 * old token stops working at once.
 */
export async function reissueAgentToken(q: Queryable, agentId: string): Promise<string> {
  const token = newToken();
  await q
    .update(workspaceAgents)
    .set({ tokenId: token.id, hashedSecret: token.hashedSecret })
    .where(eq(workspaceAgents.id, agentId));
  return token.token;
}

/** The agent a token belongs to, or undefined for a malformed, unknown or wrong token. */
export async function authenticateAgent(q: Queryable, token: string): Promise<AgentRow | undefined> {
  const parsed = parseToken(token);
  if (!parsed) return undefined;
  const [agent] = await q.select().from(workspaceAgents).where(eq(workspaceAgents.tokenId, parsed.id)).limit(1);
  if (!agent || !secretMatches(parsed.secret, agent.hashedSecret)) return undefined;
  return agent;
}

/** The agent of the workspace's latest build, if that build issued one. */
export async function latestAgent(q: Queryable, workspaceId: string): Promise<AgentRow | undefined> {
  const latest = await latestBuildRow(q, workspaceId);
  if (!latest) return undefined;
  const [agent] = await q
    .select()
    .from(workspaceAgents)
    .where(and(eq(workspaceAgents.workspaceId, workspaceId), eq(workspaceAgents.buildId, latest.id)))
    .orderBy(desc(workspaceAgents.createdAt))
    .limit(1);
  return agent;
}
