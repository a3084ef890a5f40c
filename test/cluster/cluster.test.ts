import { randomUUID } from 'node:crypto'
import t from 'tap'
import { MemoryBroker, MemoryBus } from '../../src/bus/memory.js'
import { buildApp } from '../helpers/app.js'
import type { Message, TestClient } from '../helpers/client.js'
import { createDatabase } from '../helpers/db.js'
import { REDIS_KINDS, startRedisTarget } from '../helpers/redis-target.js'
import { until } from '../helpers/wait.js'
import { twoNodes } from '../helpers/cluster.js'
import { partsOf } from '../helpers/hub.js'

const events = (client: TestClient): Message[] => client.received.filter((m) => m.type === 'event')

for (const kind of [...REDIS_KINDS, 'memory'] as const) {
  t.test(`${kind}: a change on any instance reaches matching clients on every instance once, in seq order`, async (t) => {
    let options: (name: string) => Record<string, unknown>
    if (kind !== 'memory') {
      const redis = await startRedisTarget(t, kind)
      options = (name) => ({ redis: redis(), nodeId: name })
    } else {
      const broker = new MemoryBroker()
      options = (name) => ({ bus: new MemoryBus({ broker, nodeId: name }) })
    }
    const [a, b] = await twoNodes(t, options)
    const onA = await a.client()
    const onB = await b.client()
    const allB = await b.client()
    await onA.request({ type: 'subscribe', resource: 'messages', filter: { channel: 'general' } })
    await onB.request({ type: 'subscribe', resource: 'messages', filter: { channel: 'general' } })
    await allB.request({ type: 'subscribe', resource: 'messages' })

    const writes = []
    for (let i = 0; i < 40; i++) {
      const db = i % 2 === 0 ? a.db : b.db
      writes.push(db.resources.messages!.insert({ id: `m${i}`, content: `c${i}`, channel: i % 4 < 2 ? 'general' : 'random' }))
    }
    await Promise.all(writes)
    await b.db.resources.messages!.update('m0', { content: 'edited on b' })
    await a.db.resources.messages!.delete('m1')
    await until(() => events(allB).length === 42, 'every event on the unfiltered client')
    await until(() => events(onA).length === 22 && events(onB).length === 22, 'matching events on both filtered clients')

    for (const client of [onA, onB, allB]) {
      const seqs = events(client).map((e) => e.seq as number)
      t.same(seqs, [...seqs].sort((x, y) => x - y), 'seq order')
      t.equal(new Set(seqs).size, seqs.length, 'no duplicates')
    }
    t.same(events(allB).map((e) => e.seq), [...Array(42).keys()].map((i) => i + 1), 'one cluster-wide numbering with no gap')
    t.same(events(onA).map((e) => [e.seq, e.event, e.data.id]), events(onB).map((e) => [e.seq, e.event, e.data.id]), 'both instances show the same stream')
    t.ok(events(onA).every((e) => e.data.channel === 'general'), 'filters still apply')
    const edited = events(onA).find((e) => e.event === 'update')
    t.equal(edited?.data.content, 'edited on b', 'an update made on b reached a client on a')
    t.equal(partsOf(a.app).stream.epochOf('messages'), partsOf(b.app).stream.epochOf('messages'), 'one epoch')
  })
}

