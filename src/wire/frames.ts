import type { Static } from '@sinclair/typebox'
import { ErrorCodes, type ErrorCode } from '../errors.js'
import type { ChangeType, RealtimeUser, RecordData } from '../types.js'
import type { RecordChanges } from '../util/record-diff.js'
import type { ServerFrameType, ServerSchemas } from './server-schemas.js'

/*
 * One builder per frame the server sends, typed by its schema in server-schemas.ts, and the one
 * place a frame becomes text (`encode`). Senders build with these and send the result, so a
 * frame's shape is written once, and test/unit/frames.test.ts checks every builder against the
 * schema the AsyncAPI document is made from.
 *
 * Builders write `type` first: the metrics' sent-by-type counter reads it from the start of
 * the encoded frame without parsing it (src/observability/metrics.ts). Optional fields are
 * left out rather than set to undefined, so a built frame is exactly what is sent.
 */

/** The frame of one `type`, as its schema describes it. */
export type FrameOf<K extends ServerFrameType> = Static<(typeof ServerSchemas)[K]>
/** Any frame this server sends (an app's own messages aside). */
export type ServerFrame = { [K in ServerFrameType]: FrameOf<K> }[ServerFrameType]

/** Frames that answer a request, so they may echo its `requestId`. */
export type ReplyFrameType = 'pong' | 'subscribed' | 'unsubscribed' | 'data' | 'inserted' | 'updated' | 'deleted' | 'insertedMany' | 'deletedMany' |
'published' | 'channel:joined' | 'channel:left' | 'channel:sent' | 'channel:updated' | 'authenticated' | 'inspector' | 'error'
export type ReplyFrame = FrameOf<ReplyFrameType>
export type RequestId = string | number | undefined

/** Frames pushed to a channel's members (carried between instances by the cluster). */
export type ChannelFrame = FrameOf<'channel:message' | 'presence:member_joined' | 'presence:member_left' | 'presence:member_updated' | 'presence:count'>

type PresenceMember = FrameOf<'channel:updated'>['member']
type ChannelType = FrameOf<'channel:joined'>['channelType']
type Sender = FrameOf<'message'>['from']

function now (): string {
  return new Date().toISOString()
}

// --- encoding ---------------------------------------------------------------------------------

/** The text of a frame. Encode once and send the same string to every recipient. */
export function encode (frame: ServerFrame): string {
  return JSON.stringify(frame)
}

/**
 * The text of a message whose shape this module does not own: an app's own message
 * (`broadcast`, `sendToClient`, sent as given), or a frame that crossed the bus (built with
 * these builders on the instance that sent it, untyped on arrival).
 */
export function encodeMessage (message: object): string {
  return JSON.stringify(message)
}

/** A reply echoes the request's `requestId` (last, after the frame's own fields). */
export function withRequestId<F extends ReplyFrame> (frame: F, requestId: RequestId): F {
  return requestId === undefined ? frame : { ...frame, requestId }
}

// --- connection -------------------------------------------------------------------------------

export function connectedFrame (clientId: string, user: RealtimeUser | null, connectedAt: Date): FrameOf<'connected'> {
  return { type: 'connected', clientId, user, timestamp: connectedAt.toISOString() }
}

export function pongFrame (timestamp = now()): FrameOf<'pong'> {
  return { type: 'pong', timestamp }
}

/** A failed request (give its requestId), or a pushed notice. Never carries an internal message. */
export function errorFrame (error: { code: ErrorCode, message: string, details?: unknown }, requestId?: RequestId): FrameOf<'error'> {
  const frame: FrameOf<'error'> = { type: 'error', code: error.code, message: error.message }
  if (requestId !== undefined) frame.requestId = requestId
  if (error.details !== undefined) frame.details = error.details
  return frame
}

// --- subscriptions and events -----------------------------------------------------------------

/** `subscribe {snapshot: true}`: the matching records valid at `seq`. */
export type SubscriptionSnapshot = NonNullable<FrameOf<'subscribed'>['snapshot']>

export interface SubscribedFields {
  resource: string
  /** The effective filter: the client's AND the guards', merged exactly into one filter. */
  filter: Record<string, unknown>
  /** No record can match the effective filter (the client's contradicts a forced one, or itself). */
  matchesNothing: boolean
  events: ChangeType[]
  subscriptionId: string
  seq: number
  epoch: string
  snapshot?: SubscriptionSnapshot
}

