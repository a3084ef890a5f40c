/**
 * Issue #18, faults 1 and 3 for instances, with real processes: an instance that dies (kill -9)
 * with writes in the store that it never numbered, or after acknowledging writes it could only
 * deliver alone (cut off from Redis), must not leave the rest of the cluster silently behind:
 * every record in the store reaches a watcher on another instance, or that watcher is told
 * RESYNC_REQUIRED. And an instance cut off for longer than the others wait before declaring it
 * dead must stop taking writes it could not announce.
 */
import t, { type Test } from 'tap'
import type { TestClient } from '../helpers/client.js'
import { busConnected, eventIds, isResync, openClient, resyncTimes, sharedBucket, startInstance, storedIds, type Instance } from '../helpers/cluster-processes.js'
import { RedisLink, startRedis } from '../helpers/redis.js'
import { until } from '../helpers/wait.js'

const LEASE = 1000

interface Setup {
  bucket: string
  /** Instance A reaches Redis only through `link`. */
  a: Instance
  b: Instance
  link: RedisLink
  /** Subscribed to messages on B. */
  watcher: TestClient
  /** When each RESYNC_REQUIRED reached the watcher. */
  resyncs: number[]
}

async function twoInstances (t: Test): Promise<Setup> {
  const redis = await startRedis(t)
  const link = await RedisLink.start(t, redis)
  const bucket = await sharedBucket(t)
  const lease = String(LEASE)
  const [a, b] = await Promise.all([
    startInstance(t, 'a', { BUCKET: bucket, REDIS_URL: link.url, PRESENCE_LEASE: lease }),
    startInstance(t, 'b', { BUCKET: bucket, REDIS_URL: redis.url, PRESENCE_LEASE: lease })
  ])
  const watcher = await openClient(t, b)
  const resyncs = resyncTimes(watcher)
  await watcher.request({ type: 'subscribe', resource: 'messages' })
  return { bucket, a, b, link, watcher, resyncs }
}

/** Inserts through a fresh socket: the reply's type, or 'closed <code>' when the socket is closed instead. */
async function tryInsert (t: Test, instance: Instance, id: string): Promise<string> {
  const client = await openClient(t, instance)
  client.send({ type: 'insert', resource: 'messages', requestId: id, data: { id, content: 'x', channel: 'c' } })
  return await Promise.race([
    client.waitFor((m) => m.requestId === id, 30_000).then((m) => m.type as string),
    client.closed.then(({ code }) => `closed ${code}`)
  ])
}

/**
 * Waits (bounded) until every record in the store reached the watcher, or it was told to
 * re-list after `since` (when the last record it misses was already in the store), then asserts it.
 */
async function assertSeenOrTold (t: Test, setup: Setup, ids: string[], since: number): Promise<void> {
  const told = (): boolean => setup.resyncs.some((at) => at > since)
  const missing = (): string[] => { const seen = eventIds(setup.watcher); return ids.filter((id) => !seen.has(id)) }
  await until(() => missing().length === 0 || told(), 'every stored record or a resync', 20 * LEASE).catch(() => {})
  t.ok(missing().length === 0 || told(), `every stored record reached the watcher, or it was told to re-list after them (missing: ${missing().join(', ') || 'none'})`)
}

t.test('kill -9 while writes sit between the store and their numbering: a watcher elsewhere sees each stored record or is told to re-list', async (t) => {
  const setup = await twoInstances(t)
  const { bucket, a, link, watcher } = setup
  const writers = await Promise.all([0, 1, 2, 3].map(async () => await openClient(t, a)))
  let writing = true
  for (const [i, writer] of writers.entries()) {
    void (async () => {
      for (let n = 0; writing; n++) {
        const reply = await writer.request({ type: 'insert', resource: 'messages', data: { id: `w${i}-${n}`, content: 'x', channel: 'c' } }, 60_000).catch(() => null)
        if (reply === null) return
      }
    })()
  }
  await until(() => eventIds(watcher).size >= 20, 'A\'s writes to reach the watcher on B')
  const stored = await storedIds(t, bucket)
  // A's Redis traffic stops getting through: its next writes reach the store and then wait for
  // their numbering. Killed now, A leaves them in the store, never appended.
  // Each writer's next write lands in the store right after the stall, then waits for its
  // numbering (writers wait for each reply): no record the watcher misses landed after that.
  link.stall()
  const stalledAt = Date.now()
  await until(async () => { const seen = eventIds(watcher); return (await stored()).some((id) => !seen.has(id)) }, 'a stored write that is not numbered yet')
  a.child.kill('SIGKILL')
  writing = false
  await a.exited
  await assertSeenOrTold(t, setup, await stored(), stalledAt)
})

