import { EventEmitter } from 'node:events'
import { randomUUID } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import type { ClientInfo, Connection } from '../connection/connection.js'
import type { ResolvedCoreOptions } from '../options.js'
import type { ChangeType, RealtimeUser, RecordData } from '../types.js'
import { ResourceHistory, type ChangeEvent } from './history.js'
import { SubscriptionIndex } from './subscription-index.js'
import type { Subscription } from '../connection/subscription.js'
import { fanOutChange, type FanOutStats } from './fanout.js'
import { closeUserConnections } from '../upgrade/session.js'
import type { IssuedTicket } from '../upgrade/types.js'
import type { RealtimeEvents } from '../api.js'
import { ReadinessRegistry, type ReadinessCheck } from '../observability/readiness.js'
import type { ChannelService } from '../channels/service.js'
import type { ChannelInfo, ChannelStats, ChannelSummary, ChannelType, PresenceMember } from '../channels/types.js'

/** A change as the bridge reports it, before the hub numbers it. */
export interface RawChange {
  resource: string
  type: ChangeType | 'reset'
  id: string | null
  before: RecordData | null
  after: RecordData | null
}

/** A `broadcast*` call to repeat on the other instances (see `Hub.relay`). */
export type RelayedCall =
  | { kind: 'broadcast', message: object }
  | { kind: 'broadcastToResource', resource: string, message: object }
  | { kind: 'sendToClient', clientId: string, message: object }
  | { kind: 'disconnectUser', userId: string, reason: string }
  /** A client's `publish` (src/protocol/handlers/publish.ts): the encoded frame, minus its sender. */
  | { kind: 'publish', resource: string, frame: string, excludeClientId: string | null, message: unknown }
export type HubRelay = (call: RelayedCall) => void

/** The counters the seed's `getMetrics()` documents, plus a few that operators ask for. */
export interface HubMetrics {
  connections: number
  activeConnections: number
  disconnections: number
  messagesReceived: number
  messagesSent: number
  broadcasts: number
  events: number
  errors: number
  subscriptions: number
  /** Frames dropped by the `drop` backpressure policy. */
  messagesDropped: number
  /** Sockets closed with 1013 by the `close` backpressure policy. */
  slowConsumerCloses: number
  /** Upgrades refused (maxConnections reached, or shutting down). */
  connectionsRejected: number
  /** Bus failures (publish/subscribe errors); bus implementations increment it. */
  busErrors: number
}

/** What `broadcast(msg, filter)` hands the filter for each client. */
export interface ClientView {
  readonly id: string
  readonly user: RealtimeUser | null
  readonly metadata: Record<string, unknown>
  readonly connectedAt: Date
}

export interface ServerInfo {
  isRunning: boolean
  port: number | null
  host: string | null
  path: string
  clients: number
  subscriptions: number
  resources: string[]
  startedAt: string | null
  uptime: number
  epoch: string
}

/** The public events plus the internal signals the plugin's modules exchange. */
export interface HubEvents extends RealtimeEvents {
  'change': [ChangeEvent]
  /** After a change was written to local sockets (metrics: delivery latency). */
  'delivered': [ChangeEvent, number]
}

/**
 * The realtime hub (`fastify.realtime`): connections, subscription indexes, per-resource
 * sequence numbers and history, and the broadcast API of the seed's API Reference.
 */
