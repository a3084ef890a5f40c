/** Channel kinds, decided by the name's prefix (see names.ts). */
export type ChannelType = 'public' | 'private' | 'presence'

/** Free-form member data a client attaches on `join` / `channel:update` (a JSON object). */
export type UserInfo = Record<string, unknown>

/**
 * One member of a channel. A member is a user (`id`), not a socket: the same user joining from
 * two tabs is one member; `clientId` is one of that user's connections in the channel (the
 * oldest still there). Anonymous clients (public channels only) are members by clientId.
 */
export interface PresenceMember {
  id: string
  clientId: string
  userInfo: UserInfo
  joinedAt: string
  updatedAt?: string
}

/** What `hub.getChannel(name)` returns. `members` only for presence channels. */
export interface ChannelInfo {
  name: string
  type: ChannelType
  memberCount: number
  connectionCount: number
  createdAt: string
  members?: PresenceMember[]
}

/** One row of `hub.listChannels()`. */
export interface ChannelSummary {
  name: string
  type: ChannelType
  memberCount: number
}

/** What `hub.getChannelStats()` returns; all zero when nothing is joined. */
export interface ChannelStats {
  /** Channels with at least one member. */
  channels: number
  /** Members summed over channels (a user in two channels counts twice). */
  totalMembers: number
  /** Connection-channel pairs (two tabs of one member count twice). */
  totalConnections: number
  byType: Record<ChannelType, number>
  /** Connections that are in at least one channel. */
  clients: number
}

/** Hub events for channel membership; emitted per connection. */
export interface ChannelEvent {
  channel: string
  channelType: ChannelType
  clientId: string
  member: PresenceMember
  /**
   * Why the connection left (`channel.left` only): 'forbidden' when a token refresh took away
   * the right to be in the channel.
   */
  reason?: 'leave' | 'disconnect' | 'forbidden'
}
