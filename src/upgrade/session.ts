import { CloseCodes } from '../errors.js'
import type { Connection } from '../connection/connection.js'
import type { LocalHub } from '../hub/local-hub.js'
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

  constructor (private readonly hub: LocalHub) {
    hub.signals.on('connected', (connection) => { this.schedule(connection) })
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
