/**
 * An instance killed (kill -9) with writes in the store it never numbered, then started again,
 * with no other node alive to notice the death: a client that resumes on the new process with
 * the position it held ({since, epoch}) must get those records or be told RESYNC_REQUIRED.
 */
import t from 'tap'
import { connect, type TestClient } from '../helpers/client.js'
import { eventIds, isResync, openClient, sharedBucket, startInstance, storedIds } from '../helpers/cluster-processes.js'
import { RedisLink, startRedis } from '../helpers/redis.js'
import { until } from '../helpers/wait.js'

const LEASE = 1000

for (const sameId of [true, false]) {
  t.test(`the only instance dies with unnumbered writes and restarts (${sameId ? 'same' : 'new'} NODE_ID): a resuming client gets them or is told`, async (t) => {
    const redis = await startRedis(t)
    const link = await RedisLink.start(t, redis)
    const bucket = await sharedBucket(t)
    const env = { BUCKET: bucket, REDIS_URL: link.url, PRESENCE_LEASE: String(LEASE) }
    const a = await startInstance(t, 'a', env)
    const watcher = await openClient(t, a)
    const subscribed = await watcher.request({ type: 'subscribe', resource: 'messages' })
    const epoch = subscribed.epoch as string
    const writers = await Promise.all([0, 1, 2, 3].map(async () => await openClient(t, a)))
    let writing = true
    for (const [i, writer] of writers.entries()) {
      void (async () => {
        for (let n = 0; writing; n++) {
          const reply = await writer.request({ type: 'insert', resource: 'messages', data: { id: `w${i}-${n}`, content: 'x', channel: 'c' } }, 10_000).catch(() => null)
          if (reply === null) return
        }
      })()
    }
    await until(() => eventIds(watcher).size >= 20, 'writes to reach the watcher')
    const stored = await storedIds(t, bucket)
    link.stall()
    await until(async () => { const seen = eventIds(watcher); return (await stored()).some((id) => !seen.has(id)) }, 'a stored write that is not numbered yet')
    a.child.kill('SIGKILL')
    writing = false
    await a.exited
    const seqs = watcher.received.filter((m) => m.type === 'event').map((m) => m.seq as number)
    const since = Math.max(...seqs)
    const missing = (seen: Set<string>, ids: string[]): string[] => ids.filter((id) => !seen.has(id))
    const lost = missing(eventIds(watcher), await stored())
    t.ok(lost.length > 0, `writes in the store the watcher never got: ${lost.join(', ')}`)

    const a2 = await startInstance(t, sameId ? 'a' : 'a2', { ...env, REDIS_URL: redis.url })
    const { client: resumed } = await connect(a2.url) as { client: TestClient }
    t.teardown(() => { resumed.close() })
    const reply = await resumed.request({ type: 'subscribe', resource: 'messages', since, epoch })
    const told = (): boolean => isResync(reply) || resumed.received.some(isResync)
    await until(() => told() || missing(eventIds(resumed), lost).length === 0, 'the lost writes or a resync', 15 * LEASE).catch(() => {})
    t.ok(told() || missing(eventIds(resumed), lost).length === 0, `resumed client got the lost writes or a resync (reply ${reply.type as string} ${reply.code as string ?? ''}; still missing ${missing(eventIds(resumed), lost).join(', ')})`)
  })
}
