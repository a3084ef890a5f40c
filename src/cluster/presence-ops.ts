import type { ChannelType, PresenceMember } from '../channels/types.js'

/**
 * Which state of one node's own memberships a message describes: the run of the node (a
 * restarted node is a new incarnation, whatever its id) and how many changes that run has made.
 * Two copies of a node's memberships with the same version are the same.
 */
export interface ViewVersion {
  incarnation: string
  version: number
}

export interface RemoteChannelState {
  channel: string
  type: ChannelType
  createdAt: string
  members: Array<{ member: PresenceMember, clients: string[] }>
}

/**
 * On every message a node sends about its view: its run and the message's number in that run.
 * A message numbered at or below one already heard from that run is a copy (ioredis sends an
 * unanswered PUBLISH again after reconnecting, though Redis may have delivered it) and is dropped.
 */
export interface Stamp {
  incarnation: string
  n: number
}

/** All of one node's own memberships, at a version. */
export interface PresenceView extends ViewVersion {
  channels: RemoteChannelState[]
}

/**
 * What one node tells the others about its own memberships (PRESENCE_TOPIC).
 *
 * - join / leave / update: one change, `v` its version (the node's previous version + 1), so
 *   a receiver that missed one sees the gap.
 * - alive: the lease heartbeat, carrying the sender's current version (the digest the others
 *   compare their copy with).
 * - state: the sender's whole view; every node applies it (it replaces the copy). `re`: the id
 *   of the ask it answers.
 * - hello: a state sent when the node starts or gets the bus back; every other node answers with its own state.
 * - ask: "send your state" to the node `to`, from a node whose copy of it is missing or stale.
 * - bye: the node leaves the cluster cleanly; its members leave now.
 */
export type PresenceOp =
  | ({ op: 'join', v: number, channel: string, type: ChannelType, clientId: string, member: PresenceMember } & Stamp)
  | ({ op: 'leave', v: number, channel: string, clientId: string } & Stamp)
  | ({ op: 'update', v: number, channel: string, member: PresenceMember } & Stamp)
  | ({ op: 'alive' } & ViewVersion & Stamp)
  | ({ op: 'state', re?: string } & PresenceView & Stamp)
  | ({ op: 'hello' } & PresenceView & Stamp)
  | { op: 'ask', to: string, id: string }
  | { op: 'bye' }

/** The messages that carry a Stamp. */
export type StampedOp = Exclude<PresenceOp, { op: 'ask' } | { op: 'bye' }>
