/**
 * `subscribe {snapshot: true}` under a burst (issue #18, "Also seen": after a fault every
 * subscriber asks at once, and an epoch change during the listings refused every one of them,
 * again and again). Listings now take turns (src/hub/snapshot-queue.ts): a snapshot reads its
 * position when its turn comes, so a numbering change refuses only the few already listing.
 */
import t from 'tap'
import { ReadQueue, SNAPSHOT_READS } from '../../src/hub/snapshot-queue.js'
import { buildApp } from '../helpers/app.js'
import { partsOf } from '../helpers/hub.js'
import { until } from '../helpers/wait.js'

t.test('snapshots asked all at once take turns; an epoch change refuses only those listing', async (t) => {
  const ctx = await buildApp(t)
  const messages = ctx.db.resources.messages as NonNullable<typeof ctx.db.resources.messages>
  await messages.insert({ id: 'one', content: 'x', channel: 'c' })
  // Hold every listing of the store until the test opens the gate.
  const store = messages.client as unknown as { listObjects: (...args: unknown[]) => Promise<unknown> }
  const listObjects = store.listObjects.bind(store)
  let open: () => void = () => {}
  const gate = new Promise<void>((resolve) => { open = resolve })
  let listing = 0
  let most = 0
  store.listObjects = async (...args) => {
    listing++
    most = Math.max(most, listing)
    try {
      await gate
      return await listObjects(...args)
    } finally {
      listing--
    }
  }

  const asking = SNAPSHOT_READS + 4
  const clients = await Promise.all(Array.from({ length: asking }, async () => await ctx.client()))
  const replies = clients.map(async (client) => await client.request({ type: 'subscribe', resource: 'messages', snapshot: true }, 10_000))
  await until(() => listing >= SNAPSHOT_READS, `${SNAPSHOT_READS} listings under way`)
  await new Promise((resolve) => setTimeout(resolve, 200)) // every request has reached the server
  t.equal(listing, SNAPSHOT_READS, 'the others wait their turn instead of listing too')

  partsOf(ctx.app).stream.setEpoch('moved') // what a cluster recovery does
  open()
  const answers = await Promise.all(replies)
  const refused = answers.filter((m) => m.code === 'RESYNC_REQUIRED')
  const served = answers.filter((m) => m.type === 'subscribed')
  t.equal(refused.length, SNAPSHOT_READS, 'the listings under way when the numbering moved are refused')
  t.equal(served.length, asking - SNAPSHOT_READS, 'the queued ones read their position afterwards and succeed')
  t.ok(served.every((m) => m.snapshot.epoch === 'moved' && m.snapshot.data.length === 1), 'under the new epoch, with the record')
  t.equal(most, SNAPSHOT_READS, 'never more listings at once than the queue allows')
})

t.test('the queue runs at most its limit at once, in arrival order', async (t) => {
  const queue = new ReadQueue(2)
  const started: number[] = []
  const finish: Array<() => void> = []
  const tasks = [0, 1, 2, 3, 4].map(async (i) => await queue.run(async () => {
    started.push(i)
    await new Promise<void>((resolve) => { finish[i] = resolve })
    return i
  }))
  await new Promise((resolve) => setImmediate(resolve))
  t.same(started, [0, 1], 'two at once')
  finish[1]?.()
  await new Promise((resolve) => setImmediate(resolve))
  t.same(started, [0, 1, 2], 'a finished one hands its turn to the oldest waiting')
  for (const i of [0, 2, 3, 4]) {
    await new Promise((resolve) => setImmediate(resolve))
    finish[i]?.()
  }
  t.same(await Promise.all(tasks), [0, 1, 2, 3, 4])
  t.same(started, [0, 1, 2, 3, 4], 'in arrival order')
})
