import type { Connection } from '../connection/connection.js'
import { ErrorCodes, ProtocolError } from '../errors.js'
import { hasExpired } from '../upgrade/user.js'
import {
  channelJoinedFrame, channelLeftFrame, channelMessageFrame, encodeMessage, presenceCountFrame, presenceMemberFrame, senderOf,
  type FrameOf
} from '../wire/frames.js'
import { authorizeJoin } from './authorize.js'
import { channelTypeOf } from './names.js'
import type { ResolvedChannelsOptions } from '../options/channels.js'
import { MemoryPresenceStore, type PresenceStore } from './presence-store.js'
import { LocalChannelRegistry } from './registry.js'
import { PresenceSummarizer, type PendingCounts } from './summary.js'
import type { ChannelEvent, ChannelInfo, ChannelStats, ChannelSummary, ChannelType, PresenceMember, UserInfo } from './types.js'

/**
 * Carries channel frames to the other instances of a cluster after local delivery (each
 * delivers to its own sockets). A single instance uses `localOnly`.
 */
export interface ChannelTransport {
  forward (channel: string, message: Record<string, unknown>, excludeClientId: string | null): void
}

export const localOnly: ChannelTransport = { forward: () => {} }

/** Where the service reports joins and leaves (the application's `channel.*` events). */
export interface ChannelEventSink {
  emit (event: 'channel.joined' | 'channel.left', payload: ChannelEvent): void
}

export interface ChannelServiceParts {
  readonly options: ResolvedChannelsOptions
  /** Membership; a cluster gives a replicated one. @default MemoryPresenceStore */
  readonly store?: PresenceStore
  /** @default localOnly */
  readonly transport?: ChannelTransport
  readonly events: ChannelEventSink
}

export type JoinReply = FrameOf<'channel:joined'>

function now (): string {
  return new Date().toISOString()
}

function memberId (connection: Connection): string {
  const id = connection.user?.id
  return typeof id === 'string' && id !== '' ? id : typeof id === 'number' ? String(id) : connection.id
}

/** userInfo is shown to every member: keep it small so one client cannot bloat every join. */
export function assertUserInfoSize (options: ResolvedChannelsOptions, userInfo: UserInfo | undefined): void {
  if (userInfo === undefined) return
  const size = Buffer.byteLength(JSON.stringify(userInfo))
  if (size > options.maxUserInfoSize) {
    throw new ProtocolError(ErrorCodes.INVALID_REQUEST, `userInfo is ${size} bytes; at most ${options.maxUserInfoSize} allowed`, {
      field: '/userInfo',
      maxUserInfoSize: options.maxUserInfoSize
    })
  }
}

function notInChannel (channel: string): ProtocolError {
  return new ProtocolError(ErrorCodes.NOT_IN_CHANNEL, `Not in channel "${channel}"`, { channel })
}

/**
 * Channels and presence for one hub: membership (through a replaceable PresenceStore), local
 * delivery, presence announcements, and the server-side API. All state changes after the join
 * guard are synchronous, so a socket closing mid-join can never leave a ghost member.
 */
export class ChannelService {
  readonly registry = new LocalChannelRegistry()
  readonly summarizer: PresenceSummarizer
  readonly options: ResolvedChannelsOptions
  readonly store: PresenceStore
  private readonly transport: ChannelTransport
  private readonly events: ChannelEventSink

  constructor (parts: ChannelServiceParts) {
    this.options = parts.options
    this.store = parts.store ?? new MemoryPresenceStore()
    this.transport = parts.transport ?? localOnly
    this.events = parts.events
    this.summarizer = new PresenceSummarizer(this.options.presenceSummaryInterval, (channel, counts) => { this.sendCount(channel, counts) })
    // Members other instances add or lose are announced here by the same rule as local ones.
    this.store.onRemoteChange?.((change, channel, member) => { this.announce(channel, change, member, null) })
  }

  /**
   * Sends a channel frame to the channel's sockets here except `excludeClientId`, then hands it
   * to the transport for the other instances; returns how many got it here.
   */
  push (channel: string, message: Record<string, unknown>, excludeClientId: string | null): number {
    const delivered = this.deliverLocal(channel, message, excludeClientId)
    this.transport.forward(channel, message, excludeClientId)
    return delivered
  }