export class Hub extends EventEmitter<HubEvents> {
  readonly connections = new Map<string, Connection>()
  readonly indexes = new Map<string, SubscriptionIndex>()
  /**
   * Identifies this history: a `since` from another epoch cannot be resumed. With a bus the
   * cluster coordinator (src/cluster) replaces it with the cluster-wide epoch.
   */
  epoch: string = randomUUID()
  /**
   * Set by the cluster coordinator: forwards `broadcast*`/`sendToClient` calls to the other
   * instances (the hub itself delivers locally first). Null on a single instance.
   */
  relay: HubRelay | null = null
  /** False while the cluster bus is unreachable or this instance is catching up (always true alone). */
  busHealthy: () => boolean = () => true
  readonly counters = {
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

  /** Checks behind GET /health/ready; modules add theirs with `addReadinessCheck`. */
  readonly readiness = new ReadinessRegistry()

  readonly fanOutStats: FanOutStats = { candidates: 0, matches: 0, deliveries: 0 }
  running = false
  port: number | null = null
  host: string | null = null
  startedAt: Date | null = null
  private readonly seqs = new Map<string, number>()
  private readonly histories = new Map<string, ResourceHistory>()

  constructor (readonly options: ResolvedCoreOptions, readonly log: FastifyBaseLogger) {
    super()
    for (const name of options.resources.keys()) {
      this.indexes.set(name, new SubscriptionIndex())
      this.seqs.set(name, 0)
      this.histories.set(name, new ResourceHistory(options.historySize))
    }
  }

  addConnection (connection: Connection): void {
    this.connections.set(connection.id, connection)
    this.counters.connections++
    this.notify('client.connected', { clientId: connection.id, user: connection.user })
  }

  removeConnection (connection: Connection, code: number, reason: string): void {
    if (!this.connections.delete(connection.id)) return
    connection.closed = true
    for (const subscription of connection.subscriptions.values()) this.indexes.get(subscription.resource)?.remove(subscription)
    connection.subscriptions.clear()
    this.counters.disconnections++
    this.notify('client.disconnected', { clientId: connection.id, code, reason })
  }

  /**
   * Emits to each listener on its own: a listener that throws (application code) is logged and
   * counted, and neither stops the other listeners (channel cleanup listens here too) nor
   * escapes into a socket or s3db event handler, where it would crash the process.
   */
  notify<K extends keyof HubEvents> (event: K, ...args: HubEvents[K]): void {
    for (const listener of this.rawListeners(event) as Array<(...a: HubEvents[K]) => void>) {
      try {
        listener(...args)
      } catch (error) {
        this.counters.errors++
        this.log.error({ err: error, event }, 'realtime: an event listener threw')
      }
    }
  }

  addSubscription (subscription: Subscription): void {
    subscription.connection.subscriptions.set(subscription.id, subscription)
    this.indexes.get(subscription.resource)?.add(subscription)
  }

  removeSubscription (subscription: Subscription): void {
    subscription.connection.subscriptions.delete(subscription.id)
    this.indexes.get(subscription.resource)?.remove(subscription)
  }

  lastSeq (resource: string): number {
    return this.seqs.get(resource) ?? 0
  }

  /** Events after `seq` still in history (oldest first), or null when there is a gap. */
  historySince (resource: string, seq: number): ChangeEvent[] | null {
    return this.histories.get(resource)?.since(seq, this.lastSeq(resource)) ?? null
  }

  /** Numbers a change, records it, and delivers it to every matching subscription. */
  publishChange (raw: RawChange): ChangeEvent {
    const event: ChangeEvent = { ...raw, seq: this.lastSeq(raw.resource) + 1, timestamp: new Date().toISOString() }
    this.acceptChange(event)
    return event
  }

  /**
   * Records and delivers a change that is already numbered (by this hub, or cluster-wide by
   * the coordinator, which calls this in seq order).
   */
  acceptChange (event: ChangeEvent): void {
    this.seqs.set(event.resource, event.seq)
    this.histories.get(event.resource)?.push(event)
    this.deliverChange(event)
    this.notify('change', event)
  }

  /** Restarts a resource's numbering at `seq` with empty history (after an epoch change). */
  resetHistory (resource: string, seq: number): void {
    if (!this.seqs.has(resource)) return
    this.seqs.set(resource, seq)
    this.histories.set(resource, new ResourceHistory(this.options.historySize))
  }

  /** Delivers an already-numbered change to local subscribers. */
  deliverChange (event: ChangeEvent): number {
    const index = this.indexes.get(event.resource)
    const resource = this.options.resources.get(event.resource)
    if (index === undefined || resource === undefined) return 0
    if (event.type !== 'reset' && !resource.events.has(event.type)) return 0
    this.counters.events++
    const sent = fanOutChange(event, index, resource.project, this.fanOutStats)
    this.notify('delivered', event, sent)
    return sent
  }

  /** Adds a check to GET /health/ready (throws InvalidOptionError on a bad or duplicate check). */
  addReadinessCheck (check: ReadinessCheck): void {
    this.readiness.add(check)
  }

  // --- the seed's API Reference -------------------------------------------------------------

  getServerInfo (): ServerInfo {
    let subscriptions = 0
    for (const index of this.indexes.values()) subscriptions += index.size
    return {
      isRunning: this.running,
      port: this.port,
      host: this.host,
      path: this.options.path,
      clients: this.connections.size,
      subscriptions,
      resources: [...this.options.resources.keys()],
      startedAt: this.startedAt?.toISOString() ?? null,
      uptime: this.startedAt === null ? 0 : Math.round((Date.now() - this.startedAt.getTime()) / 1000),
      epoch: this.epoch
    }
  }

  getClients (): ClientInfo[] {
    return [...this.connections.values()].map((connection) => connection.info())
  }

  /**
   * Sends `message` to every client (or those `filter` accepts); returns how many got it here.
   * Clustered, a call without `filter` also reaches the other instances' clients (a filter
   * function cannot travel, so a filtered broadcast stays on this instance).
   */
  broadcast (message: object, filter?: (client: ClientView) => boolean): number {
    if (filter === undefined) this.relay?.({ kind: 'broadcast', message })
    return this.broadcastLocal(message, filter)
  }

  /** `broadcast` on this instance only (the cluster coordinator delivers remote calls with it). */
  broadcastLocal (message: object, filter?: (client: ClientView) => boolean): number {
    const frame = JSON.stringify(message)
    let sent = 0
    for (const connection of this.connections.values()) {
      if (connection.awaitingAuth || (filter !== undefined && !filter(connection))) continue
      if (connection.send(frame)) sent++
    }
    this.counters.broadcasts++
    return sent
  }

  /** True when the client is on this instance and got it; clustered, other instances are asked too. */
  sendToClient (clientId: string, message: object): boolean {
    const connection = this.connections.get(clientId)
    if (connection === undefined) this.relay?.({ kind: 'sendToClient', clientId, message })
    return connection?.sendMessage(message) ?? false
  }

  /** Sends `message` once to every client holding a subscription on `resource` (on every instance). */
  broadcastToResource (resource: string, message: object): number {
    this.relay?.({ kind: 'broadcastToResource', resource, message })
    return this.broadcastToResourceLocal(resource, message)
  }

  broadcastToResourceLocal (resource: string, message: object): number {
    const frame = JSON.stringify(message)
    const recipients = new Set<Connection>()
    this.indexes.get(resource)?.forEach((subscription) => recipients.add(subscription.connection))
    let sent = 0
    for (const connection of recipients) if (connection.send(frame)) sent++
    this.counters.broadcasts++
    return sent
  }

  // --- authentication (src/upgrade) ---------------------------------------------------------

  /** Set by src/upgrade at register. */
  ticketIssuer: ((user: RealtimeUser, options?: { ttlMs?: number }) => IssuedTicket) | null = null

  /** A short-lived, single-use ticket for `?ticket=` (keeps long-lived tokens out of URLs). */
  issueTicket (user: RealtimeUser, options?: { ttlMs?: number }): IssuedTicket {
    if (this.ticketIssuer === null) throw new Error('issueTicket: the plugin is not registered yet')
    return this.ticketIssuer(user, options)
  }

  /**
   * Closes every socket of `userId` with 1008, on every instance of a cluster; returns how many
   * this instance closed (the others close theirs when the call reaches them).
   */
  disconnectUser (userId: string, reason = 'Disconnected by the server'): number {
    if (typeof userId !== 'string' || userId === '') throw new TypeError('disconnectUser(userId): userId must be a non-empty string')
    this.relay?.({ kind: 'disconnectUser', userId, reason })
    return this.disconnectUserLocal(userId, reason)
  }

  disconnectUserLocal (userId: string, reason: string): number {
    return closeUserConnections(this.connections.values(), userId, reason)
  }

  // --- channels (src/channels/service.ts; empty answers when channels are not installed) ------

  /** Set by the channels module at register. */
  channels: ChannelService | null = null

  getChannel (name: string): ChannelInfo | null {
    return this.channels?.getChannel(name) ?? null
  }

  listChannels (filter: { type?: ChannelType, prefix?: string } = {}): ChannelSummary[] {
    return this.channels?.listChannels(filter) ?? []
  }

  getChannelMembers (name: string): PresenceMember[] {
    return this.channels?.getChannelMembers(name) ?? []
  }

  /** Sends `message` to the channel's members (except `excludeClientId`); returns how many got it. */
  broadcastToChannel (name: string, message: Record<string, unknown>, excludeClientId: string | null = null): number {
    return this.channels?.push(name, message, excludeClientId) ?? 0
  }

  getChannelStats (): ChannelStats {
    return this.channels?.getChannelStats() ?? { channels: 0, totalMembers: 0, totalConnections: 0, byType: { public: 0, private: 0, presence: 0 }, clients: 0 }
  }

  getMetrics (): HubMetrics {
    let subscriptions = 0
    for (const index of this.indexes.values()) subscriptions += index.size
    return { ...this.counters, activeConnections: this.connections.size, subscriptions }
  }
}