export function subscribedFrame (fields: SubscribedFields): FrameOf<'subscribed'> {
  return {
    type: 'subscribed',
    resource: fields.resource,
    filter: fields.filter,
    ...(fields.matchesNothing ? { matchesNothing: true as const } : {}),
    events: fields.events,
    subscriptionId: fields.subscriptionId,
    seq: fields.seq,
    epoch: fields.epoch,
    ...(fields.snapshot !== undefined ? { snapshot: fields.snapshot } : {})
  }
}

/** Reply to `unsubscribe`: the ids removed, and what the request named. */
export function unsubscribedFrame (
  subscriptionIds: string[],
  named: { resource?: string, filter?: Record<string, unknown>, subscriptionId?: string }
): FrameOf<'unsubscribed'> {
  const frame: FrameOf<'unsubscribed'> = { type: 'unsubscribed', subscriptionIds }
  if (named.resource !== undefined) frame.resource = named.resource
  if (named.filter !== undefined) frame.filter = named.filter
  if (named.subscriptionId !== undefined) frame.subscriptionId = named.subscriptionId
  return frame
}

/** Pushed when a token refresh took a subscription away. */
export function subscriptionRevokedFrame (subscriptionId: string, resource: string): FrameOf<'unsubscribed'> {
  return { type: 'unsubscribed', resource, subscriptionId, subscriptionIds: [subscriptionId], reason: ErrorCodes.FORBIDDEN }
}

/** A change matching a subscription; `left` when an update no longer matches it. */
export function changeEventFrame (change: {
  event: ChangeType
  resource: string
  data: RecordData
  timestamp: string
  seq: number
  /** The record's version (insert, update); left out when `data` is only the id. */
  version?: string
  left?: boolean
}): FrameOf<'event'> {
  const frame: FrameOf<'event'> = { type: 'event', event: change.event, resource: change.resource, data: change.data, timestamp: change.timestamp, seq: change.seq }
  if (change.version !== undefined) frame.version = change.version
  if (change.left === true) frame.left = true
  return frame
}

/**
 * `subscribe {delta: true}`: an update of a record the subscriber holds, as the paths that
 * changed in its view of it (docs/protocol.md, "Delta updates").
 */
export function changeDeltaFrame (change: {
  resource: string
  id: string
  changes: RecordChanges
  timestamp: string
  seq: number
  version?: string
}): FrameOf<'event'> {
  const frame: FrameOf<'event'> = {
    type: 'event',
    event: 'update',
    resource: change.resource,
    id: change.id,
    changes: { set: change.changes.set, unset: change.changes.unset },
    timestamp: change.timestamp,
    seq: change.seq
  }
  if (change.version !== undefined) frame.version = change.version
  return frame
}

/** deleteAll: clear your view of the resource. */
export function resetEventFrame (resource: string, timestamp: string, seq: number): FrameOf<'event'> {
  return { type: 'event', event: 'reset', resource, timestamp, seq }
}

/** Pushed to a resource's subscribers after a bus outage or a lost change: list again. */
export function resourceResyncFrame (resource: string, epoch: string, seq: number): FrameOf<'error'> {
  return {
    type: 'error',
    code: ErrorCodes.RESYNC_REQUIRED,
    message: `Events of "${resource}" may have been missed; list again`,
    details: { resource, epoch, seq }
  }
}

/** Pushed to a slow consumer once its queue drained, after the drop policy dropped frames. */
export function slowConsumerResyncFrame (dropped: number, subscriptions: Array<{ subscriptionId: string, resource: string }>): FrameOf<'error'> {
  return {
    type: 'error',
    code: ErrorCodes.RESYNC_REQUIRED,
    message: 'Frames were dropped because this client did not read fast enough; resubscribe with `since` to recover',
    details: { reason: 'slow_consumer', dropped, subscriptions }
  }
}

// --- records ----------------------------------------------------------------------------------

/*
 * `version` / `versions`: the record's fingerprint as the caller sees it (src/records/version.ts),
 * computed before field selection, so `fields` does not change it.
 */

/** Reply to `get`. */
export function recordFrame (resource: string, data: RecordData, version: string): FrameOf<'data'> {
  return { type: 'data', resource, data, version }
}

/** Reply to `list`: one page; `cursor` is null on the last page. */
export function pageFrame (resource: string, data: RecordData[], versions: Record<string, string>, cursor: string | null): FrameOf<'data'> {
  return { type: 'data', resource, data, versions, cursor }
}

