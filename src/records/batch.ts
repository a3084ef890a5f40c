/**
 * Documented bound of `insertMany` / `deleteMany` (docs/protocol.md, "Batches"): items in one
 * message. Each item is judged and written as a single write would be, one after the other, so
 * a batch holds the socket's handler for its whole length; the bound keeps that short.
 */
export const BATCH_LIMIT = 100
