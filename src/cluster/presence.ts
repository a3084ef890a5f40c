import { MemoryPresenceStore, type JoinResult, type LeaveResult, type PresenceStore, type RemoteMemberListener, type StoredChannel } from '../channels/presence-store.js'
import type { ChannelType, PresenceMember, UserInfo } from '../channels/types.js'

/** What one node tells the others about its own memberships. */
export type PresenceOp =
  | { op: 'join', channel: string, type: ChannelType, clientId: string, member: PresenceMember }
  | { op: 'leave', channel: string, clientId: string }
  | { op: 'update', channel: string, member: PresenceMember }
  | { op: 'alive' }
  | { op: 'hello' }
  | { op: 'bye' }
  | { op: 'state', to: string, channels: RemoteChannelState[] }

export interface RemoteChannelState {
  channel: string
  type: ChannelType
  createdAt: string
  members: Array<{ member: PresenceMember, clients: string[] }>
}

interface RemoteMember {
  member: PresenceMember
  clients: Set<string>
}

interface RemoteChannel {
  type: ChannelType
  createdAt: string
  members: Map<string, RemoteMember>
}

/** Another node's memberships as last heard, and when it was last heard from. */
interface RemoteNode {
  lastSeen: number
  channels: Map<string, RemoteChannel>
}

/**
 * The PresenceStore for a cluster: this node's memberships live in a MemoryPresenceStore and
 * are announced on the bus; other nodes' arrive the same way. Answers are the union across
 * nodes (a member is a user id, whichever nodes its tabs are on), from the local view, so the
 * interface stays synchronous. Each node renews a lease by heartbeat; a node not heard from for
 * 3 leases is dropped and its members leave (reported through `onRemoteChange`, once, on every surviving node).
 */
export class ClusterPresenceStore implements PresenceStore {
  private readonly local = new MemoryPresenceStore()
  /** channel -> this node's clientIds in it -> member id (the memory store keeps this private). */
  private readonly localClients = new Map<string, Map<string, string>>()
  private readonly nodes = new Map<string, RemoteNode>()
  /**
   * channel -> member id -> how many views hold it (this node's store is one, each remote node
   * another): the union's size and membership in O(1), however many join at once.
   */
  private readonly holders = new Map<string, Map<string, number>>()

  constructor (
    private readonly send: (op: PresenceOp) => void
  ) {}

  /**
   * The channel service listens here (onRemoteChange). Each node tells only its own sockets about joins and leaves it learns
   * from other nodes, from its own view's transitions (absent -> present, present -> absent), so
   * every socket hears of each change once, even when two nodes race (two tabs leaving at once).
   */
  private remoteChange: RemoteMemberListener = () => {}

  onRemoteChange (listener: RemoteMemberListener): void {
    this.remoteChange = listener
  }

  join (channel: string, type: ChannelType, entry: PresenceMember): JoinResult {
    const elsewhere = this.remoteHas(channel, entry.id)
    const result = this.local.join(channel, type, entry)
    let clients = this.localClients.get(channel)
    if (clients === undefined) this.localClients.set(channel, clients = new Map())
    clients.set(entry.clientId, entry.id)
    if (result.added) this.hold(channel, entry.id, 1)
    this.send({ op: 'join', channel, type, clientId: entry.clientId, member: result.member })
    return { member: result.member, added: result.added && !elsewhere }
  }

  leave (channel: string, clientId: string): LeaveResult | null {
    const result = this.local.leave(channel, clientId)
    if (result === null) return null
    const clients = this.localClients.get(channel)
    clients?.delete(clientId)
    if (clients?.size === 0) this.localClients.delete(channel)
    if (result.removed) this.hold(channel, result.member.id, -1)
    this.send({ op: 'leave', channel, clientId })
    return { member: result.member, removed: result.removed && !this.remoteHas(channel, result.member.id) }
  }

  update (channel: string, clientId: string, userInfo: UserInfo, at: string): PresenceMember | null {
    const member = this.local.update(channel, clientId, userInfo, at)
    if (member !== null) this.send({ op: 'update', channel, member })
    return member
  }

