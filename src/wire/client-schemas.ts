import { Type, type Static, type TSchema } from '@sinclair/typebox'
import { FILTER_LIMITS } from '../access/filter-operators.js'
import { BATCH_LIMIT } from '../records/batch.js'
import { MAX_IF_VERSION_LENGTH } from '../records/version.js'

/*
 * TypeBox schemas of every message a client sends (PROTOCOL.md section 2). The dispatcher
 * validates each message against the schema of its `type` (src/protocol/messages.ts), and the
 * AsyncAPI document (src/protocol/asyncapi.ts) is built from the same objects. Unknown fields
 * are refused (INVALID_REQUEST) so typos do not silently change meaning.
 */

/**
 * Allowed channel names: letters, digits and `_-=@,.;:` (the set Pusher uses), so names are safe
 * as Redis keys and log fields. Length is bounded by the message schema.
 */
export const CHANNEL_NAME_PATTERN = '^[A-Za-z0-9_\\-=@,.;:]+$'

/** Common to every client message. */
const base = {
  requestId: Type.Optional(Type.Union([Type.String({ maxLength: 128 }), Type.Integer()]))
}
const resource = Type.String({ minLength: 1, maxLength: 128 })
const id = Type.String({ minLength: 1, maxLength: 512 })
const partition = Type.String({ maxLength: 128 })
const filterScalar = Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()])
const orderable = Type.Union([Type.Number(), Type.String()])
/** The meaning of each operator is stated once, in src/access/filter-operators.ts. */
const filterOperators = Type.Object({
  $eq: Type.Optional(filterScalar),
  $ne: Type.Optional(filterScalar),
  $gt: Type.Optional(orderable),
  $gte: Type.Optional(orderable),
  $lt: Type.Optional(orderable),
  $lte: Type.Optional(orderable),
  $in: Type.Optional(Type.Array(filterScalar, { maxItems: FILTER_LIMITS.inValues })),
  $nin: Type.Optional(Type.Array(filterScalar, { maxItems: FILTER_LIMITS.inValues })),
  $exists: Type.Optional(Type.Boolean()),
  $prefix: Type.Optional(Type.String())
}, {
  additionalProperties: false,
  minProperties: 1,
  description: 'Operators on one field, ANDed. Ranges take a number or a string and match only a stored value of the same type (dates as ISO 8601 strings); $in/$nin hold at most ' +
    `${FILTER_LIMITS.inValues} values; a missing field matches only $ne, $nin and $exists: false`
})
/*
 * Field (or dot path) -> value (equality), operator object, or nested object (`{meta: {kind:
 * 'x'}}` is `{'meta.kind': 'x'}`). The nested branch takes any object, so a wrong operator or
 * operand reaches src/access/filter.ts, which names the field and the problem.
 */
const filter = Type.Record(Type.String(), Type.Union([filterScalar, filterOperators, Type.Record(Type.String(), Type.Unknown())]), {
  description: `Every field must match (AND); at most ${FILTER_LIMITS.fields} fields. Unknown operators, wrong operand types and oversized lists are INVALID_REQUEST naming the field`
})
const data = Type.Record(Type.String(), Type.Unknown())
const changeType = Type.Union([Type.Literal('insert'), Type.Literal('update'), Type.Literal('delete')])
const channel = Type.String({ minLength: 1, maxLength: 200, pattern: CHANNEL_NAME_PATTERN })
const userInfo = Type.Record(Type.String({ maxLength: 128 }), Type.Unknown())
const credential = Type.String({ minLength: 1, maxLength: 8192 })

function message<K extends string, T extends Record<string, TSchema>> (type: K, fields: T) {
  return Type.Object({ type: Type.Literal(type), ...base, ...fields }, { additionalProperties: false })
}

/**
 * `fields` on subscribe, list and get: only these paths (dot paths into nested fields) are sent,
 * plus `id`; protected fields never (docs/protocol.md, "Field selection").
 */
const fields = Type.Array(Type.String({ minLength: 1, maxLength: 256 }), {
  maxItems: 64,
  description: 'Send only these fields (dot paths allowed) and id; protected fields are never sent'
})

