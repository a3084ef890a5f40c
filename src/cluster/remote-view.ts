import type { ChannelType, PresenceMember } from '../channels/types.js'
import type { PresenceOp, Stamp, ViewVersion } from './presence-ops.js'

interface RemoteMember {
  member: PresenceMember
  clients: Set<string>
}

interface RemoteChannel {
  type: ChannelType
  createdAt: string
  members: Map<string, RemoteMember>
}

/** This node's copy of another node's memberships, and when that node was last heard from. */
export interface RemoteNode {
  lastSeen: number
  channels: Map<string, RemoteChannel>
  /** The version of the node's view this copy is at (incarnation null: never had its full state). */
  incarnation: string | null
  version: number
  /** The copy may differ from the node's view (a missed op, or never had its state): a state was asked for. */
  stale: boolean
  /** The last message heard from the node (see Stamp). */
  heard: Stamp | null
  /** The id of the last ask sent to the node. */
  asked: string | null
  /**
   * Set when the node is heard again after it was dropped: the version its copy had then. Until
   * its hello, a newer view or the answer to an ask made now arrives, what it sends may be old
   * (ioredis sends unanswered PUBLISHes again after reconnecting, Redis never having had them).
   */
  returning: ViewVersion | null
}

/** A member an op may add to or remove from the union, with what is known of it. */
export interface Touched {
  channel: string
  id: string
  member: PresenceMember
}

/** Counts one more (1) or one fewer (-1) view holding member `id` in `channel`. */
export type Hold = (channel: string, id: string, delta: 1 | -1) => void

export function emptyRemoteNode (now: number): RemoteNode {
  return { lastSeen: now, channels: new Map(), incarnation: null, version: 0, stale: false, heard: null, asked: null, returning: null }
}

/** Whether `op` may change the copy of a node heard again after it was dropped (see `returning`). */
export function bringsBack (node: RemoteNode, op: Exclude<PresenceOp, { op: 'ask' } | { op: 'bye' }>): boolean {
  const was = node.returning
  if (was === null || op.op === 'hello') return true
  if (op.op !== 'state') return false
  return op.incarnation !== was.incarnation || op.version > was.version || (op.re !== undefined && op.re === node.asked)
}

export function sameVersion (copy: RemoteNode, version: ViewVersion): boolean {
  return copy.incarnation === version.incarnation && copy.version === version.version
}

/** The members `op` may add or remove from the copy `node` (undefined: no copy yet). */
export function touchedMembers (node: RemoteNode | undefined, op: PresenceOp): Touched[] {
  if (op.op === 'join') return [{ channel: op.channel, id: op.member.id, member: op.member }]
  if (op.op === 'leave') {
    const entry = [...(node?.channels.get(op.channel)?.members.values() ?? [])].find((e) => e.clients.has(op.clientId))
    return entry === undefined ? [] : [{ channel: op.channel, id: entry.member.id, member: entry.member }]
  }
  if (op.op !== 'state' && op.op !== 'hello') return []
  const out = new Map<string, Touched>()
  for (const [name, channel] of node?.channels ?? []) for (const [id, entry] of channel.members) out.set(`${name}\n${id}`, { channel: name, id, member: entry.member })
  for (const state of op.channels) for (const { member } of state.members) out.set(`${state.channel}\n${member.id}`, { channel: state.channel, id: member.id, member })
  return [...out.values()]
}

/** Applies a join, leave, update or (replacing everything) state or hello to the copy `node`. */
export function applyToCopy (node: RemoteNode, op: PresenceOp, hold: Hold): void {
  if (op.op === 'join') {
    const channel = remoteChannel(node, op.channel, op.type)
    const entry = channel.members.get(op.member.id)
    if (entry === undefined) {
      channel.members.set(op.member.id, { member: op.member, clients: new Set([op.clientId]) })
      hold(op.channel, op.member.id, 1)
    } else {
      entry.clients.add(op.clientId)
    }
  } else if (op.op === 'leave') {
    const channel = node.channels.get(op.channel)
    for (const [id, entry] of channel?.members ?? []) {
      if (!entry.clients.delete(op.clientId)) continue
      if (entry.clients.size === 0) {
        channel?.members.delete(id)
        hold(op.channel, id, -1)
      } else if (entry.member.clientId === op.clientId) entry.member = { ...entry.member, clientId: entry.clients.values().next().value as string }
    }
    if (channel?.members.size === 0) node.channels.delete(op.channel)
  } else if (op.op === 'update') {
    const entry = node.channels.get(op.channel)?.members.get(op.member.id)
    if (entry !== undefined) entry.member = { ...op.member, clientId: entry.member.clientId }
  } else if (op.op === 'state' || op.op === 'hello') {
    releaseCopy(node, hold)
    node.channels.clear()
    for (const state of op.channels) {
      const channel = remoteChannel(node, state.channel, state.type)
      channel.createdAt = state.createdAt
      for (const { member, clients } of state.members) {
        if (!channel.members.has(member.id)) hold(state.channel, member.id, 1)
        channel.members.set(member.id, { member, clients: new Set(clients) })
      }
    }
  }
}

/** Forgets everything the copy `node` held (before it is replaced or dropped). */
export function releaseCopy (node: RemoteNode, hold: Hold): void {
  for (const [name, channel] of node.channels) for (const id of channel.members.keys()) hold(name, id, -1)
}

function remoteChannel (node: RemoteNode, name: string, type: ChannelType): RemoteChannel {
  let channel = node.channels.get(name)
  if (channel === undefined) node.channels.set(name, channel = { type, createdAt: new Date().toISOString(), members: new Map() })
  return channel
}
