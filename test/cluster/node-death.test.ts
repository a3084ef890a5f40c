/**
 * Issue #18, faults 1 and 3 for instances, with real processes: an instance that dies (kill -9)
 * with writes in the store that it never numbered, or after acknowledging writes it could only
 * deliver alone (cut off from Redis, or Redis frozen), must not leave the rest of the cluster
 * silently behind: every record in the store reaches a watcher on another instance, or that
 * watcher is told RESYNC_REQUIRED after it.
 */
import t from 'tap'
import { assertSeenOrTold, busConnected, eventIds, openClient, storedIds, twoInstances } from '../helpers/cluster-processes.js'
import { until } from '../helpers/wait.js'

const LEASE = 1000

t.test('kill -9 while writes sit between the store and their numbering: a watcher elsewhere sees each stored record or is told to re-list', async (t) => {
  const setup = await twoInstances(t, LEASE)
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
  const setup = await twoInstances(t, LEASE)
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

t.test('gives up on an append while Redis is frozen, acknowledges the write alone, dies before the thaw: the watcher elsewhere is told', async (t) => {
  const setup = await twoInstances(t, LEASE)
  const { a, redis, link, watcher } = setup
  const writer = await openClient(t, a)
  await writer.request({ type: 'insert', resource: 'messages', data: { id: 'before', content: 'x', channel: 'c' } })
  await until(() => eventIds(watcher).has('before'), 'the cluster to carry A\'s write')

  // Nobody hears anybody while Redis is frozen. What A sends meanwhile (its append, the epoch
  // rotation it starts after giving up) is held on its link and lost with its connections: a
  // frozen Redis whose buffers do not survive the writer (a reset connection, a failover).
  redis.pause()
  link.stall()
  t.teardown(() => { redis.resume() })
  // A's append waits on the frozen Redis until A gives up on it and serves its own clients alone.
  const reply = await writer.request({ type: 'insert', resource: 'messages', data: { id: 'frozen', content: 'x', channel: 'c' } }, 30_000)
  t.equal(reply.type, 'inserted', 'A acknowledged the write it could not number')
  const acknowledgedAt = Date.now()
  a.child.kill('SIGKILL')
  await a.exited
  redis.resume()
  await assertSeenOrTold(t, setup, ['before', 'frozen'], acknowledgedAt)
})