/** One schema per client message type, in the order the AsyncAPI document lists them. */
export const ClientSchemas = {
  ping: message('ping', {}),
  subscribe: message('subscribe', {
    resource,
    filter: Type.Optional(filter),
    events: Type.Optional(Type.Array(changeType, { minItems: 1, maxItems: 3 })),
    since: Type.Optional(Type.Integer({ minimum: 0 })),
    epoch: Type.Optional(Type.String({ maxLength: 128 })),
    snapshot: Type.Optional(Type.Boolean()),
    fields: Type.Optional(fields),
    delta: Type.Optional(Type.Boolean({
      description: 'Updates of records you hold arrive as the paths that changed ({id, changes: {set, unset}}) instead of the whole record; needs insert events'
    }))
  }),
  unsubscribe: message('unsubscribe', {
    resource: Type.Optional(resource),
    filter: Type.Optional(filter),
    subscriptionId: Type.Optional(Type.String({ minLength: 1, maxLength: 128 }))
  }),
  get: message('get', { resource, id, partition: Type.Optional(partition), fields: Type.Optional(fields) }),
  list: message('list', {
    resource,
    filter: Type.Optional(filter),
    partition: Type.Optional(partition),
    limit: Type.Optional(Type.Integer({ minimum: 1 })),
    cursor: Type.Optional(Type.Union([Type.String({ maxLength: 2048 }), Type.Null()])),
    fields: Type.Optional(fields)
  }),
  insert: message('insert', { resource, data }),
  // `partition` is accepted for compatibility with the seed's plugin; s3db locates records by id.
  update: message('update', {
    resource,
    id,
    data,
    partition: Type.Optional(partition),
    ifVersion: Type.Optional(Type.String({
      minLength: 1,
      maxLength: MAX_IF_VERSION_LENGTH,
      description: 'Write only if the record is still at this version (from get, list, a snapshot, an event or a reply); else CONFLICT'
    }))
  }),
  delete: message('delete', { resource, id, partition: Type.Optional(partition) }),
  /** Each item is judged and written exactly as one `insert`; the reply has one result per item. */
  insertMany: message('insertMany', { resource, data: Type.Array(data, { minItems: 1, maxItems: BATCH_LIMIT }) }),
  /** Each id is judged and deleted exactly as one `delete`; the reply has one result per id. */
  deleteMany: message('deleteMany', { resource, ids: Type.Array(id, { minItems: 1, maxItems: BATCH_LIMIT }) }),
  /** `{type:'auth', token}` (refresh, or in-band authentication) or `{type:'auth', ticket}`. */
  auth: Type.Union([message('auth', { token: credential }), message('auth', { ticket: credential })]),
  /** `channel` here is a resource name, so it follows resource naming, not channel naming. */
  publish: message('publish', { channel: Type.String({ minLength: 1, maxLength: 128 }), message: Type.Unknown() }),
  join: message('join', { channel, userInfo: Type.Optional(userInfo) }),
  leave: message('leave', { channel }),
  'channel:message': message('channel:message', {
    channel,
    event: Type.String({ minLength: 1, maxLength: 128 }),
    data: Type.Optional(Type.Unknown())
  }),
  'channel:update': message('channel:update', { channel, userInfo }),
  /** The live inspector's feed (option `inspector`); refused as an unknown type when it is off. */
  inspect: message('inspect', {})
}

export type ClientMessageType = keyof typeof ClientSchemas
/** The validated message of one type, as its handler receives it. */
export type ClientMessage<K extends ClientMessageType> = Static<(typeof ClientSchemas)[K]>

export type SubscribeMessage = ClientMessage<'subscribe'>
export type UnsubscribeMessage = ClientMessage<'unsubscribe'>
export type GetMessage = ClientMessage<'get'>
export type InsertManyMessage = ClientMessage<'insertMany'>
export type DeleteManyMessage = ClientMessage<'deleteMany'>
export type ListMessage = ClientMessage<'list'>
export type InsertMessage = ClientMessage<'insert'>
export type UpdateMessage = ClientMessage<'update'>
export type DeleteMessage = ClientMessage<'delete'>
export type AuthMessage = ClientMessage<'auth'>
export type PublishMessage = ClientMessage<'publish'>
export type JoinMessage = ClientMessage<'join'>
export type LeaveMessage = ClientMessage<'leave'>
export type ChannelMessageMessage = ClientMessage<'channel:message'>
export type ChannelUpdateMessage = ClientMessage<'channel:update'>
