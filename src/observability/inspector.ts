import { userRoles } from '../access/access.js'
import { protectedNames, protectedPathOf, type ProtectedNames } from '../access/protected-paths.js'
import type { ChannelService } from '../channels/service.js'
import type { ChannelType } from '../channels/types.js'
import type { Connection, Subscription } from '../connection/connection.js'
import type { ChangeStream } from '../hub/change-stream.js'
import type { LocalHub } from '../hub/local-hub.js'
import type { ServerState } from '../hub/server-state.js'
import type { Filter } from '../types.js'
import { TopN, topN } from '../util/top-n.js'
import type { InspectorHistory, InspectorPoint } from './inspector-history.js'

export type { InspectorPoint } from './inspector-history.js'

/** One listed connection: who and since when, never a credential or the user object. */
export interface InspectedConnection {
  clientId: string
  /** `user.id`; null for an anonymous socket. */
  userId: string | null
  roles: string[]
  origin: string | null
  connectedAt: string
  /** Seconds since the socket opened. */
  age: number
  subscriptions: number
  /** Its first channels (at most CHANNELS_PER_CONNECTION); `channelCount` is the total. */
  channels: string[]
  channelCount: number
  /** Accepted without credentials under `auth.inBand`, not yet authenticated. */
  awaitingAuth: boolean
}

/** One listed subscription, with its effective filter (values of protected paths never shown). */
export interface InspectedSubscription {
  subscriptionId: string
  clientId: string
  userId: string | null
  /** The effective filter (the client's AND the guard's); long lists and strings are cut. */
  filter: Record<string, unknown>
  /** A guard forced part of the filter. */
  forced: boolean
  matchesNothing: boolean
  events: string[]
  /** Changes routed to it since it was made. */
  matched: number
}

export interface InspectedResource {
  name: string
  /** Position of the last change and the numbering it belongs to. */
  seq: number
  epoch: string
  subscriptions: number
  /** Subscriptions checked against every change (no equality or `$in` to index them by). */
  scanned: number
  /** `subscriptions` has more than `items`. */
  truncated: boolean
  /** The most-matched first, at most `limit`. */
  items: InspectedSubscription[]
}

export interface InspectedChannel {
  name: string
  type: ChannelType
  members: number
}

/** What `app.realtime.inspect()` returns and the inspector page shows (docs/operations.md#inspector). */
export interface InspectorSnapshot {
  at: string
  /** Most rows per list. */
  limit: number
  node: {
    /** This instance's id on the bus; null alone. */
    nodeId: string | null
    clustered: boolean
    /** False while the bus is unreachable or this instance is catching up (always true alone). */
    busHealthy: boolean
    running: boolean
    path: string
    startedAt: string | null
    uptime: number
    epoch: string
  }
  totals: { connections: number, subscriptions: number, channels: number, channelMembers: number, inspectors: number }
  /** Running totals since start (the same counters as `getMetrics()`, plus fan-out deliveries). */
  counters: {
    connectionsAccepted: number
    disconnections: number
    connectionsRejected: number
    messagesReceived: number
    messagesSent: number
    events: number
    deliveries: number
    messagesDropped: number
    slowConsumerCloses: number
    busErrors: number
    errors: number
  }
  /** The newest point of `history` (per-second rates); null before two samples. */
  rates: InspectorPoint | null
  connections: { total: number, truncated: boolean, items: InspectedConnection[] }
  resources: InspectedResource[]
  channels: { total: number, truncated: boolean, items: InspectedChannel[] }
  /** Oldest first; pushes to a watching socket carry only the newest point. */
  history: InspectorPoint[]
}

/** What a snapshot is read from, built once by the plugin. */
export interface InspectorSources {
  readonly hub: LocalHub
  readonly stream: ChangeStream
  readonly state: ServerState
  readonly channels: ChannelService
  readonly history: InspectorHistory
  readonly busHealthy: () => boolean
  readonly nodeId: string | null
  readonly path: string
}

const CHANNELS_PER_CONNECTION = 10
const LIST_VALUES = 10
const STRING_CHARS = 100

/** A filter value cut to a size fit for display: lists to LIST_VALUES, strings to STRING_CHARS. */
function bounded (value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return value.length > STRING_CHARS ? `${value.slice(0, STRING_CHARS)}…` : value
  if (Array.isArray(value)) {
    const shown = value.slice(0, LIST_VALUES).map((v) => bounded(v, depth + 1))
    return value.length > LIST_VALUES ? [...shown, `… ${value.length - LIST_VALUES} more`] : shown
  }
  if (value !== null && typeof value === 'object') {
    if (depth > 2) return '…'
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, bounded(inner, depth + 1)]))
  }
  return value
}

const NO_PROTECTED = protectedNames([], null)

/**
 * The filter as shown: a path that reaches a protected field shows '[protected]' instead of
 * its condition. Client filters on protected paths are refused at subscribe; a guard's forced
 * filter is not, and its values are the server's.
 */
