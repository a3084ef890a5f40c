import type { Connection } from '../connection/connection.js'
import type { RealtimeUser } from '../types.js'
import type { InBandGate } from './in-band.js'
import type { ExpiryWatch } from './session.js'
import type { Verified } from './types.js'

/**
 * Failed `auth` messages one socket may send within AUTH_FAILURE_WINDOW_MS. The next attempt in
 * the window is not verified: it gets RATE_LIMIT_EXCEEDED and the socket is closed with 1008.
 * Without this, one socket could guess API keys or tokens at the message rate while the
 * upgrade route's connection limit held new sockets to a few per minute. Successful refreshes
 * do not count.
 */
export const AUTH_FAILURE_LIMIT = 3
/** @see AUTH_FAILURE_LIMIT */
export const AUTH_FAILURE_WINDOW_MS = 60_000

/**
 * Times of each socket's recent failed refreshes (at most AUTH_FAILURE_LIMIT per socket). A
 * WeakMap, so the entry goes with the connection. Frames of one socket are handled in order
 * (see Dispatcher), so no second attempt can be verified while one is in flight.
 */
export class AuthFailures {
  private readonly times = new WeakMap<Connection, number[]>()

  /** Whether `connection` has used up its failures in the window ending `now`. */
  exhausted (connection: Connection, now: number): boolean {
    const times = this.times.get(connection)
    if (times === undefined) return false
    while (times.length > 0 && now - (times[0] as number) >= AUTH_FAILURE_WINDOW_MS) times.shift()
    if (times.length === 0) this.times.delete(connection)
    return times.length >= AUTH_FAILURE_LIMIT
  }

  record (connection: Connection, now: number): void {
    let times = this.times.get(connection)
    if (times === undefined) this.times.set(connection, times = [])
    times.push(now)
    if (times.length > AUTH_FAILURE_LIMIT) times.shift()
  }
}

/**
 * What the `auth` message handler (src/protocol/handlers/auth.ts) uses, built by setupUpgrade
 * from the `auth` options and handed to it through its context (`ctx.services.auth`).
 */
export interface AuthServices {
  /** Verifies a token; null when this server only authenticates on upgrade (auth.authenticate). */
  readonly verifyToken: ((token: string, connection: Connection) => Promise<Verified>) | null
  /** Redeems a one-time ticket (null when unknown, used or expired). */
  readonly redeemTicket: (ticket: string) => Promise<RealtimeUser | null>
  readonly expiry: ExpiryWatch
  /** The in-band handshake deadline (`auth.required` with `inBand`); told once a socket has a user. */
  readonly gate: InBandGate | null
  readonly failures: AuthFailures
}
