import type { ChannelType, PresenceMember, UserInfo } from './types.js'

/** The first connection of a user makes it a member (`added`); later tabs just attach to it. */
export interface JoinResult {
  member: PresenceMember
  added: boolean
}

/** The last connection of a user leaving removes the member (`removed`). */
export interface LeaveResult {
  member: PresenceMember
  removed: boolean
}

export interface StoredChannel {
  name: string
  type: ChannelType
  createdAt: string
  memberCount: number
  connectionCount: number
}

/**
 * Channel membership state, kept behind this interface so a cluster-wide implementation (for
 * example one replicated through Redis) can replace the in-memory one. Contract:
 * - members are users keyed by `id`; each member has one or more connections (`clientId`s);
 * - a channel exists while it has at least one connection, and disappears with the last one;
 * - methods are synchronous: a replicated store answers from its local view and replicates in
 *   the background, which keeps join/leave free of await points (and so free of races with a
 *   socket closing mid-join);
 * - returned members are snapshots: the store never mutates an object it has handed out.
 */
export interface PresenceStore {
  /** Adds connection `clientId` of user `id` (idempotent for the same clientId). */
  join (channel: string, type: ChannelType, entry: PresenceMember): JoinResult
  /** Removes connection `clientId`; null when it was not in the channel. */
  leave (channel: string, clientId: string): LeaveResult | null
  /** Shallow-merges `userInfo` into the member of connection `clientId`; null when not in it. */
  update (channel: string, clientId: string, userInfo: UserInfo, at: string): PresenceMember | null
  /** The member a connection belongs to, or null. */
  memberOf (channel: string, clientId: string): PresenceMember | null
  /** Whether user `id` is already a member (a second tab does not count against caps). */
  hasMember (channel: string, id: string): boolean
  members (channel: string): PresenceMember[]
  memberCount (channel: string): number
  channel (channel: string): StoredChannel | null
  channels (): StoredChannel[]
  /**
   * A replicated store reports members that other instances added or lost (a user's first
   * tab anywhere, its last one gone, a dead node's members), so the channel service announces
   * them to its own sockets. The single-node store has none.
   */
  onRemoteChange? (listener: RemoteMemberListener): void
}

export type RemoteMemberListener = (change: 'joined' | 'left', channel: string, member: PresenceMember) => void

interface MemberEntry {
  member: PresenceMember
  /** Connections of this user in the channel, oldest first (Set keeps insertion order). */
  clients: Set<string>
}

interface ChannelState {
  type: ChannelType
  createdAt: string
  members: Map<string, MemberEntry>
  /** clientId -> member id */
  byClient: Map<string, string>
}

/** The single-node store. */
export class MemoryPresenceStore implements PresenceStore {
  private readonly state = new Map<string, ChannelState>()

  join (channel: string, type: ChannelType, entry: PresenceMember): JoinResult {
    let state = this.state.get(channel)
    if (state === undefined) {
      state = { type, createdAt: new Date().toISOString(), members: new Map(), byClient: new Map() }
      this.state.set(channel, state)
    }
    const existing = state.members.get(entry.id)
    if (existing !== undefined) {
      existing.clients.add(entry.clientId)
      state.byClient.set(entry.clientId, entry.id)
      return { member: existing.member, added: false }
    }
    const member: PresenceMember = { ...entry, userInfo: { ...entry.userInfo } }
    state.members.set(entry.id, { member, clients: new Set([entry.clientId]) })
    state.byClient.set(entry.clientId, entry.id)
    return { member, added: true }
  }

  leave (channel: string, clientId: string): LeaveResult | null {
    const state = this.state.get(channel)
    const id = state?.byClient.get(clientId)
    if (state === undefined || id === undefined) return null
    state.byClient.delete(clientId)
    const entry = state.members.get(id) as MemberEntry
    entry.clients.delete(clientId)
    let removed = false
    if (entry.clients.size === 0) {
      state.members.delete(id)
      removed = true
    } else if (entry.member.clientId === clientId) {
      // The member stays (another tab is still here); it now answers to its oldest connection.
      entry.member = { ...entry.member, clientId: entry.clients.values().next().value as string }
    }
    if (state.byClient.size === 0) this.state.delete(channel)
    return { member: entry.member, removed }
  }

  update (channel: string, clientId: string, userInfo: UserInfo, at: string): PresenceMember | null {
    const state = this.state.get(channel)
    const id = state?.byClient.get(clientId)
    if (state === undefined || id === undefined) return null
    const entry = state.members.get(id) as MemberEntry
    entry.member = { ...entry.member, userInfo: { ...entry.member.userInfo, ...userInfo }, updatedAt: at }
    return entry.member
  }

  memberOf (channel: string, clientId: string): PresenceMember | null {
    const state = this.state.get(channel)
    const id = state?.byClient.get(clientId)
    return id === undefined ? null : state?.members.get(id)?.member ?? null
  }

  hasMember (channel: string, id: string): boolean {
    return this.state.get(channel)?.members.has(id) ?? false
  }

  members (channel: string): PresenceMember[] {
    const state = this.state.get(channel)
    return state === undefined ? [] : [...state.members.values()].map((entry) => entry.member)
  }

  memberCount (channel: string): number {
    return this.state.get(channel)?.members.size ?? 0
  }

  channel (channel: string): StoredChannel | null {
    const state = this.state.get(channel)
    return state === undefined ? null : describe(channel, state)
  }

  channels (): StoredChannel[] {
    return [...this.state].map(([name, state]) => describe(name, state))
  }
}

function describe (name: string, state: ChannelState): StoredChannel {
  return { name, type: state.type, createdAt: state.createdAt, memberCount: state.members.size, connectionCount: state.byClient.size }
}
