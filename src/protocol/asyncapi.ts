import { createRequire } from 'node:module'
import type { TSchema } from '@sinclair/typebox'
import { CloseCodes } from '../errors.js'
import { ClientSchemas, type ClientMessageType } from '../wire/client-schemas.js'
import { ErrorCodeDescriptions, ErrorDetailsSchemas, MemberSchema, ServerSchemas, UserSchema, type ServerFrameType } from '../wire/server-schemas.js'

/** What answers each client message (besides `error`, which any of them may get). */
const REPLIES: Readonly<Record<ClientMessageType, readonly ServerFrameType[]>> = {
  ping: ['pong'],
  subscribe: ['subscribed'],
  unsubscribe: ['unsubscribed'],
  get: ['data'],
  list: ['data'],
  insert: ['inserted'],
  update: ['updated'],
  delete: ['deleted'],
  insertMany: ['insertedMany'],
  deleteMany: ['deletedMany'],
  auth: ['authenticated'],
  publish: ['published'],
  join: ['channel:joined'],
  leave: ['channel:left'],
  'channel:message': ['channel:sent'],
  'channel:update': ['channel:updated'],
  inspect: ['inspector']
}

/** Typed by CloseCodes, so a new close code cannot go undocumented. */
const CLOSE_CODE_DESCRIPTIONS: Readonly<Record<keyof typeof CloseCodes, string>> = {
  NORMAL: 'Normal closure',
  GOING_AWAY: 'Server shutting down (waits up to drainTimeout for the close handshake)',
  POLICY_VIOLATION: 'Policy: disconnectUser(), message floods, too many failed auth attempts, no in-band auth in time',
  MESSAGE_TOO_BIG: 'A frame larger than maxPayloadSize',
  TRY_AGAIN_LATER: 'Slow consumer (backpressure) or too many queued messages (maxQueuedMessages/maxQueuedBytes)',
  TOKEN_EXPIRED: 'The credential expired; reconnect with a fresh one'
}

export interface AsyncApiOptions {
  /** The WebSocket route. @default '/ws' */
  path?: string
  /** `host[:port]` of the server entry. @default 'localhost:3000' (a placeholder) */
  host?: string
  /** @default 'ws' */
  protocol?: 'ws' | 'wss'
}

export type AsyncApiDocument = Record<string, unknown>

const PACKAGE = createRequire(import.meta.url)('../../package.json') as { version: string, description: string, license: string }

/** A TypeBox schema as the document's plain JSON Schema (TypeBox marks its schemas with Symbol keys). */
export function plain (schema: TSchema): Record<string, unknown> {
  return enumerate(JSON.parse(JSON.stringify(schema)) as Record<string, unknown>) as Record<string, unknown>
}

/**
 * TypeBox writes a union of string literals as `anyOf: [{const}, …]`; an `enum` says the same,
 * reads better and is what code generators turn into a string union.
 */
function enumerate (node: unknown): unknown {
  if (Array.isArray(node)) return node.map(enumerate)
  if (node === null || typeof node !== 'object') return node
  const object = node as Record<string, unknown>
  const anyOf = object.anyOf
  if (Array.isArray(anyOf) && anyOf.length > 0 && anyOf.every((s) => typeof (s as { const?: unknown }).const === 'string' && Object.keys(s as object).every((k) => k === 'const' || k === 'type'))) {
    const { anyOf: _, ...rest } = object
    return { type: 'string', enum: anyOf.map((s) => (s as { const: string }).const), ...rest }
  }
  return Object.fromEntries(Object.entries(object).map(([key, value]) => [key, enumerate(value)]))
}

/** Component names may not contain ':' (AsyncAPI's key pattern), so 'channel:message' -> 'channel.message'. */
const key = (side: 'client' | 'server', type: string): string => `${side}.${type.replace(/:/g, '.')}`
const messageRef = (name: string): { $ref: string } => ({ $ref: `#/channels/realtime/messages/${name}` })