  memberOf (channel: string, clientId: string): PresenceMember | null {
    return this.local.memberOf(channel, clientId)
  }

  hasMember (channel: string, id: string): boolean {
    return this.holders.get(channel)?.has(id) === true
  }

  members (channel: string): PresenceMember[] {
    const byId = new Map<string, PresenceMember>()
    for (const node of this.nodes.values()) {
      for (const [id, entry] of node.channels.get(channel)?.members ?? []) if (!byId.has(id)) byId.set(id, entry.member)
    }
    for (const member of this.local.members(channel)) byId.set(member.id, member)
    return [...byId.values()]
  }

  memberCount (channel: string): number {
    return this.holders.get(channel)?.size ?? 0
  }

  channel (name: string): StoredChannel | null {
    const local = this.local.channel(name)
    let type = local?.type
    let createdAt = local?.createdAt
    let connections = local?.connectionCount ?? 0
    for (const node of this.nodes.values()) {
      const remote = node.channels.get(name)
      if (remote === undefined) continue
      type ??= remote.type
      if (createdAt === undefined || remote.createdAt < createdAt) createdAt = remote.createdAt
      for (const entry of remote.members.values()) connections += entry.clients.size
    }
    if (type === undefined || createdAt === undefined) return null
    return { name, type, createdAt, memberCount: this.memberCount(name), connectionCount: connections }
  }

  channels (): StoredChannel[] {
    const names = new Set(this.local.channels().map((c) => c.name))
    for (const node of this.nodes.values()) for (const name of node.channels.keys()) names.add(name)
    return [...names].map((name) => this.channel(name)).filter((c): c is StoredChannel => c !== null)
  }

  /** This node's memberships, for a node that just said hello. */
  snapshot (): RemoteChannelState[] {
    return this.local.channels().map((c) => ({
      channel: c.name,
      type: c.type,
      createdAt: c.createdAt,
      members: this.local.members(c.name).map((member) => ({ member, clients: this.clientsOf(c.name, member) }))
    }))
  }

  /** Applies another node's op (`now`: the caller's clock, ms) and reports the transitions. */
  receive (origin: string, op: PresenceOp, now: number): void {
    if (op.op === 'bye') {
      this.expire(origin)
      return
    }
    const touched = op.op === 'join' || op.op === 'leave' || op.op === 'state'
      ? this.touchedMembers(origin, op)
      : []
    const before = touched.map(({ channel, id }) => this.hasMember(channel, id))
    this.apply(this.node(origin, now), op)
    touched.forEach(({ channel, id, member }, i) => {
      const after = this.hasMember(channel, id)
      if (!before[i] && after) this.remoteChange('joined', channel, this.members(channel).find((m) => m.id === id) ?? member)
      else if (before[i] === true && !after) this.remoteChange('left', channel, member)
    })
  }

  /** The members an op may add or remove, with what is known of each. */
  private touchedMembers (origin: string, op: PresenceOp): Array<{ channel: string, id: string, member: PresenceMember }> {
    if (op.op === 'join') return [{ channel: op.channel, id: op.member.id, member: op.member }]
    const node = this.nodes.get(origin)
    if (op.op === 'leave') {
      const entry = [...(node?.channels.get(op.channel)?.members.values() ?? [])].find((e) => e.clients.has(op.clientId))
      return entry === undefined ? [] : [{ channel: op.channel, id: entry.member.id, member: entry.member }]
    }
    if (op.op !== 'state') return []
    const out = new Map<string, { channel: string, id: string, member: PresenceMember }>()
    for (const [name, channel] of node?.channels ?? []) for (const [id, entry] of channel.members) out.set(`${name}\n${id}`, { channel: name, id, member: entry.member })
    for (const state of op.channels) for (const { member } of state.members) out.set(`${state.channel}\n${member.id}`, { channel: state.channel, id: member.id, member })
    return [...out.values()]
  }

