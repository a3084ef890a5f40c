import t from 'tap'
import { eventIds, openClient, resyncTimes, sharedBucket, startInstance, startWorker, storedIds } from '../helpers/cluster-processes.js'
import { RedisLink, startRedis } from '../helpers/redis.js'
import { until } from '../helpers/wait.js'

/*
 * Found by an independent fault pass: a worker cut off from Redis long enough for the instances
 * to presume it dead (and announce what it wrote until then) went on writing; it then died before
 * reconnecting, and that later write was in the store but never announced to anyone. Once a node
 * is cut off for 2 leases (before the others' 3-lease announcement), its writes are refused
 * before they reach the store (CutOffError), whoever makes them.
 */
const LEASE = 1000

t.test('a worker cut off past the liveness deadline cannot write: nothing lands that nobody will announce', async (t) => {
  const redis = await startRedis(t)
  const link = await RedisLink.start(t, redis)
  const bucket = await sharedBucket(t)
  const [instance, worker] = await Promise.all([
    startInstance(t, 'instance', { BUCKET: bucket, REDIS_URL: redis.url, PRESENCE_LEASE: String(LEASE) }),
    startWorker(t, 'worker', { BUCKET: bucket, REDIS_URL: link.url, PRESENCE_LEASE: String(LEASE) })
  ])
  const watcher = await openClient(t, instance)
  const resyncs = resyncTimes(watcher)
  await watcher.request({ type: 'subscribe', resource: 'messages' })
  worker.command('insert first')
  await until(() => eventIds(watcher).has('first'), 'first')

  link.cut()
  await until(() => resyncs.length > 0, 'the instance to presume the silent worker dead and announce it', 10 * LEASE)
  worker.command('insert late')
  const refused = await worker.waitSaid((line) => line.failed === 'late' || line.inserted === 'late', 'the late write\'s outcome')
  t.equal(refused.failed, 'late', 'the write is refused')
  t.match(String(refused.error), /cut off from the cluster bus/, 'with the cut-off error')
  worker.child.kill('SIGKILL')
  await worker.exited
  const stored = await storedIds(t, bucket)
  t.notOk((await stored()).includes('late'), 'nothing reached the store')
  t.notOk(eventIds(watcher).has('late'))
})