for (const kind of REDIS_KINDS) {
t.test(`${kind}: broadcast, broadcastToResource and sendToClient reach every instance exactly once`, async (t) => {
  const redis = await startRedisTarget(t, kind)
  const [a, b] = await twoNodes(t, (name) => ({ redis: redis({ prefix: 'bc' }), nodeId: name }))
  const onA = await a.client()
  const onB = await b.client()
  const subscribedB = await b.client()
  await subscribedB.request({ type: 'subscribe', resource: 'users' })
  const target = await b.client()

  t.equal(a.app.realtime.broadcast({ type: 'notice', n: 1 }), 1, 'returns the local count')
  a.app.realtime.broadcastToResource('users', { type: 'users-notice' })
  const clientId = [...partsOf(b.app).hub.connections.keys()].at(-1) as string
  t.equal(a.app.realtime.sendToClient(clientId, { type: 'direct' }), false, 'not on this instance')
  await target.waitType('direct')
  for (const client of [onA, onB, subscribedB, target]) await client.waitType('notice')
  await subscribedB.waitType('users-notice')
  // A round trip on each socket, so a duplicate relayed frame would have arrived by now.
  for (const client of [onA, onB, subscribedB, target]) await client.request({ type: 'ping' })
  t.equal(onA.ofType('notice').length + onB.ofType('notice').length + target.ofType('notice').length, 0, 'each got the broadcast once (the one consumed above)')
  t.equal(onB.ofType('users-notice').length, 0, 'broadcastToResource only reaches subscribers of the resource')
  t.equal(onB.ofType('direct').length + onA.ofType('direct').length, 0, 'sendToClient only reaches its client')
})

t.test(`${kind}: a client resumes on another instance with exactly the 50 matching events it missed`, async (t) => {
  const redis = await startRedisTarget(t, kind)
  const bucket = `memory://cluster-${randomUUID()}/db`
  const a = await buildApp(t, { redis: redis(), nodeId: 'a' }, { db: await createDatabase(t, { connectionString: bucket }) })
  const first = await a.client()
  const sub = await first.request({ type: 'subscribe', resource: 'messages', filter: { channel: 'resume' } })
  await a.db.resources.messages!.insert({ id: 'before', content: 'seen', channel: 'resume' })
  const seen = await first.waitType('event')
  first.close()
  await first.closed

  for (let i = 0; i < 100; i++) {
    await a.db.resources.messages!.insert({ id: `r${i}`, content: `n${i}`, channel: i % 2 === 0 ? 'resume' : 'elsewhere' })
  }
  // A fresh instance: its memory holds nothing, so the replay comes from the Redis stream.
  const b = await buildApp(t, { redis: redis(), nodeId: 'b' }, { db: await createDatabase(t, { connectionString: bucket }) })
  const again = await b.client()
  const resumed = await again.request({ type: 'subscribe', resource: 'messages', filter: { channel: 'resume' }, since: seen.seq, epoch: sub.epoch })
  t.equal(resumed.type, 'subscribed')
  await until(() => events(again).length === 50, '50 replayed events')
  await a.db.resources.messages!.insert({ id: 'live', content: 'after', channel: 'resume' })
  await until(() => events(again).length === 51, 'the live event after the replay')
  const got = events(again)
  t.same(got.slice(0, 50).map((e) => e.data.id), [...Array(50).keys()].map((i) => `r${i * 2}`), 'exactly the matching ones, in order')
  t.equal(got[50]?.data.id, 'live', 'then live, with no gap')
  t.equal(new Set(got.map((e) => e.seq)).size, 51, 'no duplicate')

  const stale = await again.request({ type: 'subscribe', resource: 'messages', filter: { channel: 'x' }, since: 3, epoch: 'some-other-epoch' })
  t.equal(stale.code, 'RESYNC_REQUIRED', 'another epoch cannot be resumed')
})

t.test(`${kind}: history that no longer covers \`since\` is RESYNC_REQUIRED, not a silent gap`, async (t) => {
  const redis = await startRedisTarget(t, kind)
  const bucket = `memory://cluster-${randomUUID()}/db`
  const a = await buildApp(t, { redis: redis(), historySize: 10 }, { db: await createDatabase(t, { connectionString: bucket }) })
  for (let i = 0; i < 30; i++) await a.db.resources.messages!.insert({ content: `n${i}`, channel: 'g' })
  const b = await buildApp(t, { redis: redis(), historySize: 10 }, { db: await createDatabase(t, { connectionString: bucket }) })
  const client = await b.client()
  const reply = await client.request({ type: 'subscribe', resource: 'messages', since: 5, epoch: partsOf(a.app).stream.epochOf('messages') })
  t.equal(reply.code, 'RESYNC_REQUIRED')
  t.equal(reply.details.seq, 30)
  const ok = await client.request({ type: 'subscribe', resource: 'messages', since: 25, epoch: partsOf(a.app).stream.epochOf('messages') })
  t.equal(ok.type, 'subscribed')
  await until(() => events(client).length === 5, 'the 5 covered events')
  t.same(events(client).map((e) => e.seq), [26, 27, 28, 29, 30])
})
}

t.test('invalid cluster options are refused at register', async (t) => {
  const db = await createDatabase(t)
  const { default: Fastify } = await import('fastify')
  const { default: plugin } = await import('../../src/index.js')
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ redis: 'http://localhost:6379' }, /redis:\/\//],
    [{ redis: { url: 'redis://x', client: {} } }, /exactly one of url, nodes or client/],
    [{ redis: { url: 'redis://x', nope: 1 } }, /redis\.nope/],
    [{ redis: 'redis://x', bus: new MemoryBus() }, /either redis or bus/],
    [{ bus: { publish: () => {} } }, /bus must implement/],
    [{ redis: 'redis://x', nodeId: '' }, /nodeId/],
    [{ redis: { url: 'redis://x', commandTimeout: 0 } }, /commandTimeout/]
  ]
  for (const [options, message] of cases) {
    const app = Fastify()
    await t.rejects(async () => { await app.register(plugin, { database: db, resources: { messages: true }, ...options } as never).ready() }, { code: 'S3DB_REALTIME_INVALID_OPTION', message }, JSON.stringify(Object.keys(options)))
    await app.close()
  }
})

t.test('a caller\'s Bus whose onHealthChange returns nothing still closes cleanly', async (t) => {
  class OldStyleBus extends MemoryBus {
    override onHealthChange (): () => void {
      return undefined as unknown as () => void // written before onHealthChange returned its remover
    }
  }
  const bus = new OldStyleBus({ broker: new MemoryBroker(), nodeId: 'old' })
  const { app, client } = await buildApp(t, { bus })
  const c = await client()
  t.equal((await c.request({ type: 'ping' })).type, 'pong')
  await t.resolves(app.close(), 'close does not trip over the missing remover')
})
