/**
 * Pubsub: small pointers and hints between replicas ("stream X has new events", "owner Y's list
 * changed"), never content; receivers read the content from the database. See README.md.
 */
import type { DatabaseHandle } from "../db/client.js";
import { PglitePubsub } from "./pglite.js";
import { PostgresPubsub, type PostgresPubsubOptions } from "./postgres.js";
import type { Pubsub } from "./pubsub.js";

export { MemoryPubsub } from "./memory.js";
export { PglitePubsub } from "./pglite.js";
export { LISTENER_APPLICATION_NAME, PostgresPubsub, type PostgresPubsubOptions } from "./postgres.js";
export {
  MAX_CHANNEL_BYTES,
  MAX_PAYLOAD_BYTES,
  type Pubsub,
  type PubsubHandler,
  type PubsubMessage,
  type PubsubOptions,
} from "./pubsub.js";

/** The database-backed pubsub for the handle's backend (PGlite ignores subscribeTimeoutMs). */
export function createPubsub(handle: DatabaseHandle, options: PostgresPubsubOptions = {}): Pubsub {
  if (handle.kind === "pglite") {
    if (!handle.pglite) throw new Error("pubsub: a PGlite database handle without its PGlite session");
    return new PglitePubsub(handle.db, handle.pglite, options);
  }
  if (!handle.pgConnection) throw new Error("pubsub: a PostgreSQL database handle without connection settings");
  return new PostgresPubsub(handle.db, handle.pgConnection, options);
}
