import { randomUUID } from 'node:crypto'
import t from 'tap'
import { Redis } from 'ioredis'
import { RedisBus } from '../../src/bus/redis.js'
import { CONTROL_TOPIC } from '../../src/cluster/coordinator.js'
import { buildApp } from '../helpers/app.js'
import { createDatabase } from '../helpers/db.js'
import type { Message, TestClient } from '../helpers/client.js'
import { twoNodes } from '../helpers/cluster.js'
import { partsOf } from '../helpers/hub.js'
import { startRedis } from '../helpers/redis.js'
import { until } from '../helpers/wait.js'

const eventsOf = (client: TestClient): Message[] => client.received.filter((m) => m.type === 'event')

t.test('subscribe {since} without an epoch after Redis lost its numbering: RESYNC_REQUIRED, not the new numbering replayed', async (t) => {
  const redis = await startRedis(t)
  const [a, b] = await twoNodes(t, (nodeId) => ({ redis: redis.url, nodeId }))
  const watcher = await b.client()
  await watcher.request({ type: 'subscribe', resource: 'messages' })
  for (let i = 0; i < 3; i++) await a.db.resources.messages!.insert({ id: `old${i}`, content: `${i}`, channel: 'g' })
  await until(() => eventsOf(watcher).length === 3, 'the first three changes')

  // One numbering so far: a seq alone cannot be ambiguous, and resumes as before.
  const early = await b.client()
  const trusted = await early.request({ type: 'subscribe', resource: 'messages', since: 1 })
  t.equal(trusted.type, 'subscribed', 'a bare since is trusted while the numbering never changed')
  await until(() => eventsOf(early).length === 2, 'the replay of seqs 2 and 3')
  t.same(eventsOf(early).map((e) => e.data.id), ['old1', 'old2'])

  const admin = new Redis(redis.url)
  t.teardown(() => { admin.disconnect() })
  await admin.flushall()
  for (let i = 0; i < 4; i++) await a.db.resources.messages!.insert({ id: `new${i}`, content: `${i}`, channel: 'g' })
  await until(() => eventsOf(watcher).filter((e) => String(e.data.id).startsWith('new')).length === 4, 'the four changes of the new numbering')

  // A client that saw seq 2 of the first numbering comes back with the bare form.
  const back = await b.client()
  const reply = await back.request({ type: 'subscribe', resource: 'messages', since: 2 })
  await back.request({ type: 'ping' }) // a replay would have come before the pong
  t.same(eventsOf(back).map((e) => e.data.id), [], 'nothing of the new numbering is replayed as if it followed seq 2')
  t.equal(reply.code, 'RESYNC_REQUIRED', 'told to list again')
  t.same(reply.details, { epoch: partsOf(b.app).stream.epoch, seq: 4 }, 'with the position to subscribe from after listing')

  // With its epoch the same position is refused as before; with the current epoch it resumes.
  const withOld = await back.request({ type: 'subscribe', resource: 'messages', since: 2, epoch: (trusted.epoch as string) })
  t.equal(withOld.code, 'RESYNC_REQUIRED')
  const current = await back.request({ type: 'subscribe', resource: 'messages', since: 2, epoch: partsOf(b.app).stream.epoch })
  t.equal(current.type, 'subscribed', 'a position with the current epoch still resumes')
})

t.test('an instance started after the numbering was replaced does not trust a bare since from before', async (t) => {
  const redis = await startRedis(t)
  const bucket = `memory://bare-since-${randomUUID()}/db`
  const a = await buildApp(t, { redis: redis.url, nodeId: 'a' }, { db: await createDatabase(t, { connectionString: bucket }) })
  const watcher = await a.client()
  await watcher.request({ type: 'subscribe', resource: 'messages' })
  for (let i = 0; i < 3; i++) await a.db.resources.messages!.insert({ id: `old${i}`, content: `${i}`, channel: 'g' })
  await until(() => eventsOf(watcher).length === 3, 'the first three changes')

  // What a node does after it lost changes: a new epoch, announced (seqs keep counting).
  const other = new RedisBus({ url: redis.url, nodeId: 'recovering' })
  t.teardown(async () => { await other.close() })
  await other.start()
  await other.rotateEpoch()
  await other.publish(CONTROL_TOPIC, { kind: 'resync' })
  await watcher.waitFor((m) => m.type === 'error' && m.code === 'RESYNC_REQUIRED')

  const late = await buildApp(t, { redis: redis.url, nodeId: 'late' }, { db: await createDatabase(t, { connectionString: bucket }) })
  for (let i = 0; i < 2; i++) await a.db.resources.messages!.insert({ id: `new${i}`, content: `${i}`, channel: 'g' })
  await until(() => partsOf(late.app).stream.lastSeq('messages') === 5, 'the later changes on the new instance')

  // A client that saw seq 2 before the rotation and missed the resync comes back there.
  const back = await late.client()
  const reply = await back.request({ type: 'subscribe', resource: 'messages', since: 2 })
  await back.request({ type: 'ping' })
  t.equal(reply.code, 'RESYNC_REQUIRED', 'told to list again: seq 2 may belong to the numbering before the rotation')
  t.same(eventsOf(back), [], 'nothing replayed')
  const resumed = await back.request({ type: 'subscribe', resource: 'messages', since: 4, epoch: partsOf(late.app).stream.epoch })
  t.equal(resumed.type, 'subscribed', 'with its epoch a position resumes as usual')
})
