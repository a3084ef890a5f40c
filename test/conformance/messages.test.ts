// Black-box conformance: every row of PROTOCOL.md section 2's message table and every pushed
// message, written from the contract only (real sockets, real memory s3db).
import t from 'tap'
import { buildApp } from '../helpers/app.js'
import { hsToken, SECRET } from '../helpers/jwt.js'

const jwtAuth = { drivers: [{ driver: 'jwt' as const, config: { secret: SECRET } }] }
const isTime = (v: unknown): boolean => (typeof v === 'string' || typeof v === 'number') && Number.isFinite(new Date(v).getTime())

t.test('connected: clientId, user (null when anonymous), timestamp', async (t) => {
  const { url, client } = await buildApp(t, { auth: jwtAuth })
  const { connect } = await import('../helpers/client.js')
  const anon = await connect(url)
  t.teardown(() => anon.client.close())
  t.type(anon.connected.clientId, 'string')
  t.ok(anon.connected.clientId.length > 0)
  t.equal(anon.connected.user, null)
  t.ok(isTime(anon.connected.timestamp), 'timestamp is a time')
  const named = await connect(url + '?token=' + hsToken({ sub: 'u1', role: 'admin' }))
  t.teardown(() => named.client.close())
  t.equal(named.connected.user.id, 'u1')
  t.equal(named.connected.user.role, 'admin')
  t.not(named.connected.clientId, anon.connected.clientId, 'clientIds are distinct')
  const c = await client()
  t.ok(c)
})

t.test('ping -> pong with timestamp and echoed requestId', async (t) => {
  const { client } = await buildApp(t)
  const c = await client()
  const pong = await c.request({ type: 'ping' })
  t.equal(pong.type, 'pong')
  t.ok(isTime(pong.timestamp))
  // a numeric requestId is echoed as given
  c.send({ type: 'ping', requestId: 42 })
  const numeric = await c.waitFor((m) => m.requestId === 42)
  t.equal(numeric.type, 'pong')
})

t.test('subscribe -> subscribed {resource, filter, events, subscriptionId}; events follow', async (t) => {
  const { client, db } = await buildApp(t)
  const c = await client()
  const all = await c.request({ type: 'subscribe', resource: 'messages' })
  t.equal(all.type, 'subscribed')
  t.equal(all.resource, 'messages')
  t.type(all.subscriptionId, 'string')
  t.same([...all.events].sort(), ['delete', 'insert', 'update'], 'events default to all three')
  const narrow = await c.request({ type: 'subscribe', resource: 'messages', filter: { channel: 'general' }, events: ['insert', 'update'] })
  t.same(narrow.filter, { channel: 'general' })
  t.same([...narrow.events].sort(), ['insert', 'update'])
  t.not(narrow.subscriptionId, all.subscriptionId)
  await db.resources.messages!.insert({ id: 'm1', content: 'hi', channel: 'general' })
  const ev = await c.waitType('event')
  t.equal(ev.event, 'insert')
  t.equal(ev.resource, 'messages')
  t.equal(ev.data.id, 'm1')
  t.equal(ev.data.content, 'hi')
  t.ok(isTime(ev.timestamp))
  t.type(ev.seq, 'number')
})

t.test('unsubscribe by resource+filter and by subscriptionId stops events', async (t) => {
  const { client, db } = await buildApp(t)
  const c = await client()
  const a = await c.request({ type: 'subscribe', resource: 'messages', filter: { channel: 'a' } })
  const b = await c.request({ type: 'subscribe', resource: 'messages', filter: { channel: 'b' } })
  const byFilter = await c.request({ type: 'unsubscribe', resource: 'messages', filter: { channel: 'a' } })
  t.equal(byFilter.type, 'unsubscribed')
  const byId = await c.request({ type: 'unsubscribe', subscriptionId: b.subscriptionId })
  t.equal(byId.type, 'unsubscribed')
  t.ok(a.subscriptionId)
  const probe = await client()
  await probe.request({ type: 'subscribe', resource: 'messages' })
  await db.resources.messages!.insert({ content: 'x', channel: 'a' })
  await db.resources.messages!.insert({ content: 'y', channel: 'b' })
  await probe.waitFor((m) => m.type === 'event' && m.data.content === 'y')
  await c.request({ type: 'ping' })
  t.equal(c.ofType('event').length, 0, 'no events after unsubscribing')
})

