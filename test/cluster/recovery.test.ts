import { randomUUID } from 'node:crypto'
import t from 'tap'
import { Redis } from 'ioredis'
import { MemoryBroker, MemoryBus } from '../../src/bus/memory.js'
import { CONTROL_TOPIC, changeTopic } from '../../src/cluster/coordinator.js'
import { buildApp } from '../helpers/app.js'
import type { Message, TestClient } from '../helpers/client.js'
import { createDatabase } from '../helpers/db.js'
import { startRedis } from '../helpers/redis.js'
import { twoNodes } from '../helpers/cluster.js'
import { partsOf } from '../helpers/hub.js'

const eventsOf = (client: TestClient): Message[] => client.received.filter((m) => m.type === 'event')

/** Blocks the event loop, as a large synchronous fan-out does. */
function busyFor (ms: number): void {
  const until = Date.now() + ms
  while (Date.now() < until) { /* spin */ }
}

t.test('a process too busy to read Redis replies in time does not mistake it for an outage', async (t) => {
  const redis = await startRedis(t)
  // A 100 ms command timeout, then a 400 ms stall right after the first append is sent: every
  // timer fires before the (long since answered) reply is read.
  const [a, b] = await twoNodes(t, (nodeId) => ({ redis: { url: redis.url, commandTimeout: 100 }, nodeId, health: true }))
  const onA = await a.client()
  const onB = await b.client()
  const sub = await onA.request({ type: 'subscribe', resource: 'messages' })
  await onB.request({ type: 'subscribe', resource: 'messages' })

  let stalled = false
  a.db.resources.messages!.on('inserted', () => {
    if (stalled) return
    stalled = true
    busyFor(400)
  })
  await Promise.all([...Array(10).keys()].map(async (i) => await a.db.resources.messages!.insert({ id: `m${i}`, content: `${i}`, channel: 'g' })))
  const deadline = Date.now() + 15_000
  while ((eventsOf(onA).length < 10 || eventsOf(onB).length < 10) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
  // Let any late duplicate or resync arrive before judging.
  await new Promise((resolve) => setTimeout(resolve, 500))
  t.ok(stalled, 'the stall happened')
  const expected = [...Array(10).keys()].map((i) => i + 1)
  t.same(eventsOf(onA).map((e) => e.seq), expected, 'the local client got each change once, in order')
  t.same(eventsOf(onB).map((e) => e.seq), expected, 'the remote client got each change once, in order')
  t.same(onA.ofType('error'), [], 'no resync on the busy instance')
  t.same(onB.ofType('error'), [], 'no resync elsewhere')
  t.equal(partsOf(a.app).stream.epoch, sub.epoch, 'the epoch did not change')
  t.equal((await a.app.inject({ method: 'GET', url: '/health/ready' })).statusCode, 200, 'still ready')
})

t.test('a real stall: the lone delivery becomes a resync, then every change reaches every client once', async (t) => {
  const redis = await startRedis(t)
  const [a, b] = await twoNodes(t, (nodeId) => ({ redis: { url: redis.url, commandTimeout: 100 }, nodeId }))
  const onA = await a.client()
  const onB = await b.client()
  await onA.request({ type: 'subscribe', resource: 'messages' })
  await onB.request({ type: 'subscribe', resource: 'messages' })
  const admin = new Redis(redis.url)
  t.teardown(() => { admin.disconnect() })

  // Redis answers nobody for 800 ms: instance a gives up on numbering and serves its client alone.
  await admin.call('CLIENT', 'PAUSE', '800', 'ALL')
  await a.db.resources.messages!.insert({ id: 'lone', content: 'during the stall', channel: 'g' })
  const lone = await onA.waitType('event')
  t.equal(lone.data.id, 'lone', 'the local client is served while Redis is silent')
  await onA.waitFor((m) => m.type === 'error' && m.code === 'RESYNC_REQUIRED')
  await onB.waitFor((m) => m.type === 'error' && m.code === 'RESYNC_REQUIRED')
  const deadline = Date.now() + 15_000
  while (!(a.app.realtime.busHealthy() && b.app.realtime.busHealthy() && partsOf(a.app).stream.epoch === partsOf(b.app).stream.epoch) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  t.equal(partsOf(a.app).stream.epoch, partsOf(b.app).stream.epoch, 'one epoch again')

  onA.received.length = 0
  onB.received.length = 0
  await Promise.all([...Array(20).keys()].map(async (i) => await (i % 2 === 0 ? a : b).db.resources.messages!.insert({ id: `after${i}`, content: `${i}`, channel: 'g' })))
  while ((eventsOf(onA).length < 20 || eventsOf(onB).length < 20) && Date.now() < deadline + 15_000) await new Promise((resolve) => setTimeout(resolve, 20))
  await new Promise((resolve) => setTimeout(resolve, 500))
  const ids = (client: TestClient): string[] => eventsOf(client).map((e) => e.data.id as string).sort()
  const all = [...Array(20).keys()].map((i) => `after${i}`).sort()
  t.same(ids(onA), all, 'instance a: every later change once')
  t.same(ids(onB), all, 'instance b: every later change once')
  t.same(eventsOf(onA).map((e) => e.seq), eventsOf(onB).map((e) => e.seq), 'the same numbering, in the same order')
  t.same([...onA.ofType('error'), ...onB.ofType('error')], [], 'no further resync')
})

t.test('a change still carrying the epoch before a rotation is stale: no flip back, no second resync', async (t) => {
  const broker = new MemoryBroker()
  const bucket = `memory://stale-${randomUUID()}/db`
  const a = await buildApp(t, { bus: new MemoryBus({ broker, nodeId: 'a' }) }, { db: await createDatabase(t, { connectionString: bucket }) })
  const client = await a.client()
  await client.request({ type: 'subscribe', resource: 'messages' })
  const old = partsOf(a.app).stream.epoch

  // Another node rotates the epoch and announces it; this instance follows.
  const other = new MemoryBus({ broker, nodeId: 'other' })
  const fresh = await other.rotateEpoch()
  await other.publish(CONTROL_TOPIC, { kind: 'resync' })
  await client.waitFor((m) => m.type === 'error' && m.code === 'RESYNC_REQUIRED')
  t.equal(partsOf(a.app).stream.epoch, fresh, 'the new epoch is adopted')

  // A straggler numbered before the rotation, then a change under the new epoch.
  const payload = (id: string): Record<string, unknown> => ({ resource: 'messages', type: 'insert', id, before: null, after: { id }, timestamp: new Date().toISOString() })
  broker.deliver({ origin: 'other', topic: changeTopic('messages'), payload: payload('straggler'), seq: 1, epoch: old })
  const next = await other.append(changeTopic('messages'), payload('fresh'))
  const event = await client.waitType('event')
  t.equal(event.data.id, 'fresh', 'the straggler is not delivered; the change after it is')
  t.equal(event.seq, next.seq, 'numbered by the log')
  t.equal(partsOf(a.app).stream.epoch, fresh, 'still on the new epoch')
  t.same(client.ofType('error').map((m) => m.details), [], 'no second resync')
})

for (const loss of ['FLUSHALL', 'the seq key alone'] as const) {
  t.test(`Redis loses its numbering (${loss}) with connections up: clients are told to re-list, then get every change`, async (t) => {
    const redis = await startRedis(t)
    const [a, b] = await twoNodes(t, (nodeId) => ({ redis: redis.url, nodeId }))
    const onA = await a.client()
    const onB = await b.client()
    await onA.request({ type: 'subscribe', resource: 'messages' })
    await onB.request({ type: 'subscribe', resource: 'messages' })
    for (let i = 0; i < 3; i++) await a.db.resources.messages!.insert({ id: `old${i}`, content: `${i}`, channel: 'g' })
    const deadline = Date.now() + 15_000
    while ((eventsOf(onA).length < 3 || eventsOf(onB).length < 3) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
    const admin = new Redis(redis.url)
    t.teardown(() => { admin.disconnect() })
    if (loss === 'FLUSHALL') await admin.flushall()
    else await admin.del('s3db-realtime:seq:change:messages') // e.g. evicted under memory pressure
    onA.received.length = 0
    onB.received.length = 0

    for (let i = 0; i < 3; i++) await a.db.resources.messages!.insert({ id: `new${i}`, content: `${i}`, channel: 'g' })
    for (const client of [onA, onB]) {
      await client.waitFor((m) => m.type === 'error' && m.code === 'RESYNC_REQUIRED')
      while (eventsOf(client).length < 3 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
    }
    t.same(eventsOf(onA).map((e) => e.data.id), ['new0', 'new1', 'new2'], 'the local client: resync, then every new change')
    t.same(eventsOf(onB).map((e) => e.data.id), ['new0', 'new1', 'new2'], 'the remote client too')
    t.equal(partsOf(a.app).stream.epoch, partsOf(b.app).stream.epoch, 'one epoch again')
  })
}
