import { readFile } from 'node:fs/promises'
import t from 'tap'
import Fastify from 'fastify'
import type { TSchema } from '@sinclair/typebox'
import s3dbRealtime from '../../src/index.js'
import { CloseCodes, ErrorCodes } from '../../src/errors.js'
import { buildAsyncApi, plain } from '../../src/protocol/asyncapi.js'
import { Dispatcher } from '../../src/protocol/dispatcher.js'
import { ServerSchemas } from '../../src/wire/server-schemas.js'
import { buildApp } from '../helpers/app.js'
import { createDatabase } from '../helpers/db.js'
import { jwtAuth } from '../helpers/users.js'

type Json = Record<string, any>

const root = new URL('../../', import.meta.url)
const pkg = JSON.parse(await readFile(new URL('package.json', root), 'utf8')) as { version: string }

/** Follows a local `#/a/b` reference; undefined when it points nowhere. */
function resolve (doc: Json, ref: string): Json | undefined {
  if (!ref.startsWith('#/')) return undefined
  let node: any = doc
  for (const part of ref.slice(2).split('/')) node = node?.[part]
  return node as Json | undefined
}

/** The component message a channel-message reference leads to (channel -> components). */
function channelMessage (doc: Json, ref: string): Json | undefined {
  const inChannel = resolve(doc, ref)
  return inChannel?.$ref === undefined ? undefined : resolve(doc, inChannel.$ref as string)
}

t.test('the committed asyncapi.json is what buildAsyncApi() produces (run `npm run asyncapi` after a schema change)', async (t) => {
  const committed = await readFile(new URL('asyncapi.json', root), 'utf8')
  const built = buildAsyncApi()
  t.same(JSON.parse(committed), built, 'same document')
  t.equal(committed, JSON.stringify(built, null, 2) + '\n', 'same bytes as scripts/asyncapi.mjs writes')
})