  /**
   * Encodes once and sends the same frame to every local socket of the channel. Typed loosely:
   * frames from other instances arrive here untyped (they were built with src/wire/frames.ts there).
   */
  deliverLocal (channel: string, message: Record<string, unknown>, excludeClientId: string | null): number {
    let frame: string | null = null
    let sent = 0
    for (const connection of this.registry.connections(channel)) {
      if (connection.id === excludeClientId) continue
      frame ??= encodeMessage(message)
      if (connection.send(frame)) sent++
    }
    return sent
  }

  async join (connection: Connection, channel: string, userInfo: UserInfo | undefined): Promise<JoinReply | null> {
    const type = channelTypeOf(channel)
    assertUserInfoSize(this.options, userInfo)
    await authorizeJoin(this.options, channel, type, connection.user, userInfo ?? {}, connection.log)
    // Went away, or its token expired, while the guard ran: no membership to clean up later.
    if (connection.closed || hasExpired(connection.user)) return null
    const id = memberId(connection)
    let member: PresenceMember
    if (this.registry.has(channel, connection.id)) {
      member = this.store.memberOf(channel, connection.id) as PresenceMember
    } else {
      if (this.registry.channelCountOf(connection.id) >= this.options.maxChannelsPerConnection) {
        throw new ProtocolError(ErrorCodes.LIMIT_EXCEEDED, `A connection may be in at most ${this.options.maxChannelsPerConnection} channels`)
      }
      if (!this.store.hasMember(channel, id) && this.store.memberCount(channel) >= this.options.maxMembers) {
        throw new ProtocolError(ErrorCodes.LIMIT_EXCEEDED, `Channel "${channel}" is full`, { channel, maxMembers: this.options.maxMembers })
      }
      this.registry.add(channel, connection)
      const result = this.store.join(channel, type, { id, clientId: connection.id, userInfo: userInfo ?? {}, joinedAt: now() })
      member = result.member
      this.events.emit('channel.joined', { channel, channelType: type, clientId: connection.id, member })
      if (result.added) userInfo = undefined // the new member already carries it
      if (result.added && type === 'presence') this.announce(channel, 'joined', member, connection.id)
    }
    // Joining again (or from another tab) with different userInfo is an update, never leave+join.
    if (userInfo !== undefined && type === 'presence') member = this.applyUpdate(connection, channel, member, userInfo)
    return this.joinReply(channel, type, member)
  }

  private joinReply (channel: string, type: ChannelType, me: PresenceMember): JoinReply {
    if (type !== 'presence') return channelJoinedFrame(channel, type)
    const memberCount = this.store.memberCount(channel)
    // Above the threshold the list is left out: members follow presence:count instead.
    const members = memberCount <= this.options.presenceSummaryThreshold ? this.store.members(channel) : undefined
    return channelJoinedFrame(channel, type, { memberCount, members, me })
  }

  leave (connection: Connection, channel: string): void {
    if (!this.removeMembership(connection.id, channel, 'leave')) throw notInChannel(channel)
  }

  /** Called when a socket goes (clean close or killed by the heartbeat). */
  disconnect (clientId: string): void {
    for (const channel of this.registry.channelsOf(clientId)) this.removeMembership(clientId, channel, 'disconnect')
  }

  /**
   * After a token refresh: every channel of the connection is authorized again for its (new)
   * user with the same check as `join`, so a dropped role cannot keep a private channel. Each
   * channel now refused is left (presence members see member_left once, as for `leave`) and
   * the client is told with `{type:'channel:left', channel, reason:'FORBIDDEN'}`. Returns the
   * channels left.
   */
  async reauthorize (connection: Connection): Promise<string[]> {
    const left: string[] = []
    for (const channel of this.registry.channelsOf(connection.id)) {
      const userInfo = this.store.memberOf(channel, connection.id)?.userInfo ?? {}
      try {
        await authorizeJoin(this.options, channel, channelTypeOf(channel), connection.user, userInfo, connection.log)
        continue
      } catch (error) {
        if (!(error instanceof ProtocolError)) throw error
      }
      // Closed while the guard ran: the disconnect cleanup removes every membership anyway.
      if (connection.closed) return left
      if (!this.removeMembership(connection.id, channel, 'forbidden')) continue
      connection.sendFrame(channelLeftFrame(channel, ErrorCodes.FORBIDDEN))
      left.push(channel)
    }
    return left
  }

