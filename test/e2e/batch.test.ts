import t from 'tap'
import { createClient } from '../../src/client/index.js'
import { buildApp } from '../helpers/app.js'
import { connect } from '../helpers/client.js'
import { hsToken, SECRET } from '../helpers/jwt.js'

/* insertMany / deleteMany (#15 section 4) over real sockets and the real s3db. */

const jwt = { auth: { drivers: [{ driver: 'jwt' as const, config: { secret: SECRET } }] } }

async function tenantApp (t: Parameters<typeof buildApp>[0]): Promise<{ url: string, db: Awaited<ReturnType<typeof buildApp>>['db'] }> {
  const { app, db } = await buildApp(t, {
    ...jwt,
    resources: { users: { protected: ['password'], guard: { list: (user) => ({ tenantId: String(user?.tenantId) }) } } }
  })
  return { url: `ws://127.0.0.1:${(app.server.address() as { port: number }).port}/ws`, db }
}

t.test('insertMany: every item judged as a single insert, one result per item, in order', async (t) => {
  const { url, db } = await tenantApp(t)
  const { client: ws } = await connect(`${url}?token=${hsToken({ sub: 'me', tenantId: 'A' })}`)
  const { client: watcher } = await connect(`${url}?token=${hsToken({ sub: 'w', tenantId: 'A' })}`)
  t.teardown(() => { ws.close(); watcher.close() })
  await watcher.request({ type: 'subscribe', resource: 'users' })
  const items = [
    { name: 'ok1', tenantId: 'A' },
    { name: 'other tenant', tenantId: 'B' }, // outside the forced filter
    { name: 'pw', tenantId: 'A', password: 'x' }, // a protected field
    { name: 5, tenantId: 'A' }, // s3db validation
    { name: 'ok2', tenantId: 'A' }
  ]
  const reply = await ws.request({ type: 'insertMany', resource: 'users', data: items })
  t.equal(reply.type, 'insertedMany')
  t.same(reply.results.map((r: { ok: boolean }) => r.ok), [true, false, false, false, true])
  t.same([reply.results[0].data.name, reply.results[4].data.name], ['ok1', 'ok2'])
  t.notOk('password' in reply.results[0].data, 'records are projected as for insert')

  // Exactly what the same single inserts answer.
  for (const index of [1, 2, 3]) {
    const single = await ws.request({ type: 'insert', resource: 'users', data: items[index] })
    t.same(reply.results[index].error, { code: single.code, message: single.message, ...(single.details === undefined ? {} : { details: single.details }) }, `item ${index}`)
  }
  const stored = (await db.resources.users!.list()).map((r) => r.name).sort()
  t.same(stored, ['ok1', 'ok2'], 'refused items were not written')
  const events = [await watcher.waitType('event'), await watcher.waitType('event')]
  t.same(events.map((e) => e.data.name), ['ok1', 'ok2'], 'each written item is an ordinary insert event')
  const read = await ws.request({ type: 'get', resource: 'users', id: reply.results[0].data.id })
  t.equal(reply.results[0].version, read.version, 'each written item carries its version, as a get gives it')
})

t.test('deleteMany: per-id results; a record outside the forced filter looks absent', async (t) => {
  const { url, db } = await tenantApp(t)
  const users = db.resources.users!
  await users.insert({ id: 'a1', name: 'a', tenantId: 'A' })
  await users.insert({ id: 'b1', name: 'b', tenantId: 'B' })
  const { client: ws } = await connect(`${url}?token=${hsToken({ sub: 'me', tenantId: 'A' })}`)
  t.teardown(() => { ws.close() })
  const reply = await ws.request({ type: 'deleteMany', resource: 'users', ids: ['a1', 'b1', 'nope', 'a/b'] })
  t.equal(reply.type, 'deletedMany')
  t.same(reply.results.map((r: { id: string, ok: boolean, error?: { code: string } }) => [r.id, r.ok, r.error?.code]), [
    ['a1', true, undefined], ['b1', false, 'NOT_FOUND'], ['nope', false, 'NOT_FOUND'], ['a/b', false, 'INVALID_REQUEST']
  ])
  t.equal(await users.exists('a1'), false)
  t.equal(await users.exists('b1'), true, 'the other tenant\'s record stays')
})

t.test('a batch over the limit, or empty, is refused whole', async (t) => {
  const { client } = await buildApp(t)
  const ws = await client()
  const big = await ws.request({ type: 'insertMany', resource: 'messages', data: Array.from({ length: 101 }, (_, i) => ({ content: `${i}`, channel: 'c' })) })
  t.match(big, { type: 'error', code: 'INVALID_REQUEST' })
  const empty = await ws.request({ type: 'deleteMany', resource: 'messages', ids: [] })
  t.match(empty, { type: 'error', code: 'INVALID_REQUEST' })
  const unknown = await ws.request({ type: 'insertMany', resource: 'nope', data: [{}] })
  t.match(unknown, { type: 'error', code: 'RESOURCE_NOT_FOUND' })
})

t.test('the typed client: insertMany and deleteMany', async (t) => {
  const { url } = await buildApp(t)
  const client = createClient<{ messages: { content: string, channel: string } }>({ url, requestTimeout: 5000 })
  t.teardown(() => { client.close() })
  const inserted = await client.insertMany('messages', [{ content: 'a', channel: 'c' }, { content: 'b', channel: 'c' }])
  t.same(inserted.map((r) => r.ok ? r.data.content : r.error.code), ['a', 'b'])
  const ids = inserted.flatMap((r) => r.ok ? [r.data.id] : [])
  const deleted = await client.deleteMany('messages', [...ids, 'missing'])
  t.same(deleted.map((r) => [r.id, r.ok]), [[ids[0], true], [ids[1], true], ['missing', false]])
})
