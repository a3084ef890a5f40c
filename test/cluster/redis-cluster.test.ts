/**
 * Issue #16 §4: instances over a real 3-primary Redis Cluster. Each resource's log, counter and
 * epoch live on the shard its hash tag maps to, so the numbering is per resource: these tests
 * check what that changes (one epoch per resource, rotations reaching every shard, one shard
 * losing its data) on top of the shared cluster suite (cluster.test.ts runs on both kinds).
 */
import { randomUUID } from 'node:crypto'
import t, { type Test } from 'tap'
import { RedisBus } from '../../src/bus/redis.js'
import { CONTROL_TOPIC, changeTopic } from '../../src/cluster/coordinator.js'
import { buildApp, type TestApp } from '../helpers/app.js'
import type { Message, TestClient } from '../helpers/client.js'
import { createDatabase } from '../helpers/db.js'
import { RedisClusterProcesses } from '../helpers/redis-cluster.js'
import { until } from '../helpers/wait.js'

const RESOURCES = ['messages', 'users'] as const
const events = (client: TestClient): Message[] => client.received.filter((m) => m.type === 'event')
const resyncsOf = (client: TestClient, resource: string): Message[] =>
  client.received.filter((m) => m.type === 'error' && m.code === 'RESYNC_REQUIRED' && m.details?.resource === resource)

async function twoInstances (t: Test, cluster: RedisClusterProcesses): Promise<[TestApp, TestApp]> {
  const bucket = `memory://rc-${randomUUID()}/db`
  const open = async (nodeId: string): Promise<TestApp> =>
    await buildApp(t, { redis: { nodes: cluster.nodes, commandTimeout: 1000 }, nodeId }, { db: await createDatabase(t, { connectionString: bucket }) })
  return [await open('a'), await open('b')]
}

async function write (app: TestApp, resource: typeof RESOURCES[number], id: string): Promise<void> {
  if (resource === 'messages') await app.db.resources.messages!.insert({ id, content: id, channel: 'c' })
  else await app.db.resources.users!.insert({ id, name: id })
}

t.test('each resource is numbered on its own shard, under its own epoch, and resumes with it', async (t) => {
  const cluster = await RedisClusterProcesses.start(t)
  const owners = await Promise.all(RESOURCES.map(async (name) => await cluster.ownerOf(`s3db-realtime:{${changeTopic(name)}}:seq`)))
  t.not(owners[0], owners[1], 'the two resources\' logs live on different primaries')
  const [a, b] = await twoInstances(t, cluster)
  const watcher = await b.client()
  const subscribed = new Map<string, Message>()
  for (const name of RESOURCES) subscribed.set(name, await watcher.request({ type: 'subscribe', resource: name }))
  t.not(subscribed.get('messages')?.epoch, subscribed.get('users')?.epoch, 'one epoch per resource')

  for (let i = 0; i < 10; i++) for (const name of RESOURCES) await write(i % 2 === 0 ? a : b, name, `${name}-${i}`)
  await until(() => events(watcher).length === 20, 'every change on the watcher')
  for (const name of RESOURCES) {
    t.same(events(watcher).filter((e) => e.resource === name).map((e) => e.seq), [...Array(10).keys()].map((i) => i + 1), `${name}: its own gapless numbering`)
  }

  // A fresh client on the other instance resumes each resource from seq 4 with that resource's epoch.
  const resumed = await a.client()
  for (const name of RESOURCES) {
    const reply = await resumed.request({ type: 'subscribe', resource: name, since: 4, epoch: subscribed.get(name)?.epoch })
    t.equal(reply.type, 'subscribed', `${name} resumes under its own epoch`)
  }
  await until(() => events(resumed).length === 12, 'the 6 missed changes of each resource')
  const other = await resumed.request({ type: 'subscribe', resource: 'users', filter: { name: 'x' }, since: 4, epoch: subscribed.get('messages')?.epoch })
  t.equal(other.code, 'RESYNC_REQUIRED', 'another resource\'s epoch is not this one\'s')
})

