// Black-box conformance: PROTOCOL.md's error codes (each reachable in one instance) and close
// codes. After every error the socket must stay usable; INTERNAL_ERROR must not leak internals.
import type { Socket } from 'node:net'
import Fastify from 'fastify'
import t, { type Test } from 'tap'
import s3dbRealtime from '../../src/index.js'
import { buildApp } from '../helpers/app.js'
import { connect, type Message, type TestClient } from '../helpers/client.js'
import { createDatabase } from '../helpers/db.js'
import { hsToken, SECRET } from '../helpers/jwt.js'

const jwtAuth = { drivers: [{ driver: 'jwt' as const, config: { secret: SECRET } }] }

/** An error frame has the documented shape; the socket still answers a ping afterwards. */
async function expectError (t: Test, c: TestClient, reply: Message, code: string): Promise<void> {
  t.equal(reply.type, 'error', `${code}: ${JSON.stringify(reply)}`)
  t.equal(reply.code, code)
  t.type(reply.message, 'string')
  const pong = await c.request({ type: 'ping' })
  t.equal(pong.type, 'pong', `socket usable after ${code}`)
}

t.test('INVALID_JSON, INVALID_REQUEST (details names the field), UNKNOWN_MESSAGE_TYPE', async (t) => {
  const { client } = await buildApp(t)
  const c = await client()
  c.send('{not json')
  await expectError(t, c, await c.waitType('error'), 'INVALID_JSON')

  const missing = await c.request({ type: 'subscribe' })
  await expectError(t, c, missing, 'INVALID_REQUEST')
  t.match(JSON.stringify(missing.details), /resource/, 'details says which field')
  const badType = await c.request({ type: 'get', resource: 'messages', id: { $ne: null } })
  await expectError(t, c, badType, 'INVALID_REQUEST')
  t.match(JSON.stringify(badType.details), /id/)

  const unknown = await c.request({ type: 'frobnicate' })
  await expectError(t, c, unknown, 'UNKNOWN_MESSAGE_TYPE')
})

t.test('RESOURCE_NOT_FOUND for unknown and disabled resources', async (t) => {
  const { client } = await buildApp(t, { resources: { messages: true, users: false } })
  const c = await client()
  for (const msg of [
    { type: 'subscribe', resource: 'ghosts' },
    { type: 'get', resource: 'ghosts', id: 'x' },
    { type: 'list', resource: 'users' },
    { type: 'subscribe', resource: 'users' },
    { type: 'insert', resource: 'users', data: { name: 'x' } }
  ]) {
    await expectError(t, c, await c.request(msg), 'RESOURCE_NOT_FOUND')
  }
})

t.test('NOT_FOUND for get, update and delete of a missing record', async (t) => {
  const { client } = await buildApp(t)
  const c = await client()
  await expectError(t, c, await c.request({ type: 'get', resource: 'messages', id: 'nope' }), 'NOT_FOUND')
  await expectError(t, c, await c.request({ type: 'update', resource: 'messages', id: 'nope', data: { content: 'x' } }), 'NOT_FOUND')
  await expectError(t, c, await c.request({ type: 'delete', resource: 'messages', id: 'nope' }), 'NOT_FOUND')
})

t.test('VALIDATION_ERROR lists the fields s3db rejected', async (t) => {
  const { client, db } = await buildApp(t)
  const c = await client()
  const reply = await c.request({ type: 'insert', resource: 'messages', data: { channel: 'general' } })
  await expectError(t, c, reply, 'VALIDATION_ERROR')
  t.match(JSON.stringify(reply.details), /content/, 'details names the missing field')
  t.equal((await db.resources.messages!.list()).length, 0, 'nothing stored')
  const badId = await c.request({ type: 'get', resource: 'messages', id: 'a/b' })
  await expectError(t, c, badId, 'INVALID_REQUEST')
  t.match(badId.details, { field: '/id' }, 'an id that cannot be a storage key is named in details')
})

t.test('FORBIDDEN and UNAUTHORIZED', async (t) => {
  const { client } = await buildApp(t, { auth: jwtAuth, resources: { messages: true, users: { auth: ['admin'] } } })
  const anon = await client()
  await expectError(t, anon, await anon.request({ type: 'list', resource: 'users' }), 'FORBIDDEN')
  const user = await client('?token=' + hsToken({ sub: 'u1', role: 'user' }))
  await expectError(t, user, await user.request({ type: 'subscribe', resource: 'users' }), 'FORBIDDEN')
  await expectError(t, user, await user.request({ type: 'auth', token: hsToken({ sub: 'u1' }, { secret: 'wrong-secret-wrong-secret-wrong-secret' }) }), 'UNAUTHORIZED')
})

