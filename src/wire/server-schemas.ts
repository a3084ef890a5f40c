import { Type, type TProperties, type TSchema } from '@sinclair/typebox'
import { ErrorCodes, type ErrorCode } from '../errors.js'

/*
 * TypeBox schemas of every frame the server sends (PROTOCOL.md section 2, README "Protocol",
 * "Channels", "Scaling out"). The builders of src/wire/frames.ts are typed by them; they
 * describe the frames for the AsyncAPI document (src/protocol/asyncapi.ts), and
 * test/conformance/asyncapi-frames.test.ts checks real frames against them, which is what keeps
 * the two in step.
 *
 * Objects are closed (additionalProperties: false) so a field added to a sender without a
 * schema change fails that test instead of going undocumented. Timestamps carry
 * `format: 'date-time'`: validate with TypeBox after registering that format (FormatRegistry).
 */

const requestId = Type.Optional(Type.Union([Type.String({ maxLength: 128 }), Type.Integer()], {
  description: "The request's requestId, echoed on replies (absent on pushes and when the request had none)"
}))
const timestamp = Type.String({ format: 'date-time', description: 'ISO 8601 time on the server' })
const resource = Type.String({ description: 'Resource name' })
const channel = Type.String({ description: 'Channel name' })
const seq = Type.Integer({ minimum: 0, description: 'Position in the resource\'s change order (monotonic within an epoch)' })
const epoch = Type.String({ description: 'Names one numbering of history; a `since` from another epoch gets RESYNC_REQUIRED' })
const record = Type.Record(Type.String(), Type.Unknown(), { description: 'A record, projected (protected fields and s3db internals removed)' })
const filter = Type.Record(Type.String(), Type.Unknown(), { description: 'Field (or dot path) -> value or operator object ({$gte: 10}); every field must match' })
const changeType = Type.Union([Type.Literal('insert'), Type.Literal('update'), Type.Literal('delete')])
const version = Type.String({ description: 'The record\'s version as this caller sees it: send it back as `ifVersion` on update (docs/protocol.md, "Conditional updates")' })
const versions = Type.Record(Type.String(), Type.String(), { description: 'id -> version of each record in `data`' })

/** The authenticated user: `id` plus the token's claims (or what the auth driver returned). */
export const UserSchema = Type.Object({
  id: Type.String(),
  role: Type.Optional(Type.String()),
  roles: Type.Optional(Type.Array(Type.String()))
}, { additionalProperties: true, description: 'The authenticated user: id plus the claims of its credential' })

/** Who sent a publish or channel message. */
const from = Type.Object({
  clientId: Type.String(),
  userId: Type.Union([Type.String(), Type.Null()])
}, { additionalProperties: false })

/** A presence member: a user (not a socket) in a channel. */
export const MemberSchema = Type.Object({
  id: Type.String({ description: 'User id (the clientId for anonymous members of public channels)' }),
  clientId: Type.String({ description: 'One of the user\'s sockets in the channel (the oldest still there)' }),
  userInfo: Type.Record(Type.String(), Type.Unknown()),
  joinedAt: timestamp,
  updatedAt: Type.Optional(timestamp)
}, { additionalProperties: false })

function frame<K extends string, T extends TProperties> (type: K, description: string, fields: T) {
  return Type.Object({ type: Type.Literal(type), ...fields }, { additionalProperties: false, description })
}

/** `details` of RESYNC_REQUIRED, one shape per cause. */
export const ResyncDetailsSchema = Type.Union([
  Type.Object({ epoch, seq }, { additionalProperties: false, description: '`subscribe {since}` cannot be continued: list again, then subscribe from this position' }),
  Type.Object({ resource, epoch, seq }, { additionalProperties: false, description: 'Pushed (no requestId) after a Redis outage or lost change: re-list the resource' }),
  Type.Object({
    reason: Type.Literal('slow_consumer'),
    dropped: Type.Integer({ minimum: 1 }),
    subscriptions: Type.Array(Type.Object({ subscriptionId: Type.String(), resource }, { additionalProperties: false }))
  }, { additionalProperties: false, description: 'Pushed when `backpressure.policy: "drop"` dropped frames: resubscribe with `since`' })
])

