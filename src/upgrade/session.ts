import { CloseCodes } from '../errors.js'
import type { Connection } from '../connection/connection.js'
import type { Hub } from '../hub/hub.js'
import { expiryOf, hasExpired } from './user.js'

/** How often expiries are checked; JWT `exp` has one-second resolution anyway. */
const SWEEP_MS = 1000

/**
 * Closes sockets whose credentials expire (JWT `exp`) with 4001, unless an `auth` refresh
 * moved the expiry first. One sweep over the connections each second instead of a timer per
 * socket: nothing is kept per connection, and a refresh needs no re-arming (the sweep reads
 * the connection's current user).
 */
export class ExpiryWatch {
  private timer: NodeJS.Timeout | null = null

  constructor (private readonly hub: Hub) {
    hub.on('client.connected', ({ clientId }) => {
      const connection = hub.connections.get(clientId)
      if (connection !== undefined) this.schedule(connection)
    })
  }

  /** Checks the connection's current user now, and makes sure the sweep runs if it can expire. */
  schedule (connection: Connection): void {
    const expiresAt = expiryOf(connection.user)
    if (expiresAt === null) return
    if (expiresAt <= Date.now()) {
      this.expire(connection)
      return
    }
    if (this.timer !== null) return
    this.timer = setInterval(() => { this.sweep() }, SWEEP_MS)
    this.timer.unref()
  }

  private sweep (): void {
    const now = Date.now()
    for (const connection of this.hub.connections.values()) {
      if (!connection.closed && hasExpired(connection.user, now)) this.expire(connection)
    }
  }

  private expire (connection: Connection): void {
    connection.log.debug('realtime: token expired; closing with 4001')
    connection.close(CloseCodes.TOKEN_EXPIRED, 'Token expired')
  }

  stop (): void {
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
  }
}

/** Closes every socket of `userId` with 1008; returns how many were closed. */
export function closeUserConnections (connections: Iterable<Connection>, userId: string, reason: string): number {
  let closed = 0
  for (const connection of connections) {
    if (connection.user === null || connection.user.id !== userId || connection.closed) continue
    // A close reason may hold at most 123 bytes.
    connection.close(CloseCodes.POLICY_VIOLATION, Buffer.from(reason, 'utf8').subarray(0, 120).toString('utf8'))
    closed++
  }
  return closed
}