t.test('RATE_LIMIT_EXCEEDED, then the next window works', async (t) => {
  const { client } = await buildApp(t, { rateLimit: { enabled: true, windowMs: 60_000, maxRequests: 3 } })
  const c = await client()
  const other = await client()
  for (let i = 0; i < 3; i++) t.equal((await c.request({ type: 'ping' })).type, 'pong')
  const limited = await c.request({ type: 'ping' })
  t.equal(limited.type, 'error')
  t.equal(limited.code, 'RATE_LIMIT_EXCEEDED')
  t.equal((await other.request({ type: 'ping' })).type, 'pong', 'other sockets unaffected')
})

t.test('RESYNC_REQUIRED when since is older than history', async (t) => {
  const { client, db } = await buildApp(t, { historySize: 2 })
  for (let i = 0; i < 5; i++) await db.resources.messages!.insert({ content: `c${i}`, channel: 'g' })
  const c = await client()
  await expectError(t, c, await c.request({ type: 'subscribe', resource: 'messages', since: 1 }), 'RESYNC_REQUIRED')
})

t.test('NOT_IN_CHANNEL', async (t) => {
  const { client } = await buildApp(t)
  const c = await client()
  await expectError(t, c, await c.request({ type: 'leave', channel: 'public-x' }), 'NOT_IN_CHANNEL')
  await expectError(t, c, await c.request({ type: 'channel:message', channel: 'public-x', event: 'e', data: 1 }), 'NOT_IN_CHANNEL')
})

t.test('INTERNAL_ERROR carries no stack or internal message', async (t) => {
  const db = await createDatabase(t)
  db.resources.messages!.addHook('beforeInsert', async () => { throw new Error('secret-internal-detail at /srv/app.js:12') })
  const { client } = await buildApp(t, {}, { db })
  const c = await client()
  const reply = await c.request({ type: 'insert', resource: 'messages', data: { content: 'x', channel: 'g' } })
  await expectError(t, c, reply, 'INTERNAL_ERROR')
  t.notMatch(JSON.stringify(reply), /secret-internal-detail|\/srv\/app|at /, 'nothing internal leaks')
})

t.test('close 1009 for a frame over maxPayloadSize', async (t) => {
  const { client } = await buildApp(t, { maxPayloadSize: 1024 })
  const c = await client()
  c.send(JSON.stringify({ type: 'ping', pad: 'x'.repeat(4096) }))
  t.equal((await c.closed).code, 1009)
})

t.test('close 4001 when the token expires', async (t) => {
  const { client } = await buildApp(t, { auth: jwtAuth })
  const c = await client('?token=' + hsToken({ sub: 'u1' }, { expiresIn: 1500 }))
  t.equal((await c.closed).code, 4001)
})

t.test('close 1008 for policy: disconnectUser and a socket that keeps flooding', async (t) => {
  const { client, app } = await buildApp(t, { auth: jwtAuth, rateLimit: { enabled: true, windowMs: 100, maxRequests: 2, closeAfterWindows: 2 } })
  const c = await client('?token=' + hsToken({ sub: 'kick-me' }))
  t.equal(app.realtime.disconnectUser('kick-me'), 1)
  t.equal((await c.closed).code, 1008)
  const flooder = await client()
  const timer = setInterval(() => { if (flooder.socket.readyState === flooder.socket.OPEN) flooder.send({ type: 'ping' }) }, 5)
  t.teardown(() => clearInterval(timer))
  t.equal((await flooder.closed).code, 1008)
  clearInterval(timer)
})

t.test('close 1001 when the server shuts down', async (t) => {
  const db = await createDatabase(t)
  const app = Fastify({ logger: false })
  await app.register(s3dbRealtime, { database: db, resources: { messages: true } })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as { port: number }
  const { client } = await connect(`ws://127.0.0.1:${port}/ws`)
  await app.close()
  t.equal((await client.closed).code, 1001)
})

t.test('close 1013 for a slow consumer (backpressure close policy)', async (t) => {
  const { client, app } = await buildApp(t, { backpressure: { maxBufferedBytes: 1024, policy: 'close' } })
  const slow = await client()
  ;(slow.socket as unknown as { _socket: Socket })._socket.pause()
  const big = 'x'.repeat(64 * 1024)
  for (let i = 0; i < 400 && slow.closeCode === null; i++) {
    app.realtime.broadcast({ type: 'announcement', big })
    if (i % 20 === 0) await new Promise((resolve) => setImmediate(resolve))
  }
  ;(slow.socket as unknown as { _socket: Socket })._socket.resume()
  t.equal((await slow.closed).code, 1013)
})
