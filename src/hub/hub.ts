import { EventEmitter } from 'node:events'
import type { FastifyBaseLogger } from 'fastify'
import type { ClientInfo, Connection } from '../connection/connection.js'
import type { ResolvedCoreOptions } from '../options/core.js'
import type { ChangeType, RealtimeUser, RecordData } from '../types.js'
import type { ChangeEvent } from './history.js'
import type { SubscriptionIndex } from './subscription-index.js'
import type { Subscription } from '../connection/subscription.js'
import type { FanOutStats } from './fanout.js'
import { LocalHub, type HubCounters, type HubMetrics, type ClientView } from './local-hub.js'
import { ChangeStream, type RawChange } from './change-stream.js'
import { ServerState, type ServerInfo } from './server-state.js'
import type { HistorySource } from './replay.js'
import type { IssuedTicket } from '../upgrade/types.js'
import type { RealtimeEvents } from '../realtime/api.js'
import { ReadinessRegistry, type ReadinessCheck } from '../observability/readiness.js'
import type { ChannelService } from '../channels/service.js'
import type { ChannelInfo, ChannelStats, ChannelSummary, ChannelType, PresenceMember } from '../channels/types.js'

/** A `broadcast*` call to repeat on the other instances (see `Hub.relay`). */
export type RelayedCall =
  | { kind: 'broadcast', message: object }
  | { kind: 'broadcastToResource', resource: string, message: object }
  | { kind: 'sendToClient', clientId: string, message: object }
  | { kind: 'disconnectUser', userId: string, reason: string }
  /** A client's `publish` (src/protocol/handlers/publish.ts): the encoded frame, minus its sender. */
  | { kind: 'publish', resource: string, frame: string, excludeClientId: string | null, message: unknown }
export type HubRelay = (call: RelayedCall) => void

export type { RawChange, HubMetrics, ClientView, ServerInfo }

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
  /** Transitional: the parts the Hub is being split into (see docs/architecture.md). */
  readonly local: LocalHub
  readonly stream: ChangeStream
  /** Set by the cluster: where `since` reads what this instance's memory lost (null alone). */
  historySource: HistorySource | null = null
  get connections (): Map<string, Connection> { return this.local.connections }
  get indexes (): Map<string, SubscriptionIndex> { return this.local.indexes }
  /**
   * Identifies this history: a `since` from another epoch cannot be resumed. With a bus the
   * cluster coordinator (src/cluster) replaces it with the cluster-wide epoch.
   */
  get epoch (): string { return this.stream.epoch }
  set epoch (epoch: string) { this.stream.setEpoch(epoch) }
  /**
   * Set by the cluster coordinator: forwards `broadcast*`/`sendToClient` calls to the other
   * instances (the hub itself delivers locally first). Null on a single instance.
   */
  relay: HubRelay | null = null
  /** False while the cluster bus is unreachable or this instance is catching up (always true alone). */
  busHealthy: () => boolean = () => true
  get counters (): HubCounters { return this.local.counters }

  /** Checks behind GET /health/ready; modules add theirs with `addReadinessCheck`. */
  readonly readiness = new ReadinessRegistry()

  get fanOutStats (): FanOutStats { return this.local.fanOutStats }
  readonly state = new ServerState()
  get running (): boolean { return this.state.running }
  set running (value: boolean) { this.state.running = value }
  get port (): number | null { return this.state.port }
  set port (value: number | null) { this.state.port = value }
  get host (): string | null { return this.state.host }
  set host (value: string | null) { this.state.host = value }
  get startedAt (): Date | null { return this.state.startedAt }
  set startedAt (value: Date | null) { this.state.startedAt = value }
  constructor (readonly options: ResolvedCoreOptions, readonly log: FastifyBaseLogger) {
    super()
    this.local = new LocalHub(options.resources, log)
    this.stream = new ChangeStream(this.local, options.resources.keys(), options.historySize)
    this.local.signals.on('connected', (connection) => { this.notify('client.connected', { clientId: connection.id, user: connection.user }) })
    this.local.signals.on('disconnected', (connection, code, reason) => { this.notify('client.disconnected', { clientId: connection.id, code, reason }) })
    this.local.signals.on('delivered', (event, sent) => { this.notify('delivered', event, sent) })
    this.stream.signals.on('change', (event) => { this.notify('change', event) })
  }

  addConnection (connection: Connection): void {
    this.local.addConnection(connection)
  }

  removeConnection (connection: Connection, code: number, reason: string): void {
    this.local.removeConnection(connection, code, reason)
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
    this.local.addSubscription(subscription)
  }

  removeSubscription (subscription: Subscription): void {
    this.local.removeSubscription(subscription)
  }

  lastSeq (resource: string): number {
    return this.stream.lastSeq(resource)
  }

  historySince (resource: string, seq: number): ChangeEvent[] | null {
    return this.stream.historySince(resource, seq)
  }

  publishChange (raw: RawChange): ChangeEvent {
    return this.stream.publish(raw)
  }

  acceptChange (event: ChangeEvent): void {
    this.stream.accept(event)
  }

  resetHistory (resource: string, seq: number): void {
    this.stream.reset(resource, seq)
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
    return this.local.broadcast(JSON.stringify(message), filter)
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
    return this.local.broadcastToResource(resource, JSON.stringify(message))
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
    return this.local.disconnectUser(userId, reason)
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
    return this.local.metrics()
  }
}