export function insertedFrame (resource: string, data: RecordData, version: string): FrameOf<'inserted'> {
  return { type: 'inserted', resource, data, version }
}

export function updatedFrame (resource: string, data: RecordData, version: string): FrameOf<'updated'> {
  return { type: 'updated', resource, data, version }
}

export function deletedFrame (resource: string, id: string): FrameOf<'deleted'> {
  return { type: 'deleted', resource, id }
}

/** One item of a batch reply. */
export type InsertedItem = FrameOf<'insertedMany'>['results'][number]
export type DeletedItem = FrameOf<'deletedMany'>['results'][number]

export function insertedManyFrame (resource: string, results: InsertedItem[]): FrameOf<'insertedMany'> {
  return { type: 'insertedMany', resource, results }
}

export function deletedManyFrame (resource: string, results: DeletedItem[]): FrameOf<'deletedMany'> {
  return { type: 'deletedMany', resource, results }
}

// --- publish and channels ---------------------------------------------------------------------

/** Who sent a publish or a channel message. */
export function senderOf (clientId: string, user: RealtimeUser | null): Sender {
  return { clientId, userId: user?.id ?? null }
}

export function publishedFrame (channel: string, delivered: number): FrameOf<'published'> {
  return { type: 'published', channel, delivered }
}

/** A publish, to the subscribers of the resource named `channel`. */
export function publishMessageFrame (channel: string, data: unknown, from: Sender, timestamp = now()): FrameOf<'message'> {
  return { type: 'message', channel, data, from, timestamp }
}

/** Reply to `join`; presence channels add the count, the members (small channels only) and `me`. */
export function channelJoinedFrame (
  channel: string,
  channelType: ChannelType,
  presence?: { memberCount: number, members?: PresenceMember[], me: PresenceMember }
): FrameOf<'channel:joined'> {
  const frame: FrameOf<'channel:joined'> = { type: 'channel:joined', channel, channelType }
  if (presence === undefined) return frame
  frame.memberCount = presence.memberCount
  if (presence.members !== undefined) frame.members = presence.members
  frame.me = presence.me
  return frame
}

/** Reply to `leave`; with reason FORBIDDEN, pushed when a token refresh took the channel away. */
export function channelLeftFrame (channel: string, reason?: 'FORBIDDEN'): FrameOf<'channel:left'> {
  return reason === undefined ? { type: 'channel:left', channel } : { type: 'channel:left', channel, reason }
}

export function channelSentFrame (channel: string, delivered: number): FrameOf<'channel:sent'> {
  return { type: 'channel:sent', channel, delivered }
}

export function channelUpdatedFrame (channel: string, member: PresenceMember): FrameOf<'channel:updated'> {
  return { type: 'channel:updated', channel, member }
}

export function channelMessageFrame (channel: string, event: string, data: unknown, from: Sender, timestamp = now()): FrameOf<'channel:message'> {
  return { type: 'channel:message', channel, event, data, from, timestamp }
}

/** `presence:member_joined` / `_left` / `_updated`. */
export function presenceMemberFrame (
  change: 'joined' | 'left' | 'updated',
  channel: string,
  member: PresenceMember,
  timestamp = now()
): FrameOf<'presence:member_joined' | 'presence:member_left' | 'presence:member_updated'> {
  return { type: `presence:member_${change}`, channel, member, timestamp }
}

/** The periodic summary of a channel above presenceSummaryThreshold. */
export function presenceCountFrame (channel: string, count: number, changes: { joined: number, left: number }, timestamp = now()): FrameOf<'presence:count'> {
  return { type: 'presence:count', channel, count, joined: changes.joined, left: changes.left, timestamp }
}

// --- authentication ---------------------------------------------------------------------------

/** Reply to `auth`; `expiresAt` in epoch ms, null when the credential does not expire. */
export function authenticatedFrame (user: RealtimeUser, expiresAt: number | null): FrameOf<'authenticated'> {
  return { type: 'authenticated', user, expiresAt: expiresAt === null ? null : new Date(expiresAt).toISOString() }
}

// --- inspector --------------------------------------------------------------------------------

/** The live inspector's picture (src/observability/inspector.ts): the reply to `inspect`, and each push. */
export function inspectorFrame (data: Record<string, unknown>): FrameOf<'inspector'> {
  return { type: 'inspector', data }
}