/** `details` of VALIDATION_ERROR: what s3db refused. */
export const ValidationDetailsSchema = Type.Array(Type.Object({
  field: Type.Optional(Type.String()),
  type: Type.Optional(Type.String()),
  message: Type.Optional(Type.String())
}, { additionalProperties: false }))

/** What each error code means (README "Errors"); typed so a new code cannot go undocumented. */
export const ErrorCodeDescriptions: Readonly<Record<ErrorCode, string>> = {
  INVALID_JSON: 'The frame is not JSON',
  INVALID_REQUEST: 'Schema violation, unknown field, bad filter, unsafe id/cursor/partition value; details.field is a JSON pointer to the culprit',
  UNKNOWN_MESSAGE_TYPE: 'No such message type',
  RESOURCE_NOT_FOUND: 'Unknown or disabled resource',
  NOT_FOUND: 'No such record (or one the caller may not see)',
  CONFLICT: 'update with ifVersion: the record changed since that version was read; nothing was written; details gives {version, data} (the current version and record as you may see them)',
  VALIDATION_ERROR: 's3db rejected the data; details lists {field, type, message}',
  FORBIDDEN: 'Roles or guards refused, a write outside the caller\'s forced filters, a protected field written or filtered on',
  UNAUTHORIZED: 'An `auth` message with an invalid credential, or another user\'s token',
  RATE_LIMIT_EXCEEDED: 'Too many messages (rateLimit) or failed auth attempts on this socket',
  RESYNC_REQUIRED: 'Continuity cannot be proven (history too short, epoch changed, frames dropped): list again; details gives {seq, epoch}',
  NOT_IN_CHANNEL: 'leave, channel:message or channel:update on a channel the socket is not in',
  CHANNELS_DISABLED: 'Channels are disabled on this server (channels: false)',
  LIMIT_EXCEEDED: 'Too many subscriptions or channels on one socket, the channel is full, or a record stayed busy (too many writes waiting for it)',
  UNAVAILABLE: 'update with ifVersion on a cluster whose bus is unreachable (or cannot lock records): the check could not be made safe; nothing was written; try again',
  INTERNAL_ERROR: 'Anything else; never carries a stack trace or internal message (it is logged)'
}

/** `details` of CONFLICT: the record as the caller may see it now, and its version. */
export const ConflictDetailsSchema = Type.Object({
  version,
  data: Type.Record(Type.String(), Type.Unknown(), { description: 'The current record, projected (whole: `fields` does not apply)' })
}, { additionalProperties: false })

/** `details` shapes that are fixed per code (the others are free-form, usually `{field}`). */
export const ErrorDetailsSchemas: Partial<Record<ErrorCode, TSchema>> = {
  CONFLICT: ConflictDetailsSchema,
  RESYNC_REQUIRED: ResyncDetailsSchema,
  VALIDATION_ERROR: ValidationDetailsSchema
}

const errorCodes = Object.values(ErrorCodes)

/** Why one item of a batch failed: what the `error` frame of the same single write would say. */
const itemError = Type.Object({
  code: Type.Union(errorCodes.map((code) => Type.Literal(code))),
  message: Type.String(),
  details: Type.Optional(Type.Unknown())
}, { additionalProperties: false })

/** Records: `get` and `list` both answer `data`; a list page adds `cursor`. */
const dataFrame = Type.Union([
  frame('data', 'Reply to get: one record', { requestId, resource, data: record, version }),
  frame('data', 'Reply to list: one page of records in id order', {
    requestId,
    resource,
    data: Type.Array(record),
    versions,
    cursor: Type.Union([Type.String(), Type.Null()], { description: 'Send back to get the next page; null on the last page' })
  })
], { description: 'Reply to get (one record) or list (a page and its cursor)' })

