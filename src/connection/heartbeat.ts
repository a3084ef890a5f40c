import type { WebSocket } from 'ws'
import { connectionOf } from './tag.js'
import type { Connection } from './connection.js'

/** Shared by every socket (no closure per connection); `this` is the socket. */
function onPong (this: WebSocket): void {
  const connection = connectionOf(this)
  if (connection !== undefined) connection.awaitingPong = false
}

/**
 * One sweep for all sockets instead of a timer per socket: every `interval` ms each socket is
 * pinged; `timeout` ms later any socket that has not answered is terminated.
 */
export class Heartbeat {
  private sweepTimer: NodeJS.Timeout | null = null
  private deadlineTimer: NodeJS.Timeout | null = null

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
    const now = Date.now()
    for (const connection of this.connections()) {
      if (connection.awaitingPong) continue // its deadline is already pending
      connection.awaitingPong = true
      connection.pingedAt = now
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
    for (const connection of this.connections()) {
      if (!connection.awaitingPong) continue
      const due = connection.pingedAt + this.timeout
      if (due <= now) this.onDead(connection)
      else nextDue = Math.min(nextDue, due)
    }
    if (nextDue !== Infinity) this.scheduleDeadline(nextDue - now)
  }

  stop (): void {
    if (this.sweepTimer !== null) clearInterval(this.sweepTimer)
    if (this.deadlineTimer !== null) clearTimeout(this.deadlineTimer)
    this.sweepTimer = null
    this.deadlineTimer = null
  }
}
