/**
 * Limits shared by the hub and by a bus's direct listener, in a module of their own so a client
 * can use them without loading the hub's brokers (see index.ts).
 * @module
 */

/** Default per-connection outbound limit: 8 MiB. */
export const DEFAULT_OUTBOUND_LIMIT = 8 * 1024 * 1024
