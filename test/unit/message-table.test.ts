import { existsSync, readFileSync } from 'node:fs'
import t from 'tap'
import type { TSchema } from '@sinclair/typebox'
import { ErrorCodes, ProtocolError } from '../../src/errors.js'
import { Dispatcher, type PreHandler } from '../../src/protocol/dispatcher.js'
import type { Services } from '../../src/protocol/context.js'
import { MESSAGES, refusalsFor, type Feature } from '../../src/protocol/messages.js'
import { ClientSchemas } from '../../src/wire/client-schemas.js'
import { parseFrames, recordingConnection } from './doubles.js'

/*
 * The protocol as data (src/protocol/messages.ts): every client message of the contract has a
 * row with its schema, its handler and its feature, and a feature turned off refuses its
 * messages before they are validated.
 */

/**
 * The client messages of PROTOCOL.md section 2 (the contract, kept beside the repository in
 * /work/shared). Written out here so the test runs on a clean clone; checked against the file
 * where it is present.
 */
const DOCUMENTED = [
  'ping', 'subscribe', 'unsubscribe', 'get', 'list', 'insert', 'update', 'delete',
  'publish', 'join', 'leave', 'channel:message', 'channel:update', 'auth'
]
/** Messages added after the contract (issue #15: batches; #17: the inspector), documented in docs/protocol.md and docs/operations.md. */
const ADDED = ['insertMany', 'deleteMany', 'inspect']
const CONTRACT = '/work/shared/PROTOCOL.md'
const CHANNEL_MESSAGES = ['join', 'leave', 'channel:message', 'channel:update']

/** The `type` literal(s) a schema accepts (the auth schema is a union of two objects). */
function typeLiterals (schema: TSchema): unknown[] {
  const members = (schema.anyOf as TSchema[] | undefined) ?? [schema]
  return members.map((member) => (member.properties as Record<string, TSchema> | undefined)?.type?.const)
}

t.test('the documented client messages are the rows of the table', async (t) => {
  if (existsSync(CONTRACT)) {
    const section = readFileSync(CONTRACT, 'utf8').split(/^## /m).find((part) => part.startsWith('2.')) ?? ''
    const documented = [...section.matchAll(/^\| `\{type:'([^']+)'/gm)].map((match) => match[1])
    t.same([...new Set(documented)].sort(), [...DOCUMENTED].sort(), 'the list above is the contract\'s')
  }
  t.same(Object.keys(MESSAGES).sort(), [...DOCUMENTED, ...ADDED].sort(), 'one row per documented message, and no other')
})

t.test('each row validates with the client schema of its type and has a handler', async (t) => {
  for (const [type, spec] of Object.entries(MESSAGES)) {
    t.equal(spec.schema, (ClientSchemas as Record<string, TSchema>)[type], `${type}: the schema of src/wire/client-schemas.ts`)
    t.ok(typeLiterals(spec.schema).every((literal) => literal === type), `${type}: the schema accepts only type "${type}"`)
    t.type(spec.handler, 'function', `${type}: has a handler`)
  }
})

t.test('features: the channel messages belong to `channels`; publish, records and auth are always on', async (t) => {
  const byFeature = (feature: Feature): string[] => Object.entries(MESSAGES).filter(([, spec]) => spec.feature === feature).map(([type]) => type).sort()
  t.same(byFeature('channels'), [...CHANNEL_MESSAGES].sort())
  t.same(byFeature('auth'), ['auth'])
  t.same(byFeature('inspector'), ['inspect'])
  const inspectorOff = refusalsFor(MESSAGES, ['inspector'])
  t.same([...inspectorOff.keys()], ['inspect'], 'the inspector off refuses inspect only')
  t.equal(inspectorOff.get('inspect')?.().code, ErrorCodes.UNKNOWN_MESSAGE_TYPE, 'as if the message did not exist')
  t.same(byFeature('core'), ['delete', 'deleteMany', 'get', 'insert', 'insertMany', 'list', 'ping', 'publish', 'subscribe', 'unsubscribe', 'update'])
  const refusals = refusalsFor(MESSAGES, ['channels'])
  t.same([...refusals.keys()].sort(), [...CHANNEL_MESSAGES].sort(), 'channels: false refuses exactly the channel messages')
  for (const refuse of refusals.values()) t.equal(refuse().code, ErrorCodes.CHANNELS_DISABLED)
  t.equal(refusalsFor(MESSAGES, []).size, 0, 'nothing refused with every feature on')
  t.throws(() => refusalsFor(MESSAGES, ['core']), /cannot be turned off/, 'a feature without a refusal cannot be turned off')
})

/** A Dispatcher over the real table, with the hub and options it reads (socket-free). */
function dispatcher (disabled: Feature[], preHandlers: PreHandler[] = []): Dispatcher {
  const hub = { counters: { messagesReceived: 0, errors: 0 } } as unknown as ConstructorParameters<typeof Dispatcher>[0]
  const options = { maxPayloadSize: 65_536, maxQueuedMessages: 100, maxQueuedBytes: 1 << 20 } as unknown as ConstructorParameters<typeof Dispatcher>[1]
  // No row used below reaches a service.
  const services = {} as unknown as Services
  return new Dispatcher(hub, options, { messages: MESSAGES, services, preHandlers, disabled })
}

async function exchange (d: Dispatcher, messages: Array<Record<string, unknown>>): Promise<Array<Record<string, unknown>>> {
  const { connection, frames } = recordingConnection('c1')
  for (const message of messages) d.handleFrame(connection, Buffer.from(JSON.stringify(message)), false)
  await d.settle(1000)
  return parseFrames(frames)
}

t.test('a disabled feature answers its refusal before schema validation', async (t) => {
  // `join` without a channel: invalid, yet the answer is that channels are off.
  const off = await exchange(dispatcher(['channels']), [{ type: 'join', requestId: 1 }, { type: 'ping', requestId: 2 }])
  t.match(off[0], { type: 'error', code: ErrorCodes.CHANNELS_DISABLED, requestId: 1 })
  t.match(off[1], { type: 'pong', requestId: 2 }, 'the other features still answer')
  const on = await exchange(dispatcher([]), [{ type: 'join', requestId: 1 }])
  t.match(on[0], { type: 'error', code: ErrorCodes.INVALID_REQUEST, requestId: 1 }, 'with channels on, the schema answers')
})

t.test('the pre-handlers given to the Dispatcher run first, in order, before the feature check', async (t) => {
  const seen: string[] = []
  const limiter: PreHandler = (_connection, type) => {
    seen.push(`limiter:${type}`)
    if (type === 'leave') throw new ProtocolError(ErrorCodes.RATE_LIMIT_EXCEEDED, 'Too many messages')
  }
  const gate: PreHandler = (_connection, type) => { seen.push(`gate:${type}`) }
  const frames = await exchange(dispatcher(['channels'], [limiter, gate]), [{ type: 'join', channel: 'a' }, { type: 'leave', channel: 'a' }, { type: 'nope' }])
  t.same(seen, ['limiter:join', 'gate:join', 'limiter:leave', 'limiter:unknown', 'gate:unknown'])
  t.match(frames[0], { code: ErrorCodes.CHANNELS_DISABLED }, 'join passed both pre-handlers, then the feature check')
  t.match(frames[1], { code: ErrorCodes.RATE_LIMIT_EXCEEDED }, 'leave was stopped by the first pre-handler, before the feature check')
  t.match(frames[2], { code: ErrorCodes.UNKNOWN_MESSAGE_TYPE })
})
