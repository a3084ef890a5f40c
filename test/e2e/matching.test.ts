import t from 'tap'
import { buildApp, sleep } from '../helpers/app.js'
import type { TestClient } from '../helpers/client.js'
import { partsOf } from '../helpers/hub.js'

async function settle (...clients: TestClient[]): Promise<void> {
  for (const c of clients) await c.request({ type: 'ping' })
  await sleep(20)
}

t.test('filters: equality on every field, dot paths, events narrowing', async (t) => {
  const { client, db } = await buildApp(t)
  const general = await client()
  const nested = await client()
  const insertsOnly = await client()
  await general.request({ type: 'subscribe', resource: 'messages', filter: { channel: 'general', author: 'ann' } })
  await nested.request({ type: 'subscribe', resource: 'messages', filter: { 'meta.kind': 'alert' } })
  const sub = await insertsOnly.request({ type: 'subscribe', resource: 'messages', events: ['insert'] })
  t.same(sub.events, ['insert'])

  const messages = db.resources.messages as any
  await messages.insert({ id: 'm1', content: 'a', channel: 'general', author: 'bob' })
  await messages.insert({ id: 'm2', content: 'b', channel: 'general', author: 'ann', meta: { kind: 'alert' } })
  await messages.insert({ id: 'm3', content: 'c', channel: 'random', meta: { kind: 'note' } })
  await messages.update('m3', { content: 'c2' })
  await settle(general, nested, insertsOnly)

  t.same(general.ofType('event').map((e) => e.data.id), ['m2'], 'all fields must match')
  t.same(nested.ofType('event').map((e) => e.data.id), ['m2'], 'dot path matches nested field')
  t.same(insertsOnly.ofType('event').map((e) => `${e.event}:${e.data.id}`), ['insert:m1', 'insert:m2', 'insert:m3'], 'no update events')

  // nested filter objects are the same as dot paths
  const nestedObject = await client()
  const reply = await nestedObject.request({ type: 'subscribe', resource: 'messages', filter: { meta: { kind: 'note' } } })
  t.same(reply.filter, { 'meta.kind': 'note' })
})

t.test('an update reaches subscriptions that matched before or after; left:true when it no longer matches', async (t) => {
  const { client, db } = await buildApp(t)
  const ws = await client()
  await ws.request({ type: 'subscribe', resource: 'messages', filter: { channel: 'general' } })
  const messages = db.resources.messages as any
  await messages.insert({ id: 'x', content: 'start', channel: 'random' })
  await messages.update('x', { channel: 'general' }) // enters
  await messages.update('x', { content: 'edited' }) // stays
  await messages.update('x', { channel: 'random' }) // leaves
  await messages.update('x', { content: 'gone' }) // outside: nothing
  await settle(ws)
  const events = ws.ofType('event')
  t.same(events.map((e) => [e.event, e.data.channel, e.left === true]), [
    ['update', 'general', false],
    ['update', 'general', false],
    ['update', 'random', true]
  ])
})

t.test('resource `events` config limits what is broadcast', async (t) => {
  const { client, db } = await buildApp(t, { resources: { messages: { events: ['insert'] } } })
  const ws = await client()
  const sub = await ws.request({ type: 'subscribe', resource: 'messages', events: ['insert', 'delete'] })
  t.same(sub.events, ['insert'], 'subscription events are narrowed to what the resource broadcasts')
  const messages = db.resources.messages as any
  await messages.insert({ id: 'a', content: 'x', channel: 'c' })
  await messages.update('a', { content: 'y' })
  await messages.delete('a')
  await settle(ws)
  t.same(ws.ofType('event').map((e) => e.event), ['insert'])
})

t.test('a client with overlapping subscriptions gets each event once', async (t) => {
  const { client, db } = await buildApp(t)
  const ws = await client()
  await ws.request({ type: 'subscribe', resource: 'messages' })
  await ws.request({ type: 'subscribe', resource: 'messages', filter: { channel: 'c' } })
  await (db.resources.messages as any).insert({ content: 'x', channel: 'c' })
  await settle(ws)
  t.equal(ws.ofType('event').length, 1)
})

t.test('matching is indexed: candidates track matches, not subscribers', async (t) => {
  const { client, db, app } = await buildApp(t, { maxSubscriptionsPerConnection: 1000 })
  const sockets: TestClient[] = []
  for (let s = 0; s < 4; s++) sockets.push(await client())
  // 2,000 subscriptions over 200 channel values: each value has 10 subscribers.
  await Promise.all(sockets.map(async (ws, s) => {
    for (let i = 0; i < 500; i++) {
      ws.send({ type: 'subscribe', resource: 'messages', filter: { channel: `c${(s * 500 + i) % 200}`, content: `x${s * 500 + i}` } })
    }
    await ws.request({ type: 'ping' })
  }))
  t.equal(app.realtime.getMetrics().subscriptions, 2000)
  const before = partsOf(app).hub.fanOutStats.candidates
  await (db.resources.messages as any).insert({ content: 'nothing', channel: 'c7' })
  await settle(...sockets)
  const looked = partsOf(app).hub.fanOutStats.candidates - before
  t.equal(looked, 10, 'only the 10 subscriptions of channel c7 were examined')
  t.equal(sockets.reduce((n, ws) => n + ws.ofType('event').length, 0), 0, 'none matched the content')
})

t.test('each event is serialized once, not once per recipient', async (t) => {
  const { client, app } = await buildApp(t)
  const sockets: TestClient[] = []
  for (let i = 0; i < 30; i++) {
    const ws = await client()
    await ws.request({ type: 'subscribe', resource: 'messages' })
    sockets.push(ws)
  }
  const original = JSON.stringify
  let calls = 0
  // Frames only: the record's version is fingerprinted (once per event) through JSON.stringify too.
  JSON.stringify = ((...args: Parameters<typeof JSON.stringify>) => {
    const text = original(...args)
    if (typeof text === 'string' && text.startsWith('{"type":"event"')) calls++
    return text
  }) as typeof JSON.stringify
  let delivered: number
  try {
    partsOf(app).stream.publish({ resource: 'messages', type: 'insert', id: 'z', before: null, after: { id: 'z', content: 'hi', channel: 'c' } })
    delivered = app.realtime.getMetrics().events
  } finally {
    JSON.stringify = original
  }
  t.equal(delivered, 1)
  t.equal(calls, 1, 'one JSON.stringify for 30 recipients')
  await settle(...sockets)
  t.equal(sockets.filter((ws) => ws.ofType('event').length === 1).length, 30, 'all 30 got it')
})
