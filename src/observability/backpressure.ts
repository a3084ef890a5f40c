import type { EventEmitter } from 'node:events'
import type { Connection, SendHooks } from '../connection/connection.js'
import { CloseCodes } from '../errors.js'
import type { LocalHub } from '../hub/local-hub.js'
import { encode, slowConsumerResyncFrame } from '../wire/frames.js'
import type { ResolvedOperations } from '../options/operations.js'

const OPEN = 1

interface Overflow {
  connection: Connection
  dropped: number
}

/**
 * The per-socket send limit. A socket whose queue (ws `bufferedAmount`: bytes handed to the
 * socket but not yet taken by the kernel) would grow past `maxBufferedBytes` is a consumer that
 * does not read fast enough; keeping on queueing for it is how one slow client exhausts memory.
 *
 * - `close`: the socket is closed with 1013 (try again later); the client reconnects and resumes
 *   with `subscribe {since}`.
 * - `drop`: frames are dropped (counted) until the queue drains; then, before anything else, the
 *   client gets `{type:'error', code:'RESYNC_REQUIRED', details:{reason:'slow_consumer', dropped,
 *   subscriptions}}` so it can resubscribe with `since` (or list again) and recover what it missed.
 */
export class SendPolicy implements SendHooks {
  readonly maxBufferedBytes: number
  private readonly overflows = new Map<string, Overflow>()

  constructor (
    private readonly options: ResolvedOperations['backpressure'],
    private readonly hub: LocalHub,
    private readonly observe: ((frame: string) => void) | null
  ) {
    this.maxBufferedBytes = options?.maxBufferedBytes ?? Infinity
    hub.signals.on('disconnected', (connection) => { this.overflows.delete(connection.id) })
  }

  overflow (connection: Connection, _frame: string): boolean {
    if (this.options?.policy !== 'drop') {
      this.hub.counters.slowConsumerCloses++
      connection.log.warn({ bufferedAmount: connection.socket.bufferedAmount }, 'realtime: slow consumer, closing with 1013')
      connection.close(CloseCodes.TRY_AGAIN_LATER, 'Slow consumer')
      return false
    }
    this.hub.counters.messagesDropped++
    const overflow = this.overflows.get(connection.id)
    if (overflow !== undefined) {
      overflow.dropped++
      return false
    }
    this.overflows.set(connection.id, { connection, dropped: 1 })
    connection.log.warn({ bufferedAmount: connection.socket.bufferedAmount }, 'realtime: slow consumer, dropping frames until its queue drains')
    // ws exposes no drain event; its net.Socket does. Without it (or if the queue drains below
    // the socket's high-water mark unnoticed) the notice still goes out before the next frame.
    const raw = (connection.socket as unknown as { _socket?: EventEmitter })._socket
    raw?.once('drain', () => { this.flush(connection) })
    return false
  }

  sent (connection: Connection, frame: string): void {
    if (this.overflows.size > 0 && this.overflows.has(connection.id)) this.flush(connection)
    this.observe?.(frame)
  }

  /** Sends the pending RESYNC_REQUIRED notice, ahead of the frame being sent (if any). */
  private flush (connection: Connection): void {
    const overflow = this.overflows.get(connection.id)
    if (overflow === undefined || connection.closed || connection.socket.readyState !== OPEN) return
    this.overflows.delete(connection.id)
    const subscriptions = [...connection.subscriptions.values()].map((s) => ({ subscriptionId: s.id, resource: s.resource }))
    const notice = encode(slowConsumerResyncFrame(overflow.dropped, subscriptions))
    // Past the bound on purpose: the queue has drained enough to take frames again, and the
    // notice must precede them.
    if (connection.sendUnbounded(notice)) this.observe?.(notice)
  }
}