export function displayFilter (filter: Filter, names: ProtectedNames): Record<string, unknown> {
  const shown: Record<string, unknown> = {}
  for (const [path, condition] of Object.entries(filter)) {
    shown[path] = names.paths.length > 0 && protectedPathOf(path, names) !== null ? '[protected]' : bounded(condition)
  }
  return shown
}

function text (value: unknown, max: number): string | null {
  return typeof value === 'string' ? value.slice(0, max) : null
}

/** Most subscriptions first, then the oldest. */
function busiestConnection (a: Connection, b: Connection): number {
  return b.subscriptions.size - a.subscriptions.size || a.connectedAt.getTime() - b.connectedAt.getTime()
}

/**
 * Builds the inspector's picture of this instance. Every list is cut to `limit` rows (picked
 * without sorting the whole set), so the answer stays small on a server with 10,000 sockets;
 * the totals stay exact.
 */
export class Inspector {
  constructor (private readonly sources: InspectorSources, readonly limit: number) {}

  snapshot (options: { fullHistory: boolean, inspectors: number }): InspectorSnapshot {
    const { hub, stream, state, history, channels } = this.sources
    const points = history.points()
    const stats = channels.getChannelStats()
    const channelList = channels.listChannels()
    const now = Date.now()
    return {
      at: new Date(now).toISOString(),
      limit: this.limit,
      node: {
        nodeId: this.sources.nodeId,
        clustered: this.sources.nodeId !== null,
        busHealthy: this.sources.busHealthy(),
        running: state.running,
        path: this.sources.path,
        startedAt: state.startedAt?.toISOString() ?? null,
        uptime: state.uptime,
        epoch: stream.epoch
      },
      totals: {
        connections: hub.connections.size,
        subscriptions: hub.subscriptionCount,
        channels: stats.channels,
        channelMembers: stats.totalMembers,
        inspectors: options.inspectors
      },
      counters: {
        connectionsAccepted: hub.counters.connections,
        disconnections: hub.counters.disconnections,
        connectionsRejected: hub.counters.connectionsRejected,
        messagesReceived: hub.counters.messagesReceived,
        messagesSent: hub.counters.messagesSent,
        events: hub.counters.events,
        deliveries: hub.fanOutStats.deliveries,
        messagesDropped: hub.counters.messagesDropped,
        slowConsumerCloses: hub.counters.slowConsumerCloses,
        busErrors: hub.counters.busErrors,
        errors: hub.counters.errors
      },
      rates: points.at(-1) ?? null,
      connections: {
        total: hub.connections.size,
        truncated: hub.connections.size > this.limit,
        items: topN(hub.connections.values(), this.limit, busiestConnection).map((c) => this.connection(c, now))
      },
      resources: [...hub.indexes.keys()].map((name) => this.resource(name)),
      channels: {
        total: channelList.length,
        truncated: channelList.length > this.limit,
        items: topN(channelList, this.limit, (a, b) => b.memberCount - a.memberCount || (a.name < b.name ? -1 : 1))
          .map(({ name, type, memberCount }) => ({ name, type, members: memberCount }))
      },
      history: options.fullHistory ? points : points.slice(-1)
    }
  }

  private connection (connection: Connection, now: number): InspectedConnection {
    const registry = this.sources.channels.registry
    const user = connection.user
    return {
      clientId: connection.id,
      userId: user === null ? null : String(user.id),
      roles: userRoles(user).slice(0, 10).map((role) => role.slice(0, 64)),
      origin: text(connection.metadata.origin, 200),
      connectedAt: connection.connectedAt.toISOString(),
      age: Math.max(0, Math.round((now - connection.connectedAt.getTime()) / 1000)),
      subscriptions: connection.subscriptions.size,
      channels: registry.channelsOf(connection.id).slice(0, CHANNELS_PER_CONNECTION),
      channelCount: registry.channelCountOf(connection.id),
      awaitingAuth: connection.awaitingAuth
    }
  }

  private resource (name: string): InspectedResource {
    const { hub, stream } = this.sources
    const index = hub.indexes.get(name)
    const names = hub.resources.get(name)?.protectedNames ?? NO_PROTECTED
    const top = new TopN<Subscription>(this.limit, (a, b) => b.matched - a.matched || (a.id < b.id ? -1 : 1))
    index?.forEach((subscription) => { top.offer(subscription) })
    const listed = top.items
    return {
      name,
      seq: stream.lastSeq(name),
      epoch: stream.epochOf(name),
      subscriptions: top.offered,
      scanned: index?.scanned ?? 0,
      truncated: top.offered > listed.length,
      items: listed.map((s) => ({
        subscriptionId: s.id,
        clientId: s.connection.id,
        userId: s.connection.user === null ? null : String(s.connection.user.id),
        filter: displayFilter(s.filter.filter, names),
        forced: s.filter.forced !== undefined,
        matchesNothing: s.filter.impossible,
        events: [...s.events],
        matched: s.matched
      }))
    }
  }
}
