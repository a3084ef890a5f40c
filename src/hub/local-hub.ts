import type { FastifyBaseLogger } from 'fastify'
import { FilterInterner } from '../access/filter-interning.js'
import { publishReaches } from '../access/visibility.js'
import type { Connection, Subscription } from '../connection/connection.js'
import { CloseCodes } from '../errors.js'
import type { ResolvedResource } from '../access/resource.js'
import type { RealtimeUser } from '../types.js'
import { Signals } from '../util/signals.js'
import { fanOutChange, type FanOutStats } from './fanout.js'
import type { ChangeEvent } from './history.js'
import { SubscriptionIndex } from './subscription-index.js'

/** The counters the seed's `getMetrics()` documents, plus a few that operators ask for. */
export interface HubCounters {
  connections: number
  disconnections: number
  messagesReceived: number
  messagesSent: number
  broadcasts: number
  events: number
  errors: number
  /** Frames dropped by the `drop` backpressure policy. */
  messagesDropped: number
  /** Sockets closed with 1013 by the `close` backpressure policy. */
  slowConsumerCloses: number
  /** Upgrades refused (maxConnections reached, or shutting down). */
  connectionsRejected: number
  /** Bus failures (publish/subscribe errors). */
  busErrors: number
}

/** What `getMetrics()` returns: the counters and two gauges. */
export interface HubMetrics extends HubCounters {
  activeConnections: number
  subscriptions: number
}

/** What `broadcast(msg, filter)` hands the filter for each client. */
export interface ClientView {
  readonly id: string
  readonly user: RealtimeUser | null
  readonly metadata: Record<string, unknown>
  readonly connectedAt: Date
}

/** What the hub tells the plugin's other modules (never the application directly). */
export interface HubSignals {
  connected: [Connection]
  disconnected: [Connection, number, string]
  /** A change was written to local sockets (metrics: delivery counts). */
  delivered: [ChangeEvent, number]
}

/**
 * The sockets of this instance and what they subscribed to: the connection registry, one
 * subscription index per resource, and every way of sending to local sockets (change fan-out,
 * broadcasts, published messages, closing a user's sockets). It knows nothing of
 * authentication, channels, numbering or the cluster: they call it, never the other way round.
 */
export class LocalHub {
  readonly connections = new Map<string, Connection>()
  readonly indexes = new Map<string, SubscriptionIndex>()
  readonly counters: HubCounters = {
    connections: 0,
    disconnections: 0,
    messagesReceived: 0,
    messagesSent: 0,
    broadcasts: 0,
    events: 0,
    errors: 0,
    messagesDropped: 0,
    slowConsumerCloses: 0,
    connectionsRejected: 0,
    busErrors: 0
  }

  readonly fanOutStats: FanOutStats = { candidates: 0, matches: 0, deliveries: 0, encodings: 0 }
  /**
   * The compiled filters subscriptions share (per-subscription memory at 10k sockets): taken
   * when a subscription is added, given back when it goes, here and nowhere else.
   */
  readonly filters = new FilterInterner()
  readonly signals: Signals<HubSignals>

  constructor (readonly resources: ReadonlyMap<string, ResolvedResource>, readonly log: FastifyBaseLogger) {
    for (const name of resources.keys()) this.indexes.set(name, new SubscriptionIndex())
    this.signals = new Signals((error, signal) => {
      this.counters.errors++
      this.log.error({ err: error, event: signal }, 'realtime: an event listener threw')
    })
  }

  addConnection (connection: Connection): void {
    this.connections.set(connection.id, connection)
    this.counters.connections++
    this.signals.emit('connected', connection)
  }

  removeConnection (connection: Connection, code: number, reason: string): void {
    if (!this.connections.delete(connection.id)) return
    connection.closed = true
    for (const subscription of connection.subscriptions.values()) {
      this.indexes.get(subscription.resource)?.remove(subscription)
      this.filters.release(subscription)
    }
    connection.subscriptions.clear()
    this.counters.disconnections++
    this.signals.emit('disconnected', connection, code, reason)
  }

