import t from 'tap'
import { buildApp } from '../helpers/app.js'
import type { Message, TestClient } from '../helpers/client.js'
import { startRedis } from '../helpers/redis.js'
import { until } from '../helpers/wait.js'

const eventsOf = (client: TestClient): Message[] => client.received.filter((m) => m.type === 'event')

t.test('single instance: disconnect, 50 matching writes (and 50 others), reconnect: exactly those 50, then live', async (t) => {
  const { client, db } = await buildApp(t)
  const first = await client()
  const sub = await first.request({ type: 'subscribe', resource: 'messages', filter: { channel: 'mine' } })
  first.close()
  await first.closed
  for (let i = 0; i < 100; i++) await db.resources.messages!.insert({ id: `x${i}`, content: `${i}`, channel: i % 2 === 0 ? 'mine' : 'theirs' })
  const again = await client()
  const reply = await again.request({ type: 'subscribe', resource: 'messages', filter: { channel: 'mine' }, since: sub.seq, epoch: sub.epoch })
  t.equal(reply.type, 'subscribed')
  await until(() => eventsOf(again).length === 50, '50 replayed events')
  await db.resources.messages!.insert({ id: 'live', content: 'l', channel: 'mine' })
  await until(() => eventsOf(again).length === 51, 'the live one')
  t.same(eventsOf(again).map((e) => e.data.id), [...[...Array(50).keys()].map((i) => `x${i * 2}`), 'live'])
})

for (const clustered of [false, true]) {
  t.test(`subscribe {snapshot}: records valid at a seq, then every later change, nothing lost${clustered ? ' (clustered)' : ''}`, async (t) => {
    const options = clustered ? { redis: (await startRedis(t)).url } : {}
    const { client, db } = await buildApp(t, options)
    const messages = db.resources.messages!
    for (let i = 0; i < 20; i++) await messages.insert({ id: `s${i}`, content: 'old', channel: i % 2 === 0 ? 'snap' : 'other' })
    const ws = await client()
    // Writes race the snapshot read: some land before it, some during, some after.
    const pending = ws.request({ type: 'subscribe', resource: 'messages', filter: { channel: 'snap' }, snapshot: true })
    const writing = (async () => {
      for (let i = 20; i < 60; i++) await messages.insert({ id: `s${i}`, content: 'new', channel: i % 2 === 0 ? 'snap' : 'other' })
      await messages.update('s0', { content: 'changed' })
      await messages.delete('s2')
    })()
    const reply = await pending
    await writing
    t.equal(reply.type, 'subscribed')
    t.type(reply.snapshot.seq, 'number')
    t.equal(reply.snapshot.epoch, reply.epoch)

    // Apply the snapshot, then the events after its seq: the client's view must equal the store.
    const view = new Map<string, Record<string, unknown>>()
    for (const record of reply.snapshot.data) view.set(record.id, record)
    const expected = (await messages.list({})).filter((r: Record<string, unknown>) => r.channel === 'snap')
    await until(() => {
      for (const e of eventsOf(ws).splice(0)) {
        ws.received.splice(ws.received.indexOf(e), 1)
        t.ok(e.seq > reply.snapshot.seq, `event ${e.seq as number} comes after the snapshot`)
        if (e.event === 'delete') view.delete(e.data.id)
        else view.set(e.data.id, e.data)
      }
      return view.size === expected.length && expected.every((r: Record<string, unknown>) => view.get(r.id as string)?.content === r.content)
    }, 'the view to converge on the store')
    t.comment(`snapshot held ${reply.snapshot.data.length as number} records`)
    t.equal(view.has('s2'), false, 'the delete is reflected')
    t.equal(view.get('s0')?.content, 'changed', 'the update is reflected')
  })
}

t.test('subscribe with both since and snapshot is refused', async (t) => {
  const { client } = await buildApp(t)
  const ws = await client()
  const reply = await ws.request({ type: 'subscribe', resource: 'messages', since: 0, snapshot: true })
  t.equal(reply.code, 'INVALID_REQUEST')
})
