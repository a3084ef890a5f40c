import type { Static, TSchema } from '@sinclair/typebox'
import { ErrorCodes, ProtocolError } from '../errors.js'
import { ClientSchemas, type ClientMessageType } from '../wire/client-schemas.js'
import { pongFrame } from '../wire/frames.js'
import type { Handler } from './context.js'
import { handleAuth } from './handlers/auth.js'
import { handleChannelMessage, handleChannelUpdate, handleJoin, handleLeave } from './handlers/channels.js'
import { handlePublish } from './handlers/publish.js'
import { handleDelete, handleGet, handleInsert, handleList, handleUpdate } from './handlers/records.js'
import { handleDeleteMany, handleInsertMany } from './handlers/batch.js'
import { handleInspect } from './handlers/inspect.js'
import { handleSubscribe, handleUnsubscribe } from './handlers/subscriptions.js'

/**
 * The option group a message belongs to. `core` and `auth` are always on; `channels: false`
 * turns the channel messages off (they are then refused before schema validation, so a
 * disabled feature answers the same whatever was sent); `inspect` is on only with the
 * `inspector` option.
 */
export type Feature = 'core' | 'auth' | 'channels' | 'inspector'

/** One row of the table: how a message is validated, who handles it, which feature it belongs to. */
export interface MessageSpec {
  readonly schema: TSchema
  /** Receives the message once `schema` has validated it (typed per row by `row`). */
  readonly handler: Handler<any>
  readonly feature: Feature
}

export type MessageTable = Readonly<Record<string, MessageSpec>>

function row<S extends TSchema> (schema: S, handler: Handler<Static<S>>, feature: Feature): MessageSpec {
  return { schema, handler, feature }
}

/** The protocol as data: every client message type (PROTOCOL.md section 2). */
export const MESSAGES: Readonly<Record<ClientMessageType, MessageSpec>> = {
  ping: row(ClientSchemas.ping, (ctx) => { ctx.reply(pongFrame()) }, 'core'),
  subscribe: row(ClientSchemas.subscribe, handleSubscribe, 'core'),
  unsubscribe: row(ClientSchemas.unsubscribe, handleUnsubscribe, 'core'),
  get: row(ClientSchemas.get, handleGet, 'core'),
  list: row(ClientSchemas.list, handleList, 'core'),
  insert: row(ClientSchemas.insert, handleInsert, 'core'),
  update: row(ClientSchemas.update, handleUpdate, 'core'),
  delete: row(ClientSchemas.delete, handleDelete, 'core'),
  insertMany: row(ClientSchemas.insertMany, handleInsertMany, 'core'),
  deleteMany: row(ClientSchemas.deleteMany, handleDeleteMany, 'core'),
  auth: row(ClientSchemas.auth, handleAuth, 'auth'),
  // To the subscribers of a resource, not to a channel: `channels: false` leaves it on.
  publish: row(ClientSchemas.publish, handlePublish, 'core'),
  join: row(ClientSchemas.join, handleJoin, 'channels'),
  leave: row(ClientSchemas.leave, handleLeave, 'channels'),
  'channel:message': row(ClientSchemas['channel:message'], handleChannelMessage, 'channels'),
  'channel:update': row(ClientSchemas['channel:update'], handleChannelUpdate, 'channels'),
  inspect: row(ClientSchemas.inspect, handleInspect, 'inspector')
}

/** What a message of a feature the options turned off gets; features without an entry cannot be turned off. */
const REFUSALS: Readonly<Partial<Record<Feature, () => ProtocolError>>> = {
  channels: () => new ProtocolError(ErrorCodes.CHANNELS_DISABLED, 'Channels are disabled on this server'),
  // Off by default: a server without the inspector answers as if the message did not exist.
  inspector: () => new ProtocolError(ErrorCodes.UNKNOWN_MESSAGE_TYPE, 'Unknown message type "inspect"')
}

/** The refusal of each message type whose feature is in `disabled`. */
export function refusalsFor (table: MessageTable, disabled: Iterable<Feature>): Map<string, () => ProtocolError> {
  const off = new Set(disabled)
  const refusals = new Map<string, () => ProtocolError>()
  for (const [type, spec] of Object.entries(table)) {
    if (!off.has(spec.feature)) continue
    const refuse = REFUSALS[spec.feature]
    if (refuse === undefined) throw new Error(`feature "${spec.feature}" cannot be turned off`)
    refusals.set(type, refuse)
  }
  return refusals
}