const eventFrame = Type.Union([
  frame('event', 'A change matching one of the socket\'s subscriptions (sent once per socket)', {
    event: changeType,
    resource,
    data: Type.Record(Type.String(), Type.Unknown(), { description: 'The record after the change (before it, for delete); only {id} when it left a guard-forced filter' }),
    timestamp,
    seq,
    version: Type.Optional(Type.String({ description: 'insert and update: the record\'s version (as in get); absent when data is only {id}' })),
    left: Type.Optional(Type.Literal(true, { description: 'The updated record no longer matches: drop it from your view' }))
  }),
  frame('event', 'subscribe {delta: true}: an update of a record the subscriber holds, as the paths that changed (docs/protocol.md, "Delta updates")', {
    event: Type.Literal('update'),
    resource,
    id: Type.String({ description: 'The updated record' }),
    changes: Type.Object({
      set: Type.Record(Type.String(), Type.Unknown(), { description: 'Dot path -> new value, for each path that was added or changed (an array is set whole)' }),
      unset: Type.Array(Type.String(), { description: 'Dot paths that are gone' })
    }, { additionalProperties: false }),
    timestamp,
    seq,
    version: Type.Optional(Type.String({ description: 'The record\'s version after the change (as in get)' }))
  }),
  frame('event', 'deleteAll: clear your view of the resource', { event: Type.Literal('reset'), resource, timestamp, seq })
], { description: 'Pushed to subscribers: a change (insert, update, delete) or a reset' })

const presence = <K extends string>(type: K, description: string) => frame(type, description, { channel, member: MemberSchema, timestamp })