  /** Adds it under its id (a no-op when it is already in); its filters become the shared copies. */
  addSubscription (subscription: Subscription): void {
    const subscriptions = subscription.connection.subscriptions
    if (subscriptions.get(subscription.id) === subscription) return
    const shared = this.filters.acquire(subscription)
    subscription.filter = shared.filter
    subscription.clientFilter = shared.clientFilter
    subscriptions.add(subscription)
    this.indexes.get(subscription.resource)?.add(subscription)
  }

  removeSubscription (subscription: Subscription): void {
    // Only what is in: a second removal must not give its shared filter back twice.
    if (subscription.connection.subscriptions.get(subscription.id) !== subscription) return
    subscription.connection.subscriptions.delete(subscription.id)
    this.indexes.get(subscription.resource)?.remove(subscription)
    this.filters.release(subscription)
  }

  get subscriptionCount (): number {
    let count = 0
    for (const index of this.indexes.values()) count += index.size
    return count
  }

  /** Sends a numbered change to every matching local subscription; returns how many got it. */
  deliver (event: ChangeEvent): number {
    const index = this.indexes.get(event.resource)
    const resource = this.resources.get(event.resource)
    if (index === undefined || resource === undefined) return 0
    if (event.type !== 'reset' && !resource.events.has(event.type)) return 0
    this.counters.events++
    const sent = fanOutChange(event, index, resource.project, this.fanOutStats)
    this.signals.emit('delivered', event, sent)
    return sent
  }

  /** Sends an encoded frame to every client (or those `filter` accepts); returns how many got it. */
  broadcast (frame: string, filter?: (client: ClientView) => boolean): number {
    let sent = 0
    for (const connection of this.connections.values()) {
      if (connection.awaitingAuth || (filter !== undefined && !filter(connection))) continue
      if (connection.send(frame)) sent++
    }
    this.counters.broadcasts++
    return sent
  }

  /** True when the client is connected here and the frame was sent. */
  sendToClient (clientId: string, frame: string): boolean {
    return this.connections.get(clientId)?.send(frame) ?? false
  }

  /** Sends a frame once to every connection holding a subscription on `resource`. */
  broadcastToResource (resource: string, frame: string): number {
    this.counters.broadcasts++
    return this.sendToSubscribers(resource, frame)
  }

  /** One frame per connection subscribed to `resource` (a RESYNC notice, a resource broadcast). */
  sendToSubscribers (resource: string, frame: string): number {
    const recipients = new Set<Connection>()
    this.indexes.get(resource)?.forEach((subscription) => recipients.add(subscription.connection))
    let sent = 0
    for (const connection of recipients) if (connection.send(frame)) sent++
    return sent
  }

  /**
   * Sends a client's published `message` (encoded as `frame`) once to every connection whose
   * subscriptions it reaches, except the sender; returns how many got it. On guarded
   * resources it reaches only subscriptions whose filter it matches (src/access/visibility.ts).
   */
  deliverPublished (resource: string, frame: string, excludeClientId: string | null, message: unknown): number {
    const recipients = new Set<Connection>()
    const config = this.resources.get(resource)
    this.indexes.get(resource)?.forEach((subscription) => {
      if (subscription.connection.id !== excludeClientId && publishReaches(config, subscription.filter, message)) recipients.add(subscription.connection)
    })
    let delivered = 0
    for (const connection of recipients) if (connection.send(frame)) delivered++
    return delivered
  }

  /** Closes every socket of `userId` with 1008; returns how many were closed. */
  disconnectUser (userId: string, reason: string): number {
    let closed = 0
    for (const connection of this.connections.values()) {
      if (connection.user === null || connection.user.id !== userId || connection.closed) continue
      // A close reason may hold at most 123 bytes.
      connection.close(CloseCodes.POLICY_VIOLATION, Buffer.from(reason, 'utf8').subarray(0, 120).toString('utf8'))
      closed++
    }
    return closed
  }

  metrics (): HubMetrics {
    return { ...this.counters, activeConnections: this.connections.size, subscriptions: this.subscriptionCount }
  }
}
