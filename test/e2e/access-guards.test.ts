import t from 'tap'
import { buildApp } from '../helpers/app.js'
import { hsToken, SECRET } from '../helpers/jwt.js'
import type { ResourceGuards } from '../../src/index.js'

const jwt = { auth: { drivers: [{ driver: 'jwt' as const, config: { secret: SECRET } }] } }

t.test('a guard that throws or answers nonsense denies with FORBIDDEN, no internals leak, server keeps going', async (t) => {
  const boom = (): never => { throw new Error('db password is hunter2') }
  const guards: ResourceGuards = { subscribe: boom, list: boom, get: boom, create: boom, update: boom, delete: boom }
  const { client, db } = await buildApp(t, { resources: { messages: { guard: guards }, users: { guard: { list: () => 'yes' as never, get: () => 1 as never } } } })
  await db.resources.messages!.insert({ id: 'm1', content: 'c', channel: 'x' })
  await db.resources.users!.insert({ id: 'u1', name: 'n' })
  const ws = await client()
  const requests = [
    { type: 'subscribe', resource: 'messages' }, { type: 'list', resource: 'messages' }, { type: 'get', resource: 'messages', id: 'm1' },
    { type: 'insert', resource: 'messages', data: { content: 'x', channel: 'y' } }, { type: 'update', resource: 'messages', id: 'm1', data: { content: 'z' } },
    { type: 'delete', resource: 'messages', id: 'm1' }, { type: 'list', resource: 'users' }, { type: 'get', resource: 'users', id: 'u1' },
    { type: 'subscribe', resource: 'users' }
  ]
  for (const message of requests) {
    const reply = await ws.request(message)
    t.match(reply, { type: 'error', code: 'FORBIDDEN' }, `${message.type} ${message.resource}`)
    const text = JSON.stringify(reply)
    t.notOk(text.includes('hunter2') || text.includes('stack') || text.includes('.ts:'), 'no internal message or stack')
  }
  t.equal((await ws.request({ type: 'ping' })).type, 'pong')
  t.equal((await db.resources.messages!.get('m1')).content, 'c', 'nothing was written')
  t.ok(await db.resources.messages!.exists('m1'))
})

t.test('guard-forced filters: clients can narrow, never widen; operator filters from guards apply', async (t) => {
  const { app, db } = await buildApp(t, {
    ...jwt,
    resources: {
      messages: { guard: { list: (user) => ({ author: user?.id ?? 'nobody' }) } },
      users: { guard: { list: () => ({ tenantId: { $ne: 'x' } }) } }
    }
  })
  const url = `ws://127.0.0.1:${(app.server.address() as { port: number }).port}/ws`
  const { connect } = await import('../helpers/client.js')
  const { client: ws } = await connect(`${url}?token=${hsToken({ sub: 'me' })}`)
  t.teardown(() => { ws.close() })
  const messages = db.resources.messages!
  await messages.insert({ id: 'a', content: '1', channel: 'x', author: 'me' })
  await messages.insert({ id: 'b', content: '2', channel: 'y', author: 'me' })
  await messages.insert({ id: 'c', content: '3', channel: 'x', author: 'you' })
  const list = async (filter?: Record<string, unknown>): Promise<string[]> =>
    ((await ws.request({ type: 'list', resource: 'messages', ...(filter === undefined ? {} : { filter }) })).data as Array<{ id: string }>).map((r) => r.id).sort()
  t.same(await list(), ['a', 'b'])
  t.same(await list({ channel: 'x' }), ['a'], 'narrowed')
  t.same(await list({ author: 'you' }), [], 'overriding the forced field matches nothing')
  t.same(await list({ author: { $ne: 'me' } }), [], 'operators are not a way around it: $ne AND the forced author matches nothing')
  t.same(await list({ author: { $in: ['me', 'you'] } }), ['a', 'b'], 'an $in wider than the forced value is narrowed to it')
  t.match(await ws.request({ type: 'get', resource: 'messages', id: 'c' }), { code: 'NOT_FOUND' }, 'outside the forced filter looks absent')
  await db.resources.users!.insert({ id: 'u1', name: 'n', tenantId: 'y' })
  await db.resources.users!.insert({ id: 'u2', name: 'n', tenantId: 'x' })
  const users = await ws.request({ type: 'list', resource: 'users' })
  t.same(users.data.map((u: { id: string }) => u.id), ['u1'], 'a guard\'s operator filter is applied (tenant x is hidden)')
  t.match(await ws.request({ type: 'get', resource: 'users', id: 'u2' }), { code: 'NOT_FOUND' }, 'outside the forced $ne looks absent')

  const sub = await ws.request({ type: 'subscribe', resource: 'messages', filter: { author: 'you' } })
  t.equal(sub.type, 'subscribed')
  t.same(sub.filter, { author: { $in: [] } }, 'the reply reports the real AND (no author is both me and you), not the forced value alone')
  t.equal(sub.matchesNothing, true)
  const mine = await ws.request({ type: 'subscribe', resource: 'messages', filter: { channel: 'x' } })
  t.same(mine.filter, { author: 'me', channel: 'x' })
  await messages.insert({ id: 'd', content: '4', channel: 'x', author: 'you' })
  await messages.insert({ id: 'e', content: '5', channel: 'x', author: 'me' })
  t.equal((await ws.waitType('event')).data.id, 'e')
  t.equal(ws.ofType('event').length, 0, 'no event for the other author, whatever the client filter said')
})

t.test('an update moving a record out of the forced filter tells the subscriber only its id', async (t) => {
  const { app, db } = await buildApp(t, {
    ...jwt,
    resources: { users: { protected: ['password'], guard: { list: (user) => ({ tenantId: String(user?.tenantId) }) } } }
  })
  const url = `ws://127.0.0.1:${(app.server.address() as { port: number }).port}/ws`
  const { connect } = await import('../helpers/client.js')
  const { client: ws } = await connect(`${url}?token=${hsToken({ sub: 'me', tenantId: 'A' })}`)
  t.teardown(() => { ws.close() })
  const users = db.resources.users!
  await users.insert({ id: 'u1', name: 'Ann', tenantId: 'A', password: 'x' })
  await ws.request({ type: 'subscribe', resource: 'users', filter: { name: 'Ann' } })
  await users.update('u1', { name: 'Annie' })
  const leftClient = await ws.waitType('event')
  t.match(leftClient, { event: 'update', left: true, data: { id: 'u1', name: 'Annie', tenantId: 'A' } }, 'left the client filter: still visible')
  t.notOk('password' in leftClient.data)
  await ws.request({ type: 'subscribe', resource: 'users' })
  await users.update('u1', { tenantId: 'B', name: 'Moved' })
  const leftForced = await ws.waitType('event')
  t.same({ left: leftForced.left, data: leftForced.data }, { left: true, data: { id: 'u1' } }, 'moved to tenant B: id only')
  const replayed = await ws.request({ type: 'subscribe', resource: 'users', filter: { tenantId: 'A' }, since: 0 })
  t.equal(replayed.type, 'subscribed')
  await ws.request({ type: 'ping' })
  for (const event of ws.ofType('event')) {
    t.not(event.data.tenantId, 'B', `replayed ${String(event.seq)} shows no tenant B state`)
    t.not(event.data.name, 'Moved')
  }
})
