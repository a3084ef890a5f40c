import t, { type Test } from 'tap'
import { FormatRegistry, type TSchema } from '@sinclair/typebox'
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler'
import { ErrorDetailsSchemas, ServerSchemas } from '../../src/wire/server-schemas.js'
import type { ErrorCode } from '../../src/errors.js'
import type { RealtimeUser } from '../../src/index.js'
import { buildApp } from '../helpers/app.js'
import { TestClient, type Message } from '../helpers/client.js'
import { hsToken } from '../helpers/jwt.js'
import { asUser, jwtAuth } from '../helpers/users.js'

/*
 * Every frame a real server sends in these scenarios is checked against the schema of its
 * `type` in src/wire/server-schemas.ts (the source of the AsyncAPI document): a sender that
 * adds, renames or retypes a field fails here until the schema (and the document) follow.
 */

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/
if (!FormatRegistry.Has('date-time')) FormatRegistry.Set('date-time', (value) => ISO.test(value) && !Number.isNaN(Date.parse(value)))

const checks = new Map<string, TypeCheck<TSchema>>(Object.entries(ServerSchemas).map(([type, schema]) => [type, TypeCompiler.Compile(schema as TSchema)]))
const detailChecks = new Map(Object.entries(ErrorDetailsSchemas).map(([code, schema]) => [code, TypeCompiler.Compile(schema as TSchema)]))

/** Every frame received by the clients of one test, in order. */
class Recorder {
  readonly frames: Message[] = []

  /** A client whose every frame is recorded from the first byte (the listener is attached before `connected`). */
  async open (url: string, user?: RealtimeUser): Promise<TestClient & { id: string }> {
    const client = new TestClient(url, user === undefined ? undefined : { headers: asUser(user) })
    client.socket.on('message', (data) => { this.frames.push(JSON.parse(data.toString()) as Message) })
    const connected = await client.waitType('connected')
    return Object.assign(client, { id: connected.clientId as string })
  }

  /** Checks every recorded frame; returns the types seen. */
  verify (t: Test): Set<string> {
    const seen = new Set<string>()
    for (const frame of this.frames) {
      const type = String(frame.type)
      const label = type === 'error' ? `error ${String(frame.code)}` : type
      seen.add(label)
      const check = checks.get(type)
      if (check === undefined) {
        t.fail(`frame type "${type}" has no schema`, { frame })
        continue
      }
      const errors = [...check.Errors(frame)].slice(0, 5).map((e) => `${e.path}: ${e.message}`)
      t.ok(check.Check(frame), `${label} frame matches its schema`, { frame, errors })
      const details = type === 'error' ? detailChecks.get(frame.code as ErrorCode) : undefined
      if (details !== undefined) t.ok(details.Check(frame.details), `${label} details match their schema`, { details: frame.details })
    }
    return seen
  }
}

const ann = { id: 'ann', name: 'Ann', role: 'admin' }
const bob = { id: 'bob', name: 'Bob', role: 'user' }