  private apply (node: RemoteNode, op: PresenceOp): void {
    if (op.op === 'join') {
      const channel = this.remoteChannel(node, op.channel, op.type)
      const entry = channel.members.get(op.member.id)
      if (entry === undefined) {
        channel.members.set(op.member.id, { member: op.member, clients: new Set([op.clientId]) })
        this.hold(op.channel, op.member.id, 1)
      } else {
        entry.clients.add(op.clientId)
      }
    } else if (op.op === 'leave') {
      const channel = node.channels.get(op.channel)
      for (const [id, entry] of channel?.members ?? []) {
        if (!entry.clients.delete(op.clientId)) continue
        if (entry.clients.size === 0) {
          channel?.members.delete(id)
          this.hold(op.channel, id, -1)
        } else if (entry.member.clientId === op.clientId) entry.member = { ...entry.member, clientId: entry.clients.values().next().value as string }
      }
      if (channel?.members.size === 0) node.channels.delete(op.channel)
    } else if (op.op === 'update') {
      const entry = node.channels.get(op.channel)?.members.get(op.member.id)
      if (entry !== undefined) entry.member = { ...op.member, clientId: entry.member.clientId }
    } else if (op.op === 'state') {
      this.release(node)
      node.channels.clear()
      for (const state of op.channels) {
        const channel = this.remoteChannel(node, state.channel, state.type)
        channel.createdAt = state.createdAt
        for (const { member, clients } of state.members) {
          if (!channel.members.has(member.id)) this.hold(state.channel, member.id, 1)
          channel.members.set(member.id, { member, clients: new Set(clients) })
        }
      }
    }
  }

  knows (origin: string): boolean {
    return this.nodes.has(origin)
  }

  /** After this node could not hear anyone (its own outage), give every node a fresh lease. */
  touchAll (now: number): void {
    for (const node of this.nodes.values()) node.lastSeen = now
  }

  /** Drops nodes not heard from since `deadline` (ms); their members leave. */
  sweep (deadline: number): void {
    for (const [id, node] of this.nodes) if (node.lastSeen < deadline) this.expire(id)
  }

  private expire (origin: string): void {
    const node = this.nodes.get(origin)
    if (node === undefined) return
    this.nodes.delete(origin)
    this.release(node)
    for (const [name, channel] of node.channels) {
      for (const [id, entry] of channel.members) {
        if (!this.hasMember(name, id)) this.remoteChange('left', name, entry.member)
      }
    }
  }

  private remoteHas (channel: string, id: string): boolean {
    const views = this.holders.get(channel)?.get(id) ?? 0
    return views > (this.local.hasMember(channel, id) ? 1 : 0)
  }

  private hold (channel: string, id: string, delta: 1 | -1): void {
    let ids = this.holders.get(channel)
    if (ids === undefined) {
      if (delta < 0) return
      this.holders.set(channel, ids = new Map())
    }
    const views = (ids.get(id) ?? 0) + delta
    if (views > 0) ids.set(id, views)
    else ids.delete(id)
    if (ids.size === 0) this.holders.delete(channel)
  }

  /** Forgets everything `node` held (before it is replaced or dropped). */
  private release (node: RemoteNode): void {
    for (const [name, channel] of node.channels) for (const id of channel.members.keys()) this.hold(name, id, -1)
  }

  private node (origin: string, now: number): RemoteNode {
    let node = this.nodes.get(origin)
    if (node === undefined) this.nodes.set(origin, node = { lastSeen: now, channels: new Map() })
    node.lastSeen = now
    return node
  }

  private remoteChannel (node: RemoteNode, name: string, type: ChannelType): RemoteChannel {
    let channel = node.channels.get(name)
    if (channel === undefined) node.channels.set(name, channel = { type, createdAt: new Date().toISOString(), members: new Map() })
    return channel
  }

  private clientsOf (channel: string, member: PresenceMember): string[] {
    return [...(this.localClients.get(channel) ?? [])].filter(([, id]) => id === member.id).map(([clientId]) => clientId)
  }
}
