import { randomUUID } from 'node:crypto'
import t from 'tap'
import { MemoryBroker, MemoryBus } from '../../src/bus/memory.js'
import type { Bus } from '../../src/bus/types.js'
import { buildApp, sleep } from '../helpers/app.js'
import type { TestClient } from '../helpers/client.js'
import { createDatabase } from '../helpers/db.js'
import { REDIS_KINDS, startRedisTarget } from '../helpers/redis-target.js'

/*
 * Conditional updates across instances: socket writes to one record take turns on the bus (a
 * Redis lease), so two instances cannot both pass one version check.
 */

// An asynchronous guard (one that asks a database, say) runs between an update's read and its
// write, so writers on both instances are in their check at once.
const slowGuard = { list: async () => { await sleep(5); return true } }

for (const kind of REDIS_KINDS) {
t.test(`${kind}: two instances, many updates with one ifVersion at once: exactly one succeeds`, async (t) => {
  const redis = await startRedisTarget(t, kind)
  const bucket = `memory://conditional-${randomUUID()}/db`
  const options = { redis: redis(), resources: { messages: { guard: slowGuard } } }
  const a = await buildApp(t, options, { db: await createDatabase(t, { connectionString: bucket }) })
  const b = await buildApp(t, options, { db: await createDatabase(t, { connectionString: bucket }) })
  await a.db.resources.messages!.insert({ id: 'race', content: 'v0', channel: 'c' })
  // Frames of one socket run one after another: the race needs one socket per writer.
  const writers: TestClient[] = []
  for (let i = 0; i < 6; i++) writers.push(await a.client(), await b.client())
  const { version } = await writers[0]!.request({ type: 'get', resource: 'messages', id: 'race' })
  const seen = await writers[1]!.request({ type: 'get', resource: 'messages', id: 'race' })
  t.equal(seen.version, version, 'both instances read one store: one version')

  const replies = await Promise.all(writers.map(async (ws, i) =>
    await ws.request({ type: 'update', resource: 'messages', id: 'race', data: { content: `writer ${i}` }, ifVersion: version })))
  const winners = replies.filter((r) => r.type === 'updated')
  t.equal(winners.length, 1, 'one winner across both instances')
  t.equal(replies.filter((r) => r.code === 'CONFLICT').length, writers.length - 1, 'every other writer gets CONFLICT')
  t.equal((await a.db.resources.messages!.get('race')).content, winners[0]!.data.content, "the stored record is the winner's")
})
}

t.test("a caller's bus that cannot lock: conditional updates answer UNAVAILABLE, plain ones still work", async (t) => {
  const broker = new MemoryBroker()
  const full = new MemoryBus({ broker, nodeId: 'no-locks' })
  // The same bus without the optional Locks role, as a caller's own Bus may be.
  const bus: Bus = {
    kind: full.kind,
    nodeId: full.nodeId,
    start: async () => { await full.start() },
    close: async () => { await full.close() },
    publish: async (topic, payload) => { await full.publish(topic, payload) },
    subscribe: async (topic, handler) => await full.subscribe(topic, handler),
    append: async (topic, payload, options) => await full.append(topic, payload, options),
    readLog: async (topic, after) => await full.readLog(topic, after),
    head: async (topic) => await full.head(topic),
    rotateEpoch: async () => await full.rotateEpoch(),
    stash: async (key, value, ttl) => { await full.stash(key, value, ttl) },
    take: async (key) => await full.take(key),
    healthy: () => full.healthy(),
    onHealthChange: () => full.onHealthChange()
  }
  const { client, db } = await buildApp(t, { bus })
  await db.resources.messages!.insert({ id: 'm1', content: 'v0', channel: 'c' })
  const ws = await client()
  const { version } = await ws.request({ type: 'get', resource: 'messages', id: 'm1' })
  const conditional = await ws.request({ type: 'update', resource: 'messages', id: 'm1', data: { content: 'x' }, ifVersion: version })
  t.match(conditional, { type: 'error', code: 'UNAVAILABLE' }, 'the check cannot be made safe across instances')
  t.equal((await db.resources.messages!.get('m1')).content, 'v0', 'nothing written')
  const plain = await ws.request({ type: 'update', resource: 'messages', id: 'm1', data: { content: 'plain' } })
  t.equal(plain.type, 'updated', 'a plain update goes on')
})