t.test('real frames of records, subscriptions, events, publish, channels, presence, auth and errors match the server schemas', async (t) => {
  const { url, db } = await buildApp(t, {
    ...jwtAuth,
    resources: { messages: true, users: { protected: ['password'], guard: { subscribe: (user) => user?.role === 'admin' } } },
    channels: { guards: { 'private-admins': (user) => user.role === 'admin' } }
  })
  const rec = new Recorder()
  const a = await rec.open(url, ann)
  const b = await rec.open(url, bob)
  const anon = await rec.open(url)
  t.teardown(() => { a.close(); b.close(); anon.close() })

  await a.request({ type: 'ping' })
  await a.request({ type: 'subscribe', resource: 'messages', filter: { channel: 'general' } })
  await a.request({ type: 'subscribe', resource: 'users' })
  const snap = await b.request({ type: 'subscribe', resource: 'messages', snapshot: true })
  t.ok(snap.snapshot, 'snapshot reply')
  await anon.request({ type: 'subscribe', resource: 'messages', filter: { channel: 'general' }, events: ['insert'] })

  // Records and their events (insert, update, update that leaves a filter, delete, reset).
  const inserted = await b.request({ type: 'insert', resource: 'messages', data: { content: 'hi', channel: 'general' } })
  const id = inserted.data.id as string
  await a.waitFor((m) => m.type === 'event' && m.event === 'insert')
  await b.request({ type: 'update', resource: 'messages', id, data: { content: 'edited' } })
  await b.request({ type: 'update', resource: 'messages', id, data: { channel: 'elsewhere' } })
  await a.waitFor((m) => m.type === 'event' && m.left === true)
  await b.request({ type: 'get', resource: 'messages', id })
  await b.request({ type: 'list', resource: 'messages', limit: 1 })
  await b.request({ type: 'delete', resource: 'messages', id })
  await b.waitFor((m) => m.type === 'event' && m.event === 'delete')
  await db.resources.messages!.deleteAll()
  await b.waitFor((m) => m.type === 'event' && m.event === 'reset')
  await b.request({ type: 'unsubscribe', subscriptionId: snap.subscriptionId })

  // Publish to a resource's subscribers.
  await a.request({ type: 'publish', channel: 'messages', message: { text: 'hello' } })
  await anon.waitType('message')

  // Channels and presence.
  await a.request({ type: 'join', channel: 'presence-room', userInfo: { status: 'online' } })
  await a.request({ type: 'join', channel: 'private-admins' })
  await anon.request({ type: 'join', channel: 'public-lobby' })
  await b.request({ type: 'join', channel: 'presence-room' })
  await a.waitType('presence:member_joined')
  await b.request({ type: 'channel:update', channel: 'presence-room', userInfo: { typing: true } })
  await a.waitType('presence:member_updated')
  await a.request({ type: 'channel:message', channel: 'presence-room', event: 'chat', data: { text: 'yo' } })
  await b.waitType('channel:message')
  await b.request({ type: 'leave', channel: 'presence-room' })
  await a.waitType('presence:member_left')

  // A refresh that drops ann's admin role takes away the guarded subscription and channel.
  await a.request({ type: 'auth', token: hsToken({ id: 'ann', name: 'Ann', role: 'user' }, { expiresIn: 3_600_000 }) })
  t.ok(a.ofType('unsubscribed').some((m) => m.reason === 'FORBIDDEN'), 'pushed unsubscribed')
  t.ok(a.ofType('channel:left').some((m) => m.reason === 'FORBIDDEN'), 'pushed channel:left')

  // Errors, one per reachable code.
  const errors: Array<[ErrorCode, TestClient, unknown]> = [
    ['INVALID_JSON', b, '{not json'],
    ['INVALID_REQUEST', b, { type: 'subscribe', resource: 'messages', bogus: 1 }],
    ['UNKNOWN_MESSAGE_TYPE', b, { type: 'nope' }],
    ['RESOURCE_NOT_FOUND', b, { type: 'get', resource: 'ghosts', id: 'x' }],
    ['NOT_FOUND', b, { type: 'get', resource: 'messages', id: 'missing' }],
    ['VALIDATION_ERROR', b, { type: 'insert', resource: 'messages', data: { content: 'no channel' } }],
    ['FORBIDDEN', anon, { type: 'join', channel: 'private-admins' }],
    ['UNAUTHORIZED', b, { type: 'auth', token: 'not-a-token' }],
    ['RESYNC_REQUIRED', b, { type: 'subscribe', resource: 'messages', since: 99999, epoch: snap.epoch }],
    ['NOT_IN_CHANNEL', b, { type: 'leave', channel: 'presence-room' }]
  ]
  for (const [code, client, message] of errors) {
    client.send(message)
    await client.waitFor((m) => m.type === 'error' && m.code === code)
  }

  const seen = rec.verify(t)
  const expected = [
    'connected', 'pong', 'subscribed', 'unsubscribed', 'data', 'inserted', 'updated', 'deleted', 'event',
    'published', 'message', 'channel:joined', 'channel:left', 'channel:sent', 'channel:updated', 'channel:message',
    'presence:member_joined', 'presence:member_left', 'presence:member_updated', 'authenticated',
    ...errors.map(([code]) => `error ${code}`)
  ]
  t.same(expected.filter((type) => !seen.has(type)), [], 'the scenario produced every expected frame type')
})

t.test('presence:count, LIMIT_EXCEEDED and CHANNELS_DISABLED frames match the server schemas', async (t) => {
  const { url } = await buildApp(t, { ...jwtAuth, maxSubscriptionsPerConnection: 1, channels: { presenceSummaryThreshold: 1, presenceSummaryInterval: 10 } })
  const rec = new Recorder()
  const a = await rec.open(url, ann)
  const b = await rec.open(url, bob)
  t.teardown(() => { a.close(); b.close() })
  await a.request({ type: 'join', channel: 'presence-big' })
  await b.request({ type: 'join', channel: 'presence-big' })
  await a.waitType('presence:count')
  await a.request({ type: 'subscribe', resource: 'messages' })
  a.send({ type: 'subscribe', resource: 'users' })
  await a.waitFor((m) => m.type === 'error' && m.code === 'LIMIT_EXCEEDED')

  const off = await buildApp(t, { channels: false })
  const c = await rec.open(off.url)
  t.teardown(() => { c.close() })
  c.send({ type: 'join', channel: 'public-x' })
  await c.waitFor((m) => m.type === 'error' && m.code === 'CHANNELS_DISABLED')

  const seen = rec.verify(t)
  t.same(['presence:count', 'error LIMIT_EXCEEDED', 'error CHANNELS_DISABLED', 'connected'].filter((type) => !seen.has(type)), [])
})

t.test('RATE_LIMIT_EXCEEDED frames match the error schema', async (t) => {
  const { url } = await buildApp(t, { rateLimit: { enabled: true, windowMs: 60_000, maxRequests: 2 } })
  const rec = new Recorder()
  const a = await rec.open(url)
  t.teardown(() => { a.close() })
  for (let i = 0; i < 3; i++) a.send({ type: 'ping' })
  await a.waitFor((m) => m.type === 'error' && m.code === 'RATE_LIMIT_EXCEEDED')
  const seen = rec.verify(t)
  t.ok(seen.has('error RATE_LIMIT_EXCEEDED'))
})
