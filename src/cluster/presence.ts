import { randomUUID } from 'node:crypto'
import { MemoryPresenceStore, type JoinResult, type LeaveResult, type PresenceStore, type RemoteMemberListener, type StoredChannel } from '../channels/presence-store.js'
import type { ChannelType, PresenceMember, UserInfo } from '../channels/types.js'
import type { PresenceOp, PresenceView, RemoteChannelState, Stamp, StampedOp } from './presence-ops.js'
import { DroppedNodes } from './dropped-nodes.js'
import { applyToCopy, bringsBack, emptyRemoteNode, releaseCopy, sameVersion, touchedMembers, type Hold, type RemoteNode } from './remote-view.js'

export type { PresenceOp, PresenceView, RemoteChannelState, Stamp, ViewVersion } from './presence-ops.js'

/**
 * The PresenceStore for a cluster: this node's memberships live in a MemoryPresenceStore and
 * are announced on the bus; other nodes' arrive the same way. Answers are the union across
 * nodes (a member is a user id, whichever nodes its tabs are on), from the local view, so the
 * interface stays synchronous. Each node renews a lease by heartbeat; a node not heard from for
 * 3 leases is dropped and its members leave (reported through `onRemoteChange`, once, on every surviving node).
 *
 * Anti-entropy: every op this node sends carries the version of its view after it, and the
 * heartbeat carries the current one. A node whose copy of another's view missed an op (a gap in
 * the versions), is at another version than its heartbeat says, or has none (a node it had
 * dropped, or a new one) asks that node for its full state; a state (or a hello) replaces the
 * copy, and only the difference is announced. So ops lost while either side was cut off from
 * the bus are repaired, in both directions, within a heartbeat of both hearing each other again.
 * Every message is stamped with the sender's run and a number (Stamp): a copy of one already
 * heard is dropped, so a PUBLISH sent again after a reconnect cannot bring back an old view.
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
  private readonly holdFn: Hold = (channel, id, delta) => { this.hold(channel, id, delta) }
  /** This run of the node, and how many changes it has made to its view (see ViewVersion). */
  private readonly incarnation = randomUUID()
  private version = 0
  /** Messages and asks sent by this run (see Stamp). */
  private messages = 0
  private asks = 0
  private readonly dropped = new DroppedNodes()

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
    this.send({ op: 'join', v: ++this.version, channel, type, clientId: entry.clientId, member: result.member, ...this.stamp() })
    return { member: result.member, added: result.added && !elsewhere }
  }

  leave (channel: string, clientId: string): LeaveResult | null {
    const result = this.local.leave(channel, clientId)
    if (result === null) return null
    const clients = this.localClients.get(channel)
    clients?.delete(clientId)
    if (clients?.size === 0) this.localClients.delete(channel)
    if (result.removed) this.hold(channel, result.member.id, -1)
    this.send({ op: 'leave', v: ++this.version, channel, clientId, ...this.stamp() })
    return { member: result.member, removed: result.removed && !this.remoteHas(channel, result.member.id) }
  }

  update (channel: string, clientId: string, userInfo: UserInfo, at: string): PresenceMember | null {
    const member = this.local.update(channel, clientId, userInfo, at)
    if (member !== null) this.send({ op: 'update', v: ++this.version, channel, member, ...this.stamp() })
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

  /** This node's whole view, at its current version. */
  view (): PresenceView {
    const channels: RemoteChannelState[] = this.local.channels().map((c) => ({
      channel: c.name,
      type: c.type,
      createdAt: c.createdAt,
      members: this.local.members(c.name).map((member) => ({ member, clients: this.clientsOf(c.name, member) }))
    }))
    return { incarnation: this.incarnation, version: this.version, channels }
  }

  /** The lease heartbeat: this node is alive, and its view is at this version. */
  alive (): PresenceOp {
    return { op: 'alive', version: this.version, ...this.stamp() }
  }

  /** What this node says when it starts or gets the bus back: its view, and "send me yours". */
  hello (): PresenceOp {
    return { op: 'hello', ...this.view(), ...this.stamp() }
  }

  /** The state answering a hello or (`re`: its id) an ask. */
  private state (re?: string): PresenceOp {
    return re === undefined ? { op: 'state', ...this.view(), ...this.stamp() } : { op: 'state', ...this.view(), ...this.stamp(), re }
  }

  private stamp (): Stamp {
    return { incarnation: this.incarnation, n: ++this.messages }
  }

  /**
   * Applies another node's op (`now`: the caller's clock, ms) and reports the transitions.
   * Answers through `send`: a state for a hello or an ask (the caller passes only asks meant
   * for this node), an ask when the copy of `origin` turns out stale.
   */
  receive (origin: string, op: PresenceOp, now: number): void {
    if (op.op === 'bye') {
      this.expire(origin)
      return
    }
    if (op.op === 'ask') {
      this.send(this.state(op.id))
      return
    }
    if (this.repeated(origin, op)) return
    const known = this.nodes.get(origin)
    const node = this.node(origin, now)
    node.heard = { incarnation: op.incarnation, n: op.n }
    if (!bringsBack(node, op)) {
      // Dropped earlier and heard again: this may be an old message sent again; ask for the view.
      if (node.asked === null || op.op === 'alive') this.ask(origin, node)
      return
    }
    node.returning = null
    if (op.op === 'alive') {
      if (node.stale || !sameVersion(node, op)) this.ask(origin, node)
      return
    }
    if (op.op === 'state' || op.op === 'hello') {
      // Already at that version (a state asked for by another node), or older: nothing to change.
      const older = node.incarnation === op.incarnation && op.version < node.version
      if (!older && (node.stale || !sameVersion(node, op))) this.replace(node, op)
      if (op.op === 'hello') this.send(this.state())
      return
    }
    // One change. Versions count within one run: a change from another run than the copy's
    // (the node restarted) or a gap in the versions (a missed op) makes the copy stale.
    const sameRun = known !== undefined && node.incarnation === op.incarnation
    if (sameRun && op.v <= node.version) return // the copy already reflects it
    const missed = !sameRun || (!node.stale && op.v !== node.version + 1)
    node.incarnation = op.incarnation
    node.version = op.v
    this.applyToCopy(node, op)
    if (missed) this.ask(origin, node)
  }

  /** A copy of a message already heard (or older than one heard) from the same run of `origin`. */
  private repeated (origin: string, op: StampedOp): boolean {
    const heard = this.nodes.get(origin)?.heard ?? this.dropped.get(origin)?.heard
    return heard !== undefined && heard !== null && heard.incarnation === op.incarnation && op.n <= heard.n
  }

  /** Replaces the copy of a node with its full view; the difference is announced once. */
  private replace (node: RemoteNode, view: Extract<PresenceOp, { op: 'state' | 'hello' }>): void {
    this.applyToCopy(node, view)
    node.incarnation = view.incarnation
    node.version = view.version
    node.stale = false
  }

  /** Asks `origin` for its state; again at most once per heartbeat of it while the copy stays stale. */
  private ask (origin: string, node: RemoteNode): void {
    node.stale = true
    node.asked = `${this.incarnation}:${++this.asks}`
    this.send({ op: 'ask', to: origin, id: node.asked })
  }

  /** Applies `op` to the copy `node` and reports each member that appeared in or vanished from the union. */
  private applyToCopy (node: RemoteNode, op: PresenceOp): void {
    const touched = touchedMembers(node, op)
    const before = touched.map(({ channel, id }) => this.hasMember(channel, id))
    applyToCopy(node, op, this.holdFn)
    touched.forEach(({ channel, id, member }, i) => {
      const after = this.hasMember(channel, id)
      if (!before[i] && after) this.remoteChange('joined', channel, this.members(channel).find((m) => m.id === id) ?? member)
      else if (before[i] === true && !after) this.remoteChange('left', channel, member)
    })
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
    this.dropped.remember(origin, node)
    releaseCopy(node, this.holdFn)
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

  private node (origin: string, now: number): RemoteNode {
    let node = this.nodes.get(origin)
    if (node === undefined) {
      this.nodes.set(origin, node = emptyRemoteNode(now))
      node.returning = this.dropped.take(origin)?.view ?? null
    }
    node.lastSeen = now
    return node
  }

  private clientsOf (channel: string, member: PresenceMember): string[] {
    return [...(this.localClients.get(channel) ?? [])].filter(([, id]) => id === member.id).map(([clientId]) => clientId)
  }
}
