import { Type, type Static, type TSchema } from '@sinclair/typebox'

/** Common to every client message. */
const base = {
  requestId: Type.Optional(Type.Union([Type.String({ maxLength: 128 }), Type.Integer()]))
}
const resource = Type.String({ minLength: 1, maxLength: 128 })
const id = Type.String({ minLength: 1, maxLength: 512 })
const filter = Type.Record(Type.String(), Type.Unknown())
const data = Type.Record(Type.String(), Type.Unknown())
const changeType = Type.Union([Type.Literal('insert'), Type.Literal('update'), Type.Literal('delete')])

function message<T extends Record<string, TSchema>> (type: string, fields: T) {
  return Type.Object({ type: Type.Literal(type), ...base, ...fields }, { additionalProperties: false })
}

/**
 * One schema per client message type. Unknown fields are refused (INVALID_REQUEST) so typos do
 * not silently change meaning. Feature modules add their own types to the dispatch table.
 */
export const Schemas = {
  ping: message('ping', {}),
  subscribe: message('subscribe', {
    resource,
    filter: Type.Optional(filter),
    events: Type.Optional(Type.Array(changeType, { minItems: 1, maxItems: 3 })),
    since: Type.Optional(Type.Integer({ minimum: 0 })),
    epoch: Type.Optional(Type.String({ maxLength: 128 })),
    snapshot: Type.Optional(Type.Boolean())
  }),
  unsubscribe: message('unsubscribe', {
    resource: Type.Optional(resource),
    filter: Type.Optional(filter),
    subscriptionId: Type.Optional(Type.String({ minLength: 1, maxLength: 128 }))
  }),
  get: message('get', { resource, id, partition: Type.Optional(Type.String({ maxLength: 128 })) }),
  list: message('list', {
    resource,
    filter: Type.Optional(filter),
    partition: Type.Optional(Type.String({ maxLength: 128 })),
    limit: Type.Optional(Type.Integer({ minimum: 1 })),
    cursor: Type.Optional(Type.Union([Type.String({ maxLength: 2048 }), Type.Null()]))
  }),
  insert: message('insert', { resource, data }),
  // `partition` is accepted for compatibility with the seed's plugin; s3db locates records by id.
  update: message('update', { resource, id, data, partition: Type.Optional(Type.String({ maxLength: 128 })) }),
  delete: message('delete', { resource, id, partition: Type.Optional(Type.String({ maxLength: 128 })) })
}

export type SubscribeMessage = Static<typeof Schemas.subscribe>
export type UnsubscribeMessage = Static<typeof Schemas.unsubscribe>
export type GetMessage = Static<typeof Schemas.get>
export type ListMessage = Static<typeof Schemas.list>
export type InsertMessage = Static<typeof Schemas.insert>
export type UpdateMessage = Static<typeof Schemas.update>
export type DeleteMessage = Static<typeof Schemas.delete>
