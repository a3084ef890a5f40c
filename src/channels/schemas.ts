import { Type, type Static, type TSchema } from '@sinclair/typebox'
import { CHANNEL_NAME_PATTERN } from './names.js'

const base = {
  requestId: Type.Optional(Type.Union([Type.String({ maxLength: 128 }), Type.Integer()]))
}
const channel = Type.String({ minLength: 1, maxLength: 200, pattern: CHANNEL_NAME_PATTERN })
const userInfo = Type.Record(Type.String({ maxLength: 128 }), Type.Unknown())

function message<T extends Record<string, TSchema>> (type: string, fields: T) {
  return Type.Object({ type: Type.Literal(type), ...base, ...fields }, { additionalProperties: false })
}

/** Schemas of the publish and channel messages (PROTOCOL.md section 2). Unknown fields are refused. */
export const ChannelSchemas = {
  /** `channel` here is a resource name, so it follows resource naming, not channel naming. */
  publish: message('publish', { channel: Type.String({ minLength: 1, maxLength: 128 }), message: Type.Unknown() }),
  join: message('join', { channel, userInfo: Type.Optional(userInfo) }),
  leave: message('leave', { channel }),
  'channel:message': message('channel:message', {
    channel,
    event: Type.String({ minLength: 1, maxLength: 128 }),
    data: Type.Optional(Type.Unknown())
  }),
  'channel:update': message('channel:update', { channel, userInfo })
}

export type PublishMessage = Static<typeof ChannelSchemas.publish>
export type JoinMessage = Static<typeof ChannelSchemas.join>
export type LeaveMessage = Static<typeof ChannelSchemas.leave>
export type ChannelMessageMessage = Static<typeof ChannelSchemas['channel:message']>
export type ChannelUpdateMessage = Static<typeof ChannelSchemas['channel:update']>