t.test('get / list / insert / update / delete replies', async (t) => {
  const { client } = await buildApp(t)
  const c = await client()
  const ins = await c.request({ type: 'insert', resource: 'messages', data: { content: 'Hello!', channel: 'general' } })
  t.equal(ins.type, 'inserted')
  t.equal(ins.resource, 'messages')
  t.type(ins.data.id, 'string')
  t.equal(ins.data.content, 'Hello!')
  const id = ins.data.id as string

  const got = await c.request({ type: 'get', resource: 'messages', id })
  t.equal(got.type, 'data')
  t.equal(got.resource, 'messages')
  t.equal(got.data.id, id)
  t.equal(got.data.content, 'Hello!')

  const upd = await c.request({ type: 'update', resource: 'messages', id, data: { content: 'Updated!' } })
  t.equal(upd.type, 'updated')
  t.equal(upd.resource, 'messages')
  t.equal(upd.data.id, id)
  t.equal(upd.data.content, 'Updated!')
  t.equal(upd.data.channel, 'general', 'update keeps the other fields')

  const list = await c.request({ type: 'list', resource: 'messages' })
  t.equal(list.type, 'data')
  t.equal(list.resource, 'messages')
  t.ok(Array.isArray(list.data))
  t.equal(list.data.length, 1)
  t.equal(list.cursor, null, 'cursor null on the last page')

  const del = await c.request({ type: 'delete', resource: 'messages', id })
  t.equal(del.type, 'deleted')
  t.equal(del.resource, 'messages')
  t.equal(del.id, id)
  const gone = await c.request({ type: 'get', resource: 'messages', id })
  t.equal(gone.code, 'NOT_FOUND')
})

t.test('get with a partition', async (t) => {
  const { client, db } = await buildApp(t)
  await db.resources.messages!.insert({ id: 'p1', content: 'in partition', channel: 'general' })
  const c = await client()
  const got = await c.request({ type: 'get', resource: 'messages', id: 'p1', partition: 'byChannel' })
  t.equal(got.type, 'data', JSON.stringify(got))
  t.equal(got.data?.id, 'p1')
})

t.test('list: filter, partition, limit and cursor paging', async (t) => {
  const { client, db } = await buildApp(t)
  for (let i = 0; i < 7; i++) {
    await db.resources.messages!.insert({ id: `m${i}`, content: `c${i}`, channel: i % 2 === 0 ? 'even' : 'odd' })
  }
  const c = await client()
  const seen: string[] = []
  let cursor: string | null | undefined
  let pages = 0
  do {
    const page = await c.request({ type: 'list', resource: 'messages', limit: 3, ...(cursor != null ? { cursor } : {}) })
    t.equal(page.type, 'data')
    t.ok(page.data.length <= 3)
    seen.push(...page.data.map((r: { id: string }) => r.id))
    cursor = page.cursor
    pages++
  } while (cursor !== null && pages < 10)
  t.same(seen.sort(), ['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6'], 'every record once across pages')
  t.equal(pages, 3)

  const even = await c.request({ type: 'list', resource: 'messages', filter: { channel: 'even' } })
  t.same(even.data.map((r: { id: string }) => r.id).sort(), ['m0', 'm2', 'm4', 'm6'])
  const part = await c.request({ type: 'list', resource: 'messages', partition: 'byChannel', filter: { channel: 'odd' } })
  t.equal(part.type, 'data', JSON.stringify(part))
  t.same(part.data.map((r: { id: string }) => r.id).sort(), ['m1', 'm3', 'm5'])
})

