/**
 * Issue #18, faults 1 and 3 for `attachPublisher` workers, with real processes: a worker that is
 * killed with writes between the store and their numbering, or that closes while cut off from
 * Redis with changes it could not forward, must not leave the instances' clients silently behind.
 */
import t, { type Test } from 'tap'
import type { TestClient } from '../helpers/client.js'
import { eventIds, openClient, resyncTimes, sharedBucket, startInstance, startWorker, storedIds, type ClusterProcess } from '../helpers/cluster-processes.js'
import { RedisLink, startRedis } from '../helpers/redis.js'
import { until } from '../helpers/wait.js'

const LEASE = 1000

interface Setup {
  bucket: string
  /** Reaches Redis only through `link`. */
  worker: ClusterProcess
  link: RedisLink
  /** Subscribed to messages on the instance. */
  watcher: TestClient
  /** When each RESYNC_REQUIRED reached the watcher. */
  resyncs: number[]
}

async function instanceAndWorker (t: Test): Promise<Setup> {
  const redis = await startRedis(t)
  const link = await RedisLink.start(t, redis)
  const bucket = await sharedBucket(t)
  const lease = String(LEASE)
  const [instance, worker] = await Promise.all([
    startInstance(t, 'instance', { BUCKET: bucket, REDIS_URL: redis.url, PRESENCE_LEASE: lease }),
    startWorker(t, 'worker', { BUCKET: bucket, REDIS_URL: link.url, PRESENCE_LEASE: lease })
  ])
  const watcher = await openClient(t, instance)
  const resyncs = resyncTimes(watcher)
  await watcher.request({ type: 'subscribe', resource: 'messages' })
  return { bucket, worker, link, watcher, resyncs }
}

/** Waits (bounded) for a RESYNC_REQUIRED that reached the watcher after `since`; whether one did. */
async function toldAfter (setup: Setup, since: number, done: () => boolean = () => false): Promise<boolean> {
  const told = (): boolean => setup.resyncs.some((at) => at > since)
  await until(() => told() || done(), 'a resync', 20 * LEASE).catch(() => {})
  return told()
}

const inserted = (id: string) => (line: Record<string, unknown>): boolean => line.inserted === id

t.test('a worker cut off from Redis drops changes, then closes: the instances\' clients are told to re-list', async (t) => {
  const setup = await instanceAndWorker(t)
  const { worker, link, watcher } = setup
  worker.command('insert first')
  await worker.waitSaid(inserted('first'), 'the first insert')
  await until(() => eventIds(watcher).has('first'), 'the worker\'s change to reach the watcher')

  link.cut()
  for (const id of ['cut-0', 'cut-1', 'cut-2']) {
    worker.command(`insert ${id}`)
    await worker.waitSaid(inserted(id), id)
  }
  // Each insert resolved, so its record is in the store: the watcher must hear of it after this.
  const droppedAt = Date.now()
  worker.command('close')
  const closed = await worker.waitSaid((line) => line.closed === true, 'close')
  t.equal(closed.dropped, 3, 'the worker counted the three changes it could not forward')
  await worker.exited
  t.ok(await toldAfter(setup, droppedAt), 'the watcher is told RESYNC_REQUIRED for what the worker dropped')
  t.notOk(['cut-0', 'cut-1', 'cut-2'].some((id) => eventIds(watcher).has(id)), 'none of them arrived as an event')
})

t.test('kill -9 of a busy worker while writes sit between the store and their numbering: each stored record arrives, or a resync', async (t) => {
  const setup = await instanceAndWorker(t)
  const { bucket, worker, link, watcher } = setup
  worker.command('loop w')
  await until(() => eventIds(watcher).size >= 20, 'the worker\'s writes to reach the watcher')
  const stored = await storedIds(t, bucket)
  // The worker's next write lands in the store right after the stall, then waits for its
  // numbering (the loop waits for each insert): no record the watcher misses landed after that.
  link.stall()
  const stalledAt = Date.now()
  await until(async () => { const seen = eventIds(watcher); return (await stored()).some((id) => !seen.has(id)) }, 'a stored write that is not numbered yet')
  worker.child.kill('SIGKILL')
  await worker.exited
  const ids = await stored()
  const missing = (): string[] => { const seen = eventIds(watcher); return ids.filter((id) => !seen.has(id)) }
  const told = await toldAfter(setup, stalledAt, () => missing().length === 0)
  t.ok(missing().length === 0 || told, `every stored record reached the watcher, or it was told to re-list after them (missing: ${missing().join(', ') || 'none'})`)
})

t.test('a worker that closes with everything forwarded is not announced as lost', async (t) => {
  const setup = await instanceAndWorker(t)
  const { worker, watcher } = setup
  worker.command('insert one')
  await worker.waitSaid(inserted('one'), 'the insert')
  await until(() => eventIds(watcher).has('one'), 'the change to reach the watcher')
  const closing = Date.now()
  worker.command('close')
  const closed = await worker.waitSaid((line) => line.closed === true, 'close')
  t.equal(closed.dropped, 0)
  await worker.exited
  await new Promise((resolve) => setTimeout(resolve, 6 * LEASE)) // twice the wait before a silent node counts as dead
  await watcher.request({ type: 'ping' })
  t.notOk(setup.resyncs.some((at) => at > closing), 'no RESYNC_REQUIRED for a worker that said goodbye')
})