  private removeMembership (clientId: string, channel: string, reason: NonNullable<ChannelEvent['reason']>): boolean {
    if (!this.registry.remove(channel, clientId)) return false
    const result = this.store.leave(channel, clientId)
    if (result === null) return true
    const type = channelTypeOf(channel)
    this.events.emit('channel.left', { channel, channelType: type, clientId, member: result.member, reason })
    if (result.removed && type === 'presence') this.announce(channel, 'left', result.member, clientId)
    return true
  }

  /** `channel:message`: to the channel's other sockets; returns how many got it. */
  message (connection: Connection, channel: string, event: string, data: unknown): number {
    if (!this.registry.has(channel, connection.id)) throw notInChannel(channel)
    return this.push(channel, channelMessageFrame(channel, event, data, senderOf(connection.id, connection.user)), connection.id)
  }

  update (connection: Connection, channel: string, userInfo: UserInfo): PresenceMember {
    if (!this.registry.has(channel, connection.id)) throw notInChannel(channel)
    if (channelTypeOf(channel) !== 'presence') {
      throw new ProtocolError(ErrorCodes.INVALID_REQUEST, 'channel:update is only for presence-* channels', { field: '/channel' })
    }
    return this.applyUpdate(connection, channel, this.store.memberOf(channel, connection.id) as PresenceMember, userInfo)
  }

  /** Merges userInfo; announces `presence:member_updated` only when something changed. */
  private applyUpdate (connection: Connection, channel: string, current: PresenceMember, userInfo: UserInfo): PresenceMember {
    const merged = { ...current.userInfo, ...userInfo }
    if (JSON.stringify(merged) === JSON.stringify(current.userInfo)) return current
    assertUserInfoSize(this.options, merged)
    const member = this.store.update(channel, connection.id, userInfo, now()) as PresenceMember
    this.push(channel, presenceMemberFrame('updated', channel, member), connection.id)
    return member
  }

  /**
   * The one announce rule, for local and remote members alike: per-member events for small
   * presence channels, a periodic `presence:count` for big ones.
   */
  private announce (channel: string, change: 'joined' | 'left', member: PresenceMember, excludeClientId: string | null): void {
    if (channelTypeOf(channel) !== 'presence') return
    const after = this.store.memberCount(channel)
    const size = change === 'joined' ? after : after + 1
    if (size > this.options.presenceSummaryThreshold) {
      this.summarizer.record(channel, change)
      return
    }
    this.push(channel, presenceMemberFrame(change, channel, member), excludeClientId)
  }

  private sendCount (channel: string, counts: PendingCounts): void {
    if (this.store.channel(channel) === null) return // everyone left before the summary was due
    this.push(channel, presenceCountFrame(channel, this.store.memberCount(channel), counts), null)
  }

  // --- server API (delegated from the hub) ---------------------------------------------------

  getChannel (name: string): ChannelInfo | null {
    const stored = this.store.channel(name)
    if (stored === null) return null
    const info: ChannelInfo = { ...stored }
    if (stored.type === 'presence') info.members = this.store.members(name)
    return info
  }

  listChannels (filter: { type?: ChannelType, prefix?: string } = {}): ChannelSummary[] {
    return this.store.channels()
      .filter((c) => (filter.type === undefined || c.type === filter.type) && (filter.prefix === undefined || c.name.startsWith(filter.prefix)))
      .map(({ name, type, memberCount }) => ({ name, type, memberCount }))
  }

  getChannelMembers (name: string): PresenceMember[] {
    return this.store.members(name)
  }

  getChannelStats (): ChannelStats {
    const stats: ChannelStats = { channels: 0, totalMembers: 0, totalConnections: 0, byType: { public: 0, private: 0, presence: 0 }, clients: this.registry.clientCount }
    for (const channel of this.store.channels()) {
      stats.channels++
      stats.totalMembers += channel.memberCount
      stats.totalConnections += channel.connectionCount
      stats.byType[channel.type]++
    }
    return stats
  }

  close (): void {
    this.summarizer.close()
  }
}
