import { CloseCodes } from '../errors.js'
import type { Connection } from '../connection/connection.js'
import type { Hub } from '../hub/hub.js'
import { expiryOf } from './user.js'

/** setTimeout's ceiling; longer delays are re-armed in steps. */
const MAX_DELAY = 2 ** 31 - 1

/**
 * Closes sockets whose credentials expire (JWT `exp`) with 4001, unless an `auth` refresh
 * moved the expiry first. One timer per expiring socket, cleared on disconnect.
 */
export class ExpiryWatch {
  private readonly timers = new Map<string, NodeJS.Timeout>()

  constructor (private readonly hub: Hub) {
    hub.on('client.connected', ({ clientId }) => {
      const connection = hub.connections.get(clientId)
      if (connection !== undefined) this.schedule(connection)
    })
    hub.on('client.disconnected', ({ clientId }) => { this.cancel(clientId) })
  }

  /** (Re)arms the timer from the connection's current user. */
  schedule (connection: Connection): void {
    this.cancel(connection.id)
    const expiresAt = expiryOf(connection.user)
    if (expiresAt === null) return
    const delay = expiresAt - Date.now()
    if (delay <= 0) {
      this.expire(connection)
      return
    }
    const timer = setTimeout(() => {
      this.timers.delete(connection.id)
      if (expiryOf(connection.user) !== expiresAt) return // refreshed meanwhile
      if (Date.now() < expiresAt) this.schedule(connection)
      else this.expire(connection)
    }, Math.min(delay, MAX_DELAY))
    timer.unref()
    this.timers.set(connection.id, timer)
  }

  private expire (connection: Connection): void {
    connection.log.debug('realtime: token expired; closing with 4001')
    connection.close(CloseCodes.TOKEN_EXPIRED, 'Token expired')
  }

  cancel (clientId: string): void {
    const timer = this.timers.get(clientId)
    if (timer === undefined) return
    clearTimeout(timer)
    this.timers.delete(clientId)
  }

  get size (): number {
    return this.timers.size
  }

  stop (): void {
    for (const timer of this.timers.values()) clearTimeout(timer)
    this.timers.clear()
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