t.test('publish -> published {channel, delivered}; others get message, sender does not', async (t) => {
  const { client } = await buildApp(t, { auth: jwtAuth })
  const sender = await client('?token=' + hsToken({ sub: 'ann' }))
  const other = await client()
  await sender.request({ type: 'subscribe', resource: 'messages' })
  await other.request({ type: 'subscribe', resource: 'messages' })
  const reply = await sender.request({ type: 'publish', channel: 'messages', message: { type: 'alert', text: 'New feature!' } })
  t.equal(reply.type, 'published')
  t.equal(reply.channel, 'messages')
  t.equal(reply.delivered, 1)
  const msg = await other.waitType('message')
  t.equal(msg.channel, 'messages')
  t.same(msg.data, { type: 'alert', text: 'New feature!' })
  t.ok(msg.from, 'from is set')
  t.ok(isTime(msg.timestamp))
  await sender.request({ type: 'ping' })
  t.equal(sender.ofType('message').length, 0, 'never back to the sender')
})

t.test('join / leave / channel:message / channel:update and presence pushes', async (t) => {
  const { client } = await buildApp(t, { auth: jwtAuth })
  const ann = await client('?token=' + hsToken({ sub: 'ann' }))
  const bob = await client('?token=' + hsToken({ sub: 'bob' }))

  const pub = await ann.request({ type: 'join', channel: 'public-room' })
  t.equal(pub.type, 'channel:joined')
  t.equal(pub.channel, 'public-room')
  t.equal(pub.channelType, 'public')

  const a = await ann.request({ type: 'join', channel: 'presence-lobby', userInfo: { name: 'Ann' } })
  t.equal(a.type, 'channel:joined')
  t.equal(a.channelType, 'presence')
  t.ok(Array.isArray(a.members))
  t.ok(a.me, 'me on presence channels')
  const b = await bob.request({ type: 'join', channel: 'presence-lobby', userInfo: { name: 'Bob' } })
  t.equal(b.members.length, 2, 'members lists everyone already here')
  const joined = await ann.waitType('presence:member_joined')
  t.equal(joined.channel, 'presence-lobby')
  t.equal(joined.member.userInfo.name, 'Bob')

  const sent = await bob.request({ type: 'channel:message', channel: 'presence-lobby', event: 'chat', data: { text: 'hi' } })
  t.equal(sent.type, 'channel:sent')
  t.equal(sent.channel, 'presence-lobby')
  t.equal(sent.delivered, 1)
  const cm = await ann.waitType('channel:message')
  t.equal(cm.channel, 'presence-lobby')
  t.equal(cm.event, 'chat')
  t.same(cm.data, { text: 'hi' })
  t.ok(cm.from)
  t.ok(isTime(cm.timestamp))

  const upd = await bob.request({ type: 'channel:update', channel: 'presence-lobby', userInfo: { status: 'away' } })
  t.equal(upd.type, 'channel:updated')
  t.equal(upd.channel, 'presence-lobby')
  t.equal(upd.member.userInfo.status, 'away')
  const mu = await ann.waitType('presence:member_updated')
  t.equal(mu.member.userInfo.status, 'away')

  const left = await bob.request({ type: 'leave', channel: 'presence-lobby' })
  t.equal(left.type, 'channel:left')
  t.equal(left.channel, 'presence-lobby')
  const ml = await ann.waitType('presence:member_left')
  t.equal(ml.channel, 'presence-lobby')
})

t.test('auth -> authenticated {user, expiresAt}', async (t) => {
  const { client } = await buildApp(t, { auth: jwtAuth })
  const c = await client('?token=' + hsToken({ sub: 'u1' }, { expiresIn: 60_000 }))
  const reply = await c.request({ type: 'auth', token: hsToken({ sub: 'u1', role: 'admin' }, { expiresIn: 120_000 }) })
  t.equal(reply.type, 'authenticated')
  t.equal(reply.user.id, 'u1')
  t.ok(isTime(reply.expiresAt))
  const bad = await c.request({ type: 'auth', token: 'not-a-token' })
  t.equal(bad.type, 'error')
  t.equal(bad.code, 'UNAUTHORIZED')
  const anon = await client()
  const upgraded = await anon.request({ type: 'auth', token: hsToken({ sub: 'u2' }) })
  t.equal(upgraded.type, 'authenticated')
  t.equal(upgraded.user.id, 'u2')
})
