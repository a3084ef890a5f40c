/** A call on the public API to repeat on the other instances of a cluster. */
export type RelayedCall =
  | { kind: 'broadcast', message: object }
  | { kind: 'broadcastToResource', resource: string, message: object }
  | { kind: 'sendToClient', clientId: string, message: object }
  | { kind: 'disconnectUser', userId: string, reason: string }
  /** A client's `publish`: the encoded frame, minus its sender. */
  | { kind: 'publish', resource: string, frame: string, excludeClientId: string | null, message: unknown }

/**
 * Forwards calls to the other instances (each delivers them to its own sockets). The cluster
 * implements it over the bus; a single instance uses `noRelay`.
 */
export interface Relay {
  send (call: RelayedCall): void
}

export const noRelay: Relay = { send: () => {} }
