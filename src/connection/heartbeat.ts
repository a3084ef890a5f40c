import type { WebSocket } from 'ws'
import { connectionOf } from './tag.js'
import type { Connection } from './connection.js'

/** Shared by every socket (no closure per connection); `this` is the socket. */
function onPong (this: WebSocket): void {
  const connection = connectionOf(this)
  if (connection !== undefined) connection.pendingPing = 0
}

/**
 * One sweep for all sockets instead of a timer per socket: every `interval` ms each socket is
 * pinged; `timeout` ms later any socket that has not answered is terminated.
 */
export class Heartbeat {
  private sweepTimer: NodeJS.Timeout | null = null
  private deadlineTimer: NodeJS.Timeout | null = null
  private sweeps = 0
  /** When each sweep some socket still owes a pong for ran, by sweep number (Connection.pendingPing). */
  private readonly sweptAt = new Map<number, number>()

  constructor (
    private readonly connections: () => Iterable<Connection>,
    private readonly interval: number,
    private readonly timeout: number,
    private readonly onDead: (connection: Connection) => void
  ) {}

  start (): void {
    if (this.sweepTimer !== null) return
    this.sweepTimer = setInterval(() => this.sweep(), this.interval)
    this.sweepTimer.unref()
  }

  /** Called for every socket when it is registered: a pong clears the pending ping. */
  watch (connection: Connection): void {
    connection.socket.on('pong', onPong)
  }

  private sweep (): void {
    const sweep = ++this.sweeps
    this.sweptAt.set(sweep, Date.now())
    for (const connection of this.connections()) {
      if (connection.pendingPing !== 0) continue // its deadline is already pending
      connection.pendingPing = sweep
      connection.socket.ping()
    }
    this.scheduleDeadline(this.timeout)
  }

  private scheduleDeadline (delay: number): void {
    if (this.deadlineTimer !== null) return
    this.deadlineTimer = setTimeout(() => {
      this.deadlineTimer = null
      this.checkDeadlines()
    }, delay)
    this.deadlineTimer.unref()
  }

  /** Terminates sockets whose ping is older than `timeout`; re-arms for younger pending pings. */
  private checkDeadlines (): void {
    const now = Date.now()
    let nextDue = Infinity
    let oldest = this.sweeps
    for (const connection of this.connections()) {
      const sweep = connection.pendingPing
      if (sweep === 0) continue
      oldest = Math.min(oldest, sweep)
      // Always there (a sweep goes only once no listed socket owes it); were it not, the ping
      // would count as long overdue rather than let a silent socket stay forever.
      const due = (this.sweptAt.get(sweep) ?? 0) + this.timeout
      if (due <= now) this.onDead(connection)
      else nextDue = Math.min(nextDue, due)
    }
    // Bounded: only sweeps a socket still in the list owes a pong for (and the latest) are kept.
    for (const sweep of this.sweptAt.keys()) if (sweep < oldest) this.sweptAt.delete(sweep)
    if (nextDue !== Infinity) this.scheduleDeadline(nextDue - now)
  }

  stop (): void {
    if (this.sweepTimer !== null) clearInterval(this.sweepTimer)
    if (this.deadlineTimer !== null) clearTimeout(this.deadlineTimer)
    this.sweepTimer = null
    this.deadlineTimer = null
  }
}
