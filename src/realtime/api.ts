import type { ChannelEvent, ChannelInfo, ChannelStats, ChannelSummary, ChannelType, PresenceMember } from '../channels/types.js'
import type { ClientInfo } from '../connection/connection.js'
import type { ClientView, HubMetrics } from '../hub/local-hub.js'
import type { ServerInfo } from '../hub/server-state.js'
import type { InspectorSnapshot } from '../observability/inspector.js'
import type { ReadinessCheck } from '../observability/readiness.js'
import type { RealtimeUser } from '../types.js'
import type { IssuedTicket } from '../upgrade/types.js'

/** The events an application may listen to on `app.realtime` (the seed's, plus channels). */
export interface RealtimeEvents {
  'plugin.started': [{ port: number | null, host: string | null }]
  'server.started': [{ port: number | null, host: string | null }]
  'server.stopped': []
  'client.connected': [{ clientId: string, user: RealtimeUser | null }]
  'client.disconnected': [{ clientId: string, code: number, reason: string }]
  /** A connection joined a channel (every tab; presence pushes are per member). */
  'channel.joined': [ChannelEvent]
  /** A connection left a channel: `reason` is 'leave', 'disconnect' or 'forbidden' (a token refresh). */
  'channel.left': [ChannelEvent]
}

export type Listener<K extends keyof RealtimeEvents> = (...args: RealtimeEvents[K]) => void

/**
 * What `app.realtime` (and the `WebSocketPlugin` instance) offers an application: exactly the
 * documented API (docs/api.md), none of the internals the plugin's modules share.
 */
export interface RealtimeApi {
  getServerInfo (): ServerInfo
  getClients (): ClientInfo[]
  /** Sends `message` to every client (or those `filter` accepts); returns how many got it. */
  broadcast (message: object, filter?: (client: ClientView) => boolean): number
  sendToClient (clientId: string, message: object): boolean
  broadcastToResource (resource: string, message: object): number
  getMetrics (): HubMetrics
  /** A short-lived, single-use ticket for `?ticket=` (keeps long-lived tokens out of URLs). */
  issueTicket (user: RealtimeUser, options?: { ttlMs?: number }): IssuedTicket
  /** Closes every socket of `userId` with 1008 (on every instance); returns how many here. */
  disconnectUser (userId: string, reason?: string): number
  getChannel (name: string): ChannelInfo | null
  listChannels (filter?: { type?: ChannelType, prefix?: string }): ChannelSummary[]
  getChannelMembers (name: string): PresenceMember[]
  broadcastToChannel (name: string, message: Record<string, unknown>, excludeClientId?: string | null): number
  getChannelStats (): ChannelStats
  addReadinessCheck (check: ReadinessCheck): void
  /** False while the cluster bus is unreachable or this instance is catching up (always true alone). */
  busHealthy (): boolean
  /** This instance's connections, subscriptions, channels, rates and bus state, bounded (the inspector's data). */
  inspect (): InspectorSnapshot
  on<K extends keyof RealtimeEvents> (event: K, listener: Listener<K>): this
  once<K extends keyof RealtimeEvents> (event: K, listener: Listener<K>): this
  off<K extends keyof RealtimeEvents> (event: K, listener: Listener<K>): this
}