t.test('an AsyncAPI 3 document whose operations all reference existing messages', async (t) => {
  const doc = buildAsyncApi() as Json
  t.equal(doc.asyncapi, '3.0.0')
  t.equal(doc.info.version, pkg.version)
  t.equal(doc.channels.realtime.address, '/ws')
  const operations = Object.entries(doc.operations as Record<string, Json>)
  t.ok(operations.length > 0)
  const used = new Set<string>()
  for (const [name, operation] of operations) {
    t.ok(['send', 'receive'].includes(operation.action), `${name}: action`)
    t.equal(resolve(doc, operation.channel.$ref), doc.channels.realtime, `${name}: channel exists`)
    const refs = [...operation.messages, ...(operation.reply?.messages ?? [])] as Array<{ $ref: string }>
    t.ok(operation.messages.length > 0, `${name}: has messages`)
    for (const { $ref } of refs) {
      t.match($ref, /^#\/channels\/realtime\/messages\//, `${name}: references a message of its channel`)
      const message = channelMessage(doc, $ref)
      t.ok(message?.payload?.type !== undefined || message?.payload?.anyOf !== undefined, `${name}: ${$ref} resolves to a message with a payload`)
      used.add($ref.split('/').pop() as string)
    }
  }
  t.same(Object.keys(doc.components.messages).filter((name) => !used.has(name)), [], 'every message is used by an operation')
  for (const name of Object.keys(doc.components.messages)) t.match(name, /^[a-zA-Z0-9.\-_]+$/, `component key ${name} is valid`)
  t.notOk(JSON.stringify(doc).includes('"[Symbol'), 'no TypeBox internals')
})

t.test('every registered client message type is in the document, with the schema it is validated against', async (t) => {
  const registered = new Map<string, TSchema>()
  // Records the real dispatch table of a plugin with every feature on (a spy: registration still happens).
  const original = Dispatcher.prototype.register
  Dispatcher.prototype.register = function (this: Dispatcher, type, schema, handler) {
    registered.set(type, schema)
    original.call(this, type, schema, handler)
  }
  t.teardown(() => { Dispatcher.prototype.register = original })
  await buildApp(t, { ...jwtAuth, rateLimit: { enabled: true }, channels: true, tickets: { ttlMs: 30_000 } })
  t.ok(registered.size >= 14, `${registered.size} message types registered`)

  const doc = buildAsyncApi() as Json
  const received = new Map<string, Json>()
  for (const operation of Object.values(doc.operations as Record<string, Json>)) {
    if (operation.action !== 'receive') continue
    const message = channelMessage(doc, operation.messages[0].$ref as string) as Json
    received.set(message.name as string, message)
  }
  t.same([...received.keys()].sort(), [...registered.keys()].sort(), 'receive operations = registered message types')
  for (const [type, schema] of registered) {
    t.same(received.get(type)?.payload, plain(schema), `${type}: payload is the schema the dispatcher validates with`)
  }
})

t.test('every server frame, error code and close code is documented', async (t) => {
  const doc = buildAsyncApi() as Json
  const sent = Object.values(doc.operations as Record<string, Json>)
    .filter((operation) => operation.action === 'send')
    .map((operation) => channelMessage(doc, operation.messages[0].$ref as string)?.name as string)
  t.same(sent.sort(), Object.keys(ServerSchemas).sort(), 'one send operation per server frame type')
  const error = doc.components.messages['server.error'] as Json
  t.same(error.payload.properties.code.enum, Object.values(ErrorCodes), 'error code enum')
  t.same(Object.keys(error['x-error-codes']), Object.values(ErrorCodes), 'every code described')
  t.ok(resolve(doc, error['x-error-details'].RESYNC_REQUIRED.$ref as string), 'RESYNC_REQUIRED details schema exists')
  const closeCodes = doc.channels.realtime['x-close-codes'] as Array<{ code: number, name: string, description: string }>
  t.same(closeCodes.map((c) => c.code), Object.values(CloseCodes))
  t.ok(closeCodes.every((c) => c.description.length > 0))
  const subscribe = doc.operations['receive.subscribe'] as Json
  t.same(subscribe.reply.messages.map((m: { $ref: string }) => channelMessage(doc, m.$ref)?.name), ['subscribed', 'error'], 'request/reply pairs')
})

t.test('asyncapi option: off by default; true serves GET <path>/asyncapi.json for this server', async (t) => {
  const off = await buildApp(t)
  t.equal((await off.app.inject({ method: 'GET', url: '/ws/asyncapi.json' })).statusCode, 404, 'off by default')

  const on = await buildApp(t, { asyncapi: true })
  const port = (on.app.server.address() as { port: number }).port
  const res = await fetch(`http://127.0.0.1:${port}/ws/asyncapi.json`)
  t.equal(res.status, 200)
  t.match(res.headers.get('content-type'), /^application\/json/)
  const served = await res.json() as Json
  t.same({ ...served, servers: undefined }, { ...buildAsyncApi(), servers: undefined }, 'the document')
  t.same(served.servers.default, { host: `127.0.0.1:${port}`, protocol: 'ws', description: 'This server' }, 'its server entry is this one')
})

t.test('asyncapi.path and the WebSocket path are honoured', async (t) => {
  const { app } = await buildApp(t, { path: '/live/', asyncapi: { path: '/docs/realtime.json' } })
  const res = await app.inject({ method: 'GET', url: '/docs/realtime.json', headers: { host: 'rt.example.com' } })
  t.equal(res.statusCode, 200)
  t.equal(res.json().channels.realtime.address, '/live/')
  t.equal(res.json().servers.default.host, 'rt.example.com')
  const trailing = await buildApp(t, { path: '/live/', asyncapi: true })
  t.equal((await trailing.app.inject({ method: 'GET', url: '/live/asyncapi.json' })).statusCode, 200, 'default route under a path with a trailing slash')
})

t.test('invalid asyncapi options and taken routes are coded errors at register', async (t) => {
  const db = await createDatabase(t)
  const cases: Array<[unknown, RegExp]> = [
    ['yes', /asyncapi must be a boolean/],
    [{ path: 'docs' }, /asyncapi.path must be a string starting with "\/"/],
    [{ path: 42 }, /asyncapi.path must be a string/],
    [{ route: '/x' }, /asyncapi.route is not a known asyncapi option/],
    [{ path: '/ws' }, /asyncapi.path must differ from the WebSocket path/],
    [{ path: '/taken' }, /asyncapi.path "\/taken" is already a route of the app/]
  ]
  for (const [asyncapi, message] of cases) {
    const app = Fastify({ logger: false })
    app.get('/taken', async () => 'mine')
    t.teardown(async () => { await app.close() })
    const error = await app.register(s3dbRealtime, { database: db, asyncapi: asyncapi as boolean }).ready().then(() => null, (e: unknown) => e as { code?: string, message: string })
    t.equal(error?.code, 'S3DB_REALTIME_INVALID_OPTION', `${JSON.stringify(asyncapi)} is refused`)
    t.match(error?.message, message)
  }
})
