import type { Connection } from '../connection/connection.js'
import { CloseCodes, ErrorCodes, ProtocolError } from '../errors.js'
import type { ResolvedMessageRateLimit } from '../options/rate-limits.js'

interface Window {
  start: number
  count: number
  /** Consecutive windows (including this one) in which the socket went over the limit. */
  strikes: number
  overThisWindow: boolean
}

/**
 * Fixed-window frame counter per socket. Every frame counts: the dispatcher runs pre-handlers
 * for frames that are not JSON objects too (label 'invalid'), before they get any reply, so a
 * flood of junk is refused and closed like any other. Over the limit a frame is refused with
 * RATE_LIMIT_EXCEEDED (the socket stays usable); a socket that is still over the limit after
 * `closeAfterWindows` consecutive windows is not a client having a burst but a flood: 1008.
 */
export class MessageRateLimiter {
  private readonly windows = new Map<string, Window>()

  constructor (private readonly options: ResolvedMessageRateLimit) {}

  /** Drops a socket's window once it is gone. */
  forget (clientId: string): void {
    this.windows.delete(clientId)
  }

  /** A dispatcher pre-handler. */
  readonly check = (connection: Connection): void => {
    const now = Date.now()
    let window = this.windows.get(connection.id)
    if (window === undefined) {
      window = { start: now, count: 0, strikes: 0, overThisWindow: false }
      this.windows.set(connection.id, window)
    }
    if (now - window.start >= this.options.windowMs) {
      const elapsedWindows = Math.floor((now - window.start) / this.options.windowMs)
      // A quiet window in between resets the strikes.
      window.strikes = window.overThisWindow && elapsedWindows === 1 ? window.strikes : 0
      window.start += elapsedWindows * this.options.windowMs
      window.count = 0
      window.overThisWindow = false
    }
    window.count++
    if (window.count <= this.options.maxRequests) return
    if (!window.overThisWindow) {
      window.overThisWindow = true
      window.strikes++
    }
    if (window.strikes >= this.options.closeAfterWindows) {
      connection.log.warn({ strikes: window.strikes }, 'realtime: message flood; closing with 1008')
      connection.close(CloseCodes.POLICY_VIOLATION, 'Rate limit exceeded repeatedly')
    }
    const retryAfterMs = window.start + this.options.windowMs - now
    throw new ProtocolError(ErrorCodes.RATE_LIMIT_EXCEEDED, 'Too many requests', { retryAfterMs, limit: this.options.maxRequests, windowMs: this.options.windowMs })
  }

  get tracked (): number {
    return this.windows.size
  }
}