/** One schema per server frame `type`. */
export const ServerSchemas = {
  connected: frame('connected', 'Sent once when the socket opens', {
    clientId: Type.String(),
    user: Type.Union([UserSchema, Type.Null()], { description: 'null when anonymous' }),
    timestamp
  }),
  pong: frame('pong', 'Reply to ping', { requestId, timestamp }),
  subscribed: frame('subscribed', 'Reply to subscribe', {
    requestId,
    resource,
    filter: Type.Record(Type.String(), Type.Unknown(), { description: 'The effective filter: yours AND the guards\', merged into one filter (two contradicting conditions on a field show as {$in: []})' }),
    matchesNothing: Type.Optional(Type.Literal(true, { description: 'No record can match the effective filter (yours contradicts a forced one, or itself): nothing will arrive' })),
    events: Type.Array(changeType),
    subscriptionId: Type.String(),
    seq,
    epoch,
    snapshot: Type.Optional(Type.Object({
      seq,
      epoch,
      data: Type.Array(record),
      versions,
      cursor: Type.Union([Type.String(), Type.Null()])
    }, { additionalProperties: false, description: 'With `snapshot: true`: the matching records valid at snapshot.seq' }))
  }),
  unsubscribed: frame('unsubscribed', 'Reply to unsubscribe; also pushed (reason FORBIDDEN) when a token refresh took a subscription away', {
    requestId,
    subscriptionIds: Type.Array(Type.String()),
    resource: Type.Optional(resource),
    filter: Type.Optional(filter),
    subscriptionId: Type.Optional(Type.String()),
    reason: Type.Optional(Type.Literal('FORBIDDEN'))
  }),
  data: dataFrame,
  inserted: frame('inserted', 'Reply to insert: the stored record', { requestId, resource, data: record, version }),
  updated: frame('updated', 'Reply to update: the stored record', { requestId, resource, data: record, version }),
  deleted: frame('deleted', 'Reply to delete', { requestId, resource, id: Type.String() }),
  insertedMany: frame('insertedMany', 'Reply to insertMany: one result per item, in order', {
    requestId,
    resource,
    results: Type.Array(Type.Union([
      Type.Object({ ok: Type.Literal(true), data: record, version }, { additionalProperties: false }),
      Type.Object({ ok: Type.Literal(false), error: itemError }, { additionalProperties: false })
    ]))
  }),
  deletedMany: frame('deletedMany', 'Reply to deleteMany: one result per id, in order', {
    requestId,
    resource,
    results: Type.Array(Type.Union([
      Type.Object({ ok: Type.Literal(true), id: Type.String() }, { additionalProperties: false }),
      Type.Object({ ok: Type.Literal(false), id: Type.String(), error: itemError }, { additionalProperties: false })
    ]))
  }),
  event: eventFrame,
  published: frame('published', 'Reply to publish', {
    requestId,
    channel: resource,
    delivered: Type.Integer({ minimum: 0, description: 'Recipients on this instance' })
  }),
  message: frame('message', 'A publish from another client, to the subscribers of the resource named `channel`', {
    channel: resource,
    data: Type.Unknown(),
    from,
    timestamp
  }),
  'channel:joined': frame('channel:joined', 'Reply to join (memberCount, members and me on presence channels; no members above presenceSummaryThreshold)', {
    requestId,
    channel,
    channelType: Type.Union([Type.Literal('public'), Type.Literal('private'), Type.Literal('presence')]),
    memberCount: Type.Optional(Type.Integer({ minimum: 0 })),
    members: Type.Optional(Type.Array(MemberSchema)),
    me: Type.Optional(MemberSchema)
  }),
  'channel:left': frame('channel:left', 'Reply to leave; also pushed (reason FORBIDDEN) when a token refresh took the channel away', {
    requestId,
    channel,
    reason: Type.Optional(Type.Literal('FORBIDDEN'))
  }),
  'channel:sent': frame('channel:sent', 'Reply to channel:message', { requestId, channel, delivered: Type.Integer({ minimum: 0 }) }),
  'channel:updated': frame('channel:updated', 'Reply to channel:update', { requestId, channel, member: MemberSchema }),
  'channel:message': frame('channel:message', 'A channel:message from another member', {
    channel,
    event: Type.String(),
    data: Type.Optional(Type.Unknown()),
    from,
    timestamp
  }),
  'presence:member_joined': presence('presence:member_joined', 'A user joined a presence channel (first tab)'),
  'presence:member_left': presence('presence:member_left', 'A user left a presence channel (last tab)'),
  'presence:member_updated': presence('presence:member_updated', 'A member\'s userInfo changed'),
  'presence:count': frame('presence:count', 'Summary for channels above presenceSummaryThreshold, once per presenceSummaryInterval', {
    channel,
    count: Type.Integer({ minimum: 0 }),
    joined: Type.Integer({ minimum: 0 }),
    left: Type.Integer({ minimum: 0 }),
    timestamp
  }),
  authenticated: frame('authenticated', 'Reply to auth', {
    requestId,
    user: UserSchema,
    expiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'When the credential expires (the socket is then closed with 4001)' })
  }),
  inspector: frame('inspector', 'Reply to inspect, then pushed every inspector.interval ms: the live picture of this instance (docs/operations.md#inspector)', {
    requestId,
    data: Type.Record(Type.String(), Type.Unknown(), {
      description: 'Connections, subscriptions with their effective filters and matched counts, channels, counters, rates and bus state; never credentials or protected values. The reply carries the whole chart history, pushes only the newest point'
    })
  }),
  error: frame('error', 'A request failed (requestId echoed), or a pushed notice (RESYNC_REQUIRED); the socket stays usable', {
    requestId,
    code: Type.Union(errorCodes.map((code) => Type.Literal(code))),
    message: Type.String(),
    details: Type.Optional(Type.Unknown({ description: 'Depends on code (see x-error-details)' }))
  })
}

export type ServerFrameType = keyof typeof ServerSchemas
