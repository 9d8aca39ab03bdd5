/**
 * The pubsub channel of one workspace: builds and agent connections publish on it when their
 * state changes, so anyone waiting for a build or an agent wakes at once (payloads are hints
 * only; waiters re-read the database).
 */
export const workspaceChannel = (workspaceId: string): string => `workspace:${workspaceId}`;
