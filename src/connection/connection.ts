import type { FastifyBaseLogger } from 'fastify'
import type { WebSocket } from 'ws'
import { CloseCodes } from '../errors.js'
import type { ChangeType, Filter, RealtimeUser } from '../types.js'
import type { CompiledFilter } from '../access/filter.js'
import type { FieldSelection } from '../access/field-selection.js'
import { encode, encodeMessage, type ServerFrame } from '../wire/frames.js'
import { sendText } from './prepared-frame.js'
import { SubscriptionTable } from './subscription-table.js'

const OPEN = 1
const CLOSED = 3

/**
 * How long a peer has, after the server closed its socket, to complete the close handshake
 * before the socket is destroyed. Without it a client that stops reading keeps the socket
 * half-open for ws's own close timeout (30 s).
 */
export const CLOSE_GRACE_MS = 1000

/** What a connection reports about itself through `getClients()`. */
export interface ClientInfo {
  id: string
  user: RealtimeUser | null
  subscriptions: Array<{ subscriptionId: string, resource: string, filter: Record<string, unknown>, events: string[] }>
  connectedAt: string
  metadata: Record<string, unknown>
}

/** Counters the connection updates on the hub; kept as a tiny interface to avoid a cycle. */
export interface SendCounters {
  messagesSent: number
}

/**
 * Backpressure and send observation (src/observability/backpressure.ts). `overflow` decides
 * what happens to a frame that would push the socket's queue past `maxBufferedBytes`
 * (drop it, or close the socket); `sent` sees every frame written.
 */
export interface SendHooks {
  readonly maxBufferedBytes: number
  overflow (connection: Connection, frame: string): boolean
  sent (connection: Connection, frame: string): void
}

/**
 * One WebSocket client. Every outgoing frame goes through `send`, the single place where
 * closed sockets and (later) backpressure are handled.
 */
export class Connection {
  readonly id: string
  readonly socket: WebSocket
  /** Epoch ms of the accept; `connectedAt` builds the Date on demand (~100 bytes per idle socket). */
  private readonly connectedAtMs = Date.now()
  readonly metadata: Record<string, unknown>
  readonly subscriptions = new SubscriptionTable<Subscription>()
  readonly log: FastifyBaseLogger
  user: RealtimeUser | null
  /**
   * The heartbeat sweep whose ping this socket has not answered yet (0: none); cleared by the
   * pong, still set at the deadline means dead. A sweep number, not a time: a small integer sits
   * in the object, a millisecond timestamp would be boxed (16 bytes more per idle socket).
   */
  pendingPing = 0
  /**
   * True once the server decided to close this socket (`close`) or the socket went: no frame
   * of it is handled and nothing is sent to it from then on.
   */
  closed = false
  /** Accepted without credentials under `auth.required` + `inBand`: no broadcasts until it authenticates. */
  awaitingAuth = false
  /** Set by acceptConnection from the plugin's backpressure/metrics options. */
  sendHooks: SendHooks | null = null
  private readonly counters: SendCounters

  constructor (params: {
    id: string
    socket: WebSocket
    user: RealtimeUser | null
    metadata: Record<string, unknown>
    log: FastifyBaseLogger
    counters: SendCounters
  }) {
    this.id = params.id
    this.socket = params.socket
    this.user = params.user
    this.metadata = params.metadata
    this.log = params.log
    this.counters = params.counters
  }

  get connectedAt (): Date {
    return new Date(this.connectedAtMs)
  }

  /** Sends an already-encoded frame. Returns false when the socket can no longer take it. */
  send (frame: string): boolean {
    if (this.closed || this.socket.readyState !== OPEN) return false
    const hooks = this.sendHooks
    if (hooks !== null) {
      // frame.length (UTF-16 units) stands in for bytes: the bound is approximate by design.
      if (this.socket.bufferedAmount + frame.length > hooks.maxBufferedBytes) return hooks.overflow(this, frame)
      hooks.sent(this, frame)
    }
    sendText(this.socket, frame)
    this.counters.messagesSent++
    return true
  }

  /** Sends a frame built by src/wire/frames.ts. */
  sendFrame (frame: ServerFrame): boolean {
    return this.send(encode(frame))
  }

  /** Sends an app's own message (`broadcast`, `sendToClient`) as given. */
  sendMessage (message: object): boolean {
    return this.send(encodeMessage(message))
  }

  /**
   * Writes a frame past the send hooks: for the backpressure notice, which must go out ahead of
   * the frame being sent even though the queue is still near its bound. Counted like any frame.
   */
  sendUnbounded (frame: string): boolean {
    if (this.closed || this.socket.readyState !== OPEN) return false
    sendText(this.socket, frame)
    this.counters.messagesSent++
    return true
  }

  /**
   * Every server-decided close goes through here (policy 1008, 4001 expiry, 1013 slow consumer
   * or full input queue, 1009, disconnectUser, shutdown 1001). The connection counts as closed
   * at once: the dispatcher drops its queued and future frames, whether or not the peer ever
   * reads the close frame. A peer that has not completed the handshake within CLOSE_GRACE_MS is
   * cut off; shutdown (1001) keeps its own, longer deadline (drainTimeout).
   */
  close (code: number, reason: string): void {
    if (this.closed) return
    this.closed = true
    const socket = this.socket
    if (socket.readyState === OPEN) socket.close(code, reason)
    if (code === CloseCodes.GOING_AWAY || socket.readyState === CLOSED) return
    const timer = setTimeout(() => { socket.terminate() }, CLOSE_GRACE_MS)
    timer.unref()
    socket.once('close', () => { clearTimeout(timer) })
  }

  info (): ClientInfo {
    return {
      id: this.id,
      user: this.user,
      subscriptions: [...this.subscriptions.values()].map((s) => ({
        subscriptionId: s.id,
        resource: s.resource,
        // A copy: the filter is shared with other subscriptions (and frozen).
        filter: structuredClone(s.filter.filter),
        events: [...s.events]
      })),
      connectedAt: this.connectedAt.toISOString(),
      metadata: this.metadata
    }
  }
}

/** One `subscribe` of one connection; the hub indexes it by its filter (src/hub/subscription-index.ts). */
export interface Subscription {
  readonly id: string
  readonly connection: Connection
  readonly resource: string
  /**
   * The filter as the client sent it (used to find it again on `unsubscribe`). While the
   * subscription is in the hub, this and `filter` are the hub's shared, frozen copies
   * (src/access/filter-interning.ts): never hand them to app code to keep.
   */
  clientFilter: Filter
  /** Client filter AND the guard's forced filter. */
  filter: CompiledFilter
  readonly events: ReadonlySet<ChangeType>
  /**
   * `fields` asked on subscribe, plus `id` and the filter's paths (so the client can route the
   * event); absent: whole records. Updates that change none of them are not sent.
   */
  readonly fields?: FieldSelection
  /**
   * `delta: true`: an update of a record that stays in the filter is sent as the paths that
   * changed in the subscriber's view (docs/protocol.md, "Delta updates").
   */
  readonly delta?: boolean
  /**
   * Changes routed to this subscription (as an event, a `left` or a `reset`), counted by fan-out
   * with one integer increment; the inspector reports it.
   */
  matched: number
}