t.test('cut off from Redis, acknowledges writes it can only deliver alone, then kill -9: the watcher elsewhere is told', async (t) => {
  const setup = await twoInstances(t)
  const { a, link, watcher } = setup
  const writer = await openClient(t, a)
  const onA = await openClient(t, a)
  await onA.request({ type: 'subscribe', resource: 'messages' })
  await writer.request({ type: 'insert', resource: 'messages', data: { id: 'before', content: 'x', channel: 'c' } })
  await until(() => eventIds(watcher).has('before'), 'the cluster to carry A\'s write')

  link.cut()
  await until(async () => !(await busConnected(a)), 'A to notice it is cut off')
  const acknowledged: string[] = []
  for (let i = 0; i < 3; i++) {
    const reply = await writer.request({ type: 'insert', resource: 'messages', data: { id: `alone-${i}`, content: 'x', channel: 'c' } })
    if (reply.type === 'inserted') acknowledged.push(reply.data.id as string)
  }
  t.same(acknowledged, ['alone-0', 'alone-1', 'alone-2'], 'A acknowledged the writes while cut off')
  // Acknowledged, so already in the store: the watcher must hear of them after this.
  const acknowledgedAt = Date.now()
  await until(() => eventIds(onA).has('alone-2'), 'A\'s own subscriber to get them (delivered alone)')
  a.child.kill('SIGKILL')
  await a.exited
  await assertSeenOrTold(t, setup, ['before', ...acknowledged], acknowledgedAt)
})

t.test('cut off for longer than the cluster waits: the instance stops taking writes before it is declared dead, and takes them again once back', async (t) => {
  const { a, link, watcher } = await twoInstances(t)
  const reader = await openClient(t, a)
  await reader.request({ type: 'subscribe', resource: 'messages' })
  const writer = await openClient(t, a)
  link.cut()
  await until(async () => !(await busConnected(a)), 'A to notice it is cut off')
  // B hears nothing from A for 3 leases: A may have written what nobody was told; B says so.
  const told = await watcher.waitFor(isResync, 20 * LEASE)
  t.equal(told.details.resource, 'messages', 'B tells its subscribers to re-list once it presumes A dead')
  // By then A refuses writes: acknowledged now, they would be lost for good if A died before Redis returns.
  writer.send({ type: 'insert', resource: 'messages', requestId: 'late', data: { id: 'late', content: 'x', channel: 'c' } })
  const closed = await writer.closed
  t.equal(closed.code, 1013, 'a write sent to an instance out of step closes its socket with 1013 (try again later)')
  t.notOk(writer.received.some((m) => m.requestId === 'late' && m.type === 'inserted'), 'the write was not acknowledged')
  t.equal(reader.closeCode, null, 'sockets that do not write stay open')

  link.heal()
  await until(async () => await busConnected(a), 'A to reach Redis again')
  // Back in step once it hears the cluster again and has caught up; until then a write is turned away.
  let reply: string | null = null
  for (let i = 0; reply !== 'inserted' && i < 40; i++) {
    if (i > 0) await new Promise((resolve) => setTimeout(resolve, LEASE / 2))
    reply = await tryInsert(t, a, 'back')
  }
  t.equal(reply, 'inserted', 'back in step, A takes writes again')
  await until(() => eventIds(watcher).has('back'), 'the watcher on B to get the write made after A came back')
})

t.test('an instance that stops cleanly (SIGTERM) is not announced as lost', async (t) => {
  const { a, watcher } = await twoInstances(t)
  const writer = await openClient(t, a)
  await writer.request({ type: 'insert', resource: 'messages', data: { id: 'one', content: 'x', channel: 'c' } })
  await until(() => eventIds(watcher).has('one'), 'the write to reach the watcher')
  const mark = watcher.received.length
  a.child.kill('SIGTERM')
  await a.exited
  await new Promise((resolve) => setTimeout(resolve, 6 * LEASE)) // twice the wait before a silent node counts as dead
  await watcher.request({ type: 'ping' })
  t.notOk(watcher.received.slice(mark).some(isResync), 'no RESYNC_REQUIRED for an instance that said goodbye')
})