t.test('a rotation (a node lost changes) reaches every resource on every shard', async (t) => {
  const cluster = await RedisClusterProcesses.start(t)
  const [a, b] = await twoInstances(t, cluster)
  const watchers = [await a.client(), await b.client()]
  const before = new Map<string, Message>()
  for (const watcher of watchers) for (const name of RESOURCES) before.set(name, await watcher.request({ type: 'subscribe', resource: name }))
  for (const name of RESOURCES) await write(a, name, `${name}-before`)
  await until(() => watchers.every((w) => events(w).length === 2), 'the first changes everywhere')

  // What a node does when it finds another one died without a goodbye (coordinator.announceLoss).
  const operator = new RedisBus({ nodes: cluster.nodes, nodeId: 'operator' })
  t.teardown(async () => { await operator.close() })
  await operator.start()
  const epoch = await operator.rotateEpoch()
  await operator.publish(CONTROL_TOPIC, { kind: 'resync' })
  await until(() => watchers.every((w) => RESOURCES.every((name) => resyncsOf(w, name).length > 0)), 'RESYNC_REQUIRED for every resource on both instances')
  for (const name of RESOURCES) {
    const resyncs = watchers.map((w) => resyncsOf(w, name)[0])
    t.ok(resyncs.every((m) => m?.details.epoch === epoch), `${name}: both instances moved to the new epoch`)
    const stale = await watchers[1]!.request({ type: 'subscribe', resource: name, filter: { id: 'none' }, since: 1, epoch: before.get(name)?.epoch })
    t.equal(stale.code, 'RESYNC_REQUIRED', `${name}: the old epoch cannot be resumed`)
  }
  for (const name of RESOURCES) await write(b, name, `${name}-after`)
  await until(() => watchers.every((w) => events(w).length === 4), 'changes after the rotation everywhere')
  t.ok(watchers.every((w) => events(w).slice(2).every((e) => e.seq === 2)), 'numbering went on under the new epoch')
})

t.test('one shard loses its data: its resources resync, and every later change still reaches everyone once', async (t) => {
  const cluster = await RedisClusterProcesses.start(t)
  const [a, b] = await twoInstances(t, cluster)
  const watcher = await b.client()
  const subscribed = new Map<string, Message>()
  for (const name of RESOURCES) subscribed.set(name, await watcher.request({ type: 'subscribe', resource: name }))
  for (const name of RESOURCES) for (let i = 0; i < 3; i++) await write(a, name, `${name}-${i}`)
  await until(() => events(watcher).length === 6, 'the first changes')

  // The primary holding `messages` restarts empty (no persistence, no replica): its log,
  // counter and epoch are gone; the cluster is down while it is away.
  const shard = cluster.servers[await cluster.ownerOf(`s3db-realtime:{${changeTopic('messages')}}:seq`)]!
  await shard.stop()
  await shard.start()
  await until(() => resyncsOf(watcher, 'messages').length > 0, 'RESYNC_REQUIRED for messages')
  const stale = await watcher.request({ type: 'subscribe', resource: 'messages', filter: { id: 'none' }, since: 3, epoch: subscribed.get('messages')?.epoch })
  t.equal(stale.code, 'RESYNC_REQUIRED', 'the lost numbering cannot be resumed')

  const seen = events(watcher).length
  for (const name of RESOURCES) for (let i = 3; i < 6; i++) await write(i % 2 === 0 ? a : b, name, `${name}-${i}`)
  await until(() => events(watcher).length === seen + 6, 'every later change')
  const later = events(watcher).slice(seen)
  for (const name of RESOURCES) {
    const ids = later.filter((e) => e.resource === name).map((e) => e.data.id)
    t.same(ids, [3, 4, 5].map((i) => `${name}-${i}`), `${name}: each later change once, in order`)
  }
  await watcher.request({ type: 'ping' })
  t.equal(events(watcher).length, seen + 6, 'no duplicate')
})