function messages (): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [type, schema] of Object.entries(ClientSchemas)) {
    out[key('client', type)] = { name: type, title: `${type} (client -> server)`, contentType: 'application/json', payload: plain(schema) }
  }
  for (const [type, schema] of Object.entries(ServerSchemas)) {
    const described = (schema as { description?: string }).description
    const message: Record<string, unknown> = { name: type, title: `${type} (server -> client)`, contentType: 'application/json', payload: plain(schema) }
    if (described !== undefined) message.summary = described
    if (type === 'error') {
      message['x-error-codes'] = { ...ErrorCodeDescriptions }
      message['x-error-details'] = Object.fromEntries(Object.keys(ErrorDetailsSchemas).map((code) => [code, { $ref: `#/components/schemas/${code}Details` }]))
    }
    out[key('server', type)] = message
  }
  return out
}

/**
 * The document describes the server: it receives client messages (each with its reply) and
 * sends replies and pushes.
 */
function operations (): Record<string, unknown> {
  const channel = { $ref: '#/channels/realtime' }
  const out: Record<string, unknown> = {}
  for (const type of Object.keys(ClientSchemas) as ClientMessageType[]) {
    out[`receive.${key('client', type).slice(7)}`] = {
      action: 'receive',
      channel,
      summary: `Client sends ${type}`,
      messages: [messageRef(key('client', type))],
      reply: { channel, messages: [...REPLIES[type], 'error'].map((reply) => messageRef(key('server', reply))) }
    }
  }
  for (const type of Object.keys(ServerSchemas)) {
    out[`send.${key('server', type).slice(7)}`] = { action: 'send', channel, summary: `Server sends ${type}`, messages: [messageRef(key('server', type))] }
  }
  return out
}

/** The AsyncAPI 3.0.0 document of the WebSocket protocol, built from the message schemas. */
export function buildAsyncApi (options: AsyncApiOptions = {}): AsyncApiDocument {
  const path = options.path ?? '/ws'
  const componentMessages = messages()
  return {
    asyncapi: '3.0.0',
    info: {
      title: 's3db-realtime',
      version: PACKAGE.version,
      description: `${PACKAGE.description}\n\nJSON text frames over one WebSocket. Every client message may carry a requestId that its reply echoes; messages are handled in order per socket. Apps may also send their own frames (app.realtime.broadcast / sendToClient), which are not described here.`,
      license: { name: PACKAGE.license }
    },
    defaultContentType: 'application/json',
    servers: {
      default: {
        host: options.host ?? 'localhost:3000',
        protocol: options.protocol ?? 'ws',
        description: options.host === undefined ? 'Placeholder: the host of the Fastify app that registered s3db-realtime' : 'This server'
      }
    },
    channels: {
      realtime: {
        address: path,
        title: 'Realtime socket',
        description: 'The upgrade runs the app\'s hooks: 401 without a valid credential when auth.required, 403 for a disallowed Origin, 429 over connectionRateLimit, 503 over maxConnections.',
        messages: Object.fromEntries(Object.keys(componentMessages).map((name) => [name, { $ref: `#/components/messages/${name}` }])),
        bindings: {
          ws: {
            method: 'GET',
            query: {
              type: 'object',
              properties: {
                token: { type: 'string', description: 'A credential for the upgrade (prefer the Authorization header or an in-band auth message)' },
                ticket: { type: 'string', description: 'A one-time connection ticket' }
              }
            },
            bindingVersion: '0.1.0'
          }
        },
        'x-close-codes': Object.entries(CloseCodes).map(([name, code]) => ({ code, name, description: CLOSE_CODE_DESCRIPTIONS[name as keyof typeof CloseCodes] }))
      }
    },
    operations: operations(),
    components: {
      messages: componentMessages,
      schemas: {
        User: plain(UserSchema),
        Member: plain(MemberSchema),
        ...Object.fromEntries(Object.entries(ErrorDetailsSchemas).map(([code, schema]) => [`${code}Details`, plain(schema as TSchema)]))
      }
    }
  }
}
