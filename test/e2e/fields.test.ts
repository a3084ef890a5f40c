import t from 'tap'
import { createClient, type SubscriptionEvent } from '../../src/client/index.js'
import { buildApp } from '../helpers/app.js'

/* Field selection (#15 section 2) over real sockets and the real s3db. */

t.test('get and list send only the selected fields and id; protected fields never', async (t) => {
  const { client, db } = await buildApp(t)
  await db.resources.messages!.insert({ id: 'm1', content: 'hello', channel: 'a', author: 'ann', meta: { kind: 'note', secret: 's' } })
  await db.resources.users!.insert({ id: 'u1', name: 'Ann', email: 'a@x', password: 'pw' })
  const ws = await client()

  const got = await ws.request({ type: 'get', resource: 'messages', id: 'm1', fields: ['content', 'meta.kind'] })
  t.same(got.data, { id: 'm1', content: 'hello', meta: { kind: 'note' } })
  const listed = await ws.request({ type: 'list', resource: 'messages', fields: ['author'] })
  t.same(listed.data, [{ id: 'm1', author: 'ann' }])
  const user = await ws.request({ type: 'get', resource: 'users', id: 'u1', fields: ['name', 'password'] })
  t.same(user.data, { id: 'u1', name: 'Ann' }, 'asking for a protected field sends nothing for it')
  const whole = await ws.request({ type: 'get', resource: 'messages', id: 'm1' })
  t.equal(whole.data.channel, 'a', 'without fields: the whole record')

  const bad = await ws.request({ type: 'get', resource: 'messages', id: 'm1', fields: ['__proto__.x'] })
  t.equal(bad.type, 'error')
  t.equal(bad.code, 'INVALID_REQUEST')
  t.equal(bad.details?.field, '/fields')
})

t.test('a subscription with fields: selected fields, id and the filter\'s fields; unchanged updates are not sent', async (t) => {
  const { client, db } = await buildApp(t)
  const messages = db.resources.messages!
  const ws = await client()
  const sub = await ws.request({ type: 'subscribe', resource: 'messages', filter: { channel: { $in: ['a', 'b'] } }, fields: ['content'], snapshot: true })
  t.same(sub.snapshot.data, [])

  await messages.insert({ id: 'm1', content: 'hello', channel: 'a', author: 'ann' })
  const inserted = await ws.waitType('event')
  t.same(inserted.data, { id: 'm1', content: 'hello', channel: 'a' }, 'the filter\'s field travels so the client can route')

  await messages.update('m1', { author: 'bob' }) // no selected field changed, stays in the filter
  await messages.update('m1', { content: 'edited' })
  const edited = await ws.waitType('event')
  t.same([edited.event, edited.data], ['update', { id: 'm1', content: 'edited', channel: 'a' }], 'the author-only update was skipped')

  await messages.update('m1', { channel: 'z' }) // leaves the filter: sent as left
  const left = await ws.waitType('event')
  t.same([left.event, left.left, left.data], ['update', true, { id: 'm1', content: 'edited', channel: 'z' }])
  await messages.update('m1', { author: 'cy', channel: 'b' }) // enters again
  const entered = await ws.waitType('event')
  t.same([entered.event, entered.left, entered.data.channel], ['update', undefined, 'b'], 'entering is a plain update')
  await ws.request({ type: 'ping' })
  t.equal(ws.ofType('event').length, 0, 'nothing else arrived')
})

t.test('subscribers with the same field set share one encoding; the snapshot is selected too', async (t) => {
  const { client, db } = await buildApp(t)
  const messages = db.resources.messages!
  await messages.insert({ id: 'm0', content: 'old', channel: 'a', author: 'ann' })
  const whole = await client()
  const narrow1 = await client()
  const narrow2 = await client()
  await whole.request({ type: 'subscribe', resource: 'messages' })
  const s1 = await narrow1.request({ type: 'subscribe', resource: 'messages', fields: ['author'], snapshot: true })
  t.same(s1.snapshot.data, [{ id: 'm0', author: 'ann' }])
  await narrow2.request({ type: 'subscribe', resource: 'messages', fields: ['author'] })
  await messages.insert({ id: 'm1', content: 'c', channel: 'a', author: 'ann' })
  const [a, b, c] = await Promise.all([whole.waitType('event'), narrow1.waitType('event'), narrow2.waitType('event')])
  t.equal(a.data.content, 'c')
  t.same(b.data, { id: 'm1', author: 'ann' })
  t.same(c.data, b.data)
})

t.test('the typed client sends fields on subscribe and list', async (t) => {
  const { url, db } = await buildApp(t)
  interface Message { content: string, channel: string, author?: string }
  const client = createClient<{ messages: Message }>({ url, requestTimeout: 5000 })
  t.teardown(() => { client.close() })
  const events: Array<SubscriptionEvent<Message & { id: string }>> = []
  await client.subscribe('messages', { filter: { channel: 'a' }, fields: ['content'] }, (e) => events.push(e))
  await db.resources.messages!.insert({ id: 'm1', content: 'x', channel: 'a', author: 'ann' })
  const listed = await client.listAll('messages', { fields: ['author'] })
  t.same(listed, [{ id: 'm1', author: 'ann' }])
  t.same(events.map((e) => e.event === 'insert' ? e.data : null), [{ id: 'm1', content: 'x', channel: 'a' }])
  t.same(await client.get('messages', 'm1', { fields: ['channel'] }), { id: 'm1', channel: 'a' })
})
