/** Everything a route needs from the running server, passed explicitly instead of as globals. */
import type { DatabaseHandle } from "../db/client.js";
import type { Logger } from "../observability/logger.js";
import type { ServerMetrics } from "../observability/metrics.js";
import type { LoginThrottle } from "../auth/throttle.js";
import type { SecretCipher } from "../secrets/cipher.js";
import type { Pubsub } from "../pubsub/pubsub.js";
import type { EnvProviderKeys } from "../llm/providers.js";
import type { ChatEventHub } from "../chatd/events.js";
import type { SocketStats } from "../streams/socket.js";
import type { RelayDialer } from "../streams/relay.js";
import type { WorkspaceService } from "../workspaces/service.js";
import type { AgentConnections } from "../workspaces/agent-conn/connections.js";
import type { AgentDirectory } from "../workspaces/agent-conn/directory.js";
import type { WebPushDispatcher } from "../webpush/dispatcher.js";

export interface ApiServices {
  database: DatabaseHandle;
  pubsub: Pubsub;
  logger: Logger;
  metrics: ServerMetrics;
  cipher: SecretCipher;
  throttles: { account: LoginThrottle; address: LoginThrottle };
  /** Marks the session cookie Secure (the access URL is https). */
  secureCookies: boolean;
  /** Directory of the built web UI; served from `/` when it holds an index.html. */
  webDir: string;
  version: string;
  /** Provider keys from OPENAI_API_KEY and friends (env presets). */
  providerEnvKeys: EnvProviderKeys;
  /** This replica's chat events (parts of the chats it runs). */
  hub: ChatEventHub;
  streamStats: SocketStats;
  replicaId: string;
  /** Reaches other replicas for the parts of chats they run (PostgreSQL only). */
  relay?: RelayDialer;
  /** The secret other replicas present to this one's relay endpoint. */
  relaySecret?: string;
  /** Workspace agents: the sockets held here, and the lookup that reaches any agent from here. */
  agents: { connections: AgentConnections; directory: AgentDirectory };
  /** Templates, workspaces, builds and shares; `.runtime` runs this replica's builds. */
  workspaces: WorkspaceService;
  /** Web push: the VAPID public key, test pushes (the daemon sends the "agent finished" ones). */
  webpush: WebPushDispatcher;
}
