import type { Connection } from '../connection/connection.js'
import { CloseCodes, ErrorCodes, ProtocolError } from '../errors.js'
import type { LocalHub } from '../hub/local-hub.js'

/** Messages an unauthenticated socket may send while `auth.required` waits for its `auth`. */
const ALLOWED_BEFORE_AUTH = new Set(['auth', 'ping'])

/** The close reason; the client recognises it as an auth failure and does not reconnect. */
export const HANDSHAKE_TIMEOUT_REASON = 'Authentication required: no valid auth message in time'

/**
 * `auth.required` with `auth.inBand`: a socket opened without credentials has `timeoutMs` to
 * authenticate with an `auth` message. Until then every other message but `ping` gets
 * UNAUTHORIZED (a protocol error the client can show); when the time is up it is closed with
 * 1008. One timer per waiting socket, cleared when it authenticates or goes.
 */
export class InBandGate {
  private readonly timers = new Map<string, NodeJS.Timeout>()

  constructor (private readonly hub: LocalHub, private readonly timeoutMs: number) {
    hub.signals.on('connected', (connection) => {
      if (connection.user === null) this.arm(connection.id)
    })
    hub.signals.on('disconnected', (connection) => { this.clear(connection.id) })
  }

  /** Dispatcher pre-handler: nothing but `auth`/`ping` from a socket that has not authenticated. */
  readonly check = (connection: Connection, type: string): void => {
    if (connection.user !== null || ALLOWED_BEFORE_AUTH.has(type)) return
    throw new ProtocolError(ErrorCodes.UNAUTHORIZED, 'Authentication required: send {type:"auth", token} (or ticket) first')
  }

  /** The socket proved who it is: no deadline any more. */
  authenticated (connection: Connection): void {
    connection.awaitingAuth = false
    this.clear(connection.id)
  }

  private arm (clientId: string): void {
    // Not yet anyone: `broadcast()` skips it (an app may assume `required` means authenticated).
    const waiting = this.hub.connections.get(clientId)
    if (waiting !== undefined) waiting.awaitingAuth = true
    const timer = setTimeout(() => {
      this.timers.delete(clientId)
      const connection = this.hub.connections.get(clientId)
      if (connection === undefined || connection.closed || connection.user !== null) return
      connection.log.debug('realtime: no auth message within handshakeTimeout; closing with 1008')
      connection.close(CloseCodes.POLICY_VIOLATION, HANDSHAKE_TIMEOUT_REASON)
    }, this.timeoutMs)
    timer.unref()
    this.timers.set(clientId, timer)
  }

  private clear (clientId: string): void {
    const timer = this.timers.get(clientId)
    if (timer === undefined) return
    clearTimeout(timer)
    this.timers.delete(clientId)
  }

  stop (): void {
    for (const timer of this.timers.values()) clearTimeout(timer)
    this.timers.clear()
  }
}
