import type { FastifyBaseLogger } from 'fastify'
import type { WebSocket } from 'ws'
import type { RealtimeUser } from '../types.js'
import type { Subscription } from '../hub/subscription-index.js'

const OPEN = 1

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
  readonly subscriptions = new Map<string, Subscription>()
  readonly log: FastifyBaseLogger
  user: RealtimeUser | null
  /** Set when a ping is sent, cleared by the pong; still set at the deadline means dead. */
  awaitingPong = false
  pingedAt = 0
  closed = false
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
    this.socket.send(frame)
    this.counters.messagesSent++
    return true
  }

  sendMessage (message: object): boolean {
    return this.send(JSON.stringify(message))
  }

  close (code: number, reason: string): void {
    if (this.socket.readyState === OPEN) this.socket.close(code, reason)
  }

  info (): ClientInfo {
    return {
      id: this.id,
      user: this.user,
      subscriptions: [...this.subscriptions.values()].map((s) => ({
        subscriptionId: s.id,
        resource: s.resource,
        filter: s.filter.filter,
        events: [...s.events]
      })),
      connectedAt: this.connectedAt.toISOString(),
      metadata: this.metadata
    }
  }
}
