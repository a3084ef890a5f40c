import type { ChannelService } from '../channels/service.js'
import type { ChannelInfo, ChannelStats, ChannelSummary, ChannelType, PresenceMember } from '../channels/types.js'
import type { ClientInfo } from '../connection/connection.js'
import type { ChangeStream } from '../hub/change-stream.js'
import type { ClientView, HubMetrics, LocalHub } from '../hub/local-hub.js'
import type { Relay } from '../hub/relay.js'
import type { ServerInfo, ServerState } from '../hub/server-state.js'
import type { InspectorSnapshot } from '../observability/inspector.js'
import type { ReadinessCheck, ReadinessRegistry } from '../observability/readiness.js'
import type { ResolvedCoreOptions } from '../options/core.js'
import type { RealtimeUser } from '../types.js'
import type { IssuedTicket } from '../upgrade/types.js'
import type { Signals } from '../util/signals.js'
import { encodeMessage } from '../wire/frames.js'
import type { Listener, RealtimeApi, RealtimeEvents } from './api.js'

/** Issues `?ticket=` tickets (src/upgrade/tickets.ts). */
export interface TicketIssuer {
  issue (user: RealtimeUser, ttlMs?: number): IssuedTicket
}

/** Everything the façade delegates to, built by plugin.ts before it. */
export interface RealtimeParts {
  readonly options: ResolvedCoreOptions
  readonly hub: LocalHub
  readonly stream: ChangeStream
  readonly state: ServerState
  /** The application's events (client, channel and server lifecycle). */
  readonly events: Signals<RealtimeEvents>
  /** Repeats broadcasts on the other instances (`noRelay` alone). */
  readonly relay: Relay
  readonly channels: ChannelService
  readonly tickets: TicketIssuer
  readonly readiness: ReadinessRegistry
  /** False while the cluster bus is unreachable or this instance is catching up (always true alone). */
  readonly busHealthy: () => boolean
  /** The inspector's picture of this instance (src/observability/inspector-install.ts). */
  readonly inspect: () => InspectorSnapshot
}

const partsOf = new WeakMap<RealtimeApi, RealtimeParts>()

/** The parts behind an `app.realtime` (for tests and tools; not part of the public API). */
export function realtimeParts (api: RealtimeApi): RealtimeParts {
  const parts = partsOf.get(api)
  if (parts === undefined) throw new TypeError('not an s3db-realtime API object')
  return parts
}

/**
 * `app.realtime`: the documented API and nothing else. Every method delegates to the part
 * that owns the job; calls that reach every instance go through the relay after local delivery.
 */
export class Realtime implements RealtimeApi {
  readonly #parts: RealtimeParts

  constructor (parts: RealtimeParts) {
    this.#parts = parts
    partsOf.set(this, parts)
    const { hub, events } = parts
    // Registered last: the plugin's own listeners (channel cleanup, limits) run before the app's.
    hub.signals.on('connected', (connection) => { events.emit('client.connected', { clientId: connection.id, user: connection.user }) })
    hub.signals.on('disconnected', (connection, code, reason) => { events.emit('client.disconnected', { clientId: connection.id, code, reason }) })
  }

  getServerInfo (): ServerInfo {
    const { state, hub, options, stream } = this.#parts
    return {
      isRunning: state.running,
      port: state.port,
      host: state.host,
      path: options.path,
      clients: hub.connections.size,
      subscriptions: hub.subscriptionCount,
      resources: [...options.resources.keys()],
      startedAt: state.startedAt?.toISOString() ?? null,
      uptime: state.uptime,
      epoch: stream.epoch
    }
  }

  getClients (): ClientInfo[] {
    return [...this.#parts.hub.connections.values()].map((connection) => connection.info())
  }

  /**
   * Sends `message` to every client (or those `filter` accepts); returns how many got it here.
   * Clustered, a call without `filter` also reaches the other instances' clients (a filter
   * function cannot travel, so a filtered broadcast stays on this instance).
   */
  broadcast (message: object, filter?: (client: ClientView) => boolean): number {
    if (filter === undefined) this.#parts.relay.send({ kind: 'broadcast', message })
    return this.#parts.hub.broadcast(encodeMessage(message), filter)
  }

  /** True when the client is on this instance and got it; clustered, other instances are asked too. */
  sendToClient (clientId: string, message: object): boolean {
    const { hub, relay } = this.#parts
    if (!hub.connections.has(clientId)) relay.send({ kind: 'sendToClient', clientId, message })
    return hub.sendToClient(clientId, encodeMessage(message))
  }

  /** Sends `message` once to every client holding a subscription on `resource` (on every instance). */
  broadcastToResource (resource: string, message: object): number {
    this.#parts.relay.send({ kind: 'broadcastToResource', resource, message })
    return this.#parts.hub.broadcastToResource(resource, encodeMessage(message))
  }

  getMetrics (): HubMetrics {
    return this.#parts.hub.metrics()
  }

  issueTicket (user: RealtimeUser, options?: { ttlMs?: number }): IssuedTicket {
    return this.#parts.tickets.issue(user, options?.ttlMs)
  }

  /**
   * Closes every socket of `userId` with 1008, on every instance of a cluster; returns how many
   * this instance closed (the others close theirs when the call reaches them).
   */
  disconnectUser (userId: string, reason = 'Disconnected by the server'): number {
    if (typeof userId !== 'string' || userId === '') throw new TypeError('disconnectUser(userId): userId must be a non-empty string')
    this.#parts.relay.send({ kind: 'disconnectUser', userId, reason })
    return this.#parts.hub.disconnectUser(userId, reason)
  }

  getChannel (name: string): ChannelInfo | null {
    return this.#parts.channels.getChannel(name)
  }

  listChannels (filter: { type?: ChannelType, prefix?: string } = {}): ChannelSummary[] {
    return this.#parts.channels.listChannels(filter)
  }

  getChannelMembers (name: string): PresenceMember[] {
    return this.#parts.channels.getChannelMembers(name)
  }

  /** Sends `message` to the channel's members (except `excludeClientId`); returns how many got it. */
  broadcastToChannel (name: string, message: Record<string, unknown>, excludeClientId: string | null = null): number {
    return this.#parts.channels.push(name, message, excludeClientId)
  }

  getChannelStats (): ChannelStats {
    return this.#parts.channels.getChannelStats()
  }

  /** Adds a check to GET /health/ready (throws InvalidOptionError on a bad or duplicate check). */
  addReadinessCheck (check: ReadinessCheck): void {
    this.#parts.readiness.add(check)
  }

  busHealthy (): boolean {
    return this.#parts.busHealthy()
  }

  /** Connections, subscriptions, channels, rates and bus state of this instance, bounded (docs/api.md). */
  inspect (): InspectorSnapshot {
    return this.#parts.inspect()
  }

  on<K extends keyof RealtimeEvents> (event: K, listener: Listener<K>): this {
    this.#parts.events.on(event, listener)
    return this
  }

  once<K extends keyof RealtimeEvents> (event: K, listener: Listener<K>): this {
    this.#parts.events.once(event, listener)
    return this
  }

  off<K extends keyof RealtimeEvents> (event: K, listener: Listener<K>): this {
    this.#parts.events.off(event, listener)
    return this
  }
}
