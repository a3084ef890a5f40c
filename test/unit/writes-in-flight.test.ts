import t from 'tap'
import { watchWrites, WritesInFlight } from '../../src/bridge/write-barrier.js'
import type { ResourceLike } from '../../src/types.js'
import { createDatabase } from '../helpers/db.js'

/*
 * Shutdown waits for the writes running on the attached resources (src/bridge/write-barrier.ts):
 * a write counts from its call until its change is captured (clustered: numbered).
 */

t.test('a write counts until its change is captured; settled waits for the ones running now', async (t) => {
  const db = await createDatabase(t)
  const messages = db.resources.messages as unknown as ResourceLike
  const writes = new WritesInFlight()
  const captured: string[] = []
  messages.on('inserted', (record: { id: string }) => { captured.push(record.id) })
  const undo = watchWrites(messages, { settled: null, writes })
  t.teardown(undo)

  const write = messages.insert({ id: 'a', content: 'x', channel: 'c' })
  t.equal(writes.count, 1, 'counted from the call')
  await write
  t.equal(writes.count, 1, 'still counted once s3db resolved it: its change is announced a turn later')
  await writes.settled(5000)
  t.equal(writes.count, 0)
  t.same(captured, ['a'], 'by then the change was captured')
})

t.test('idle waits through a job that writes, works without I/O, then writes again (clustered: each write waits for its numbering)', async (t) => {
  const db = await createDatabase(t)
  const messages = db.resources.messages as unknown as ResourceLike
  const writes = new WritesInFlight()
  const undo = watchWrites(messages, { settled: async () => {}, writes })
  t.teardown(undo)
  // Some async work between the two writes that does no I/O (a cache, a transform).
  const transform = async (record: unknown): Promise<Record<string, unknown>> => {
    for (let i = 0; i < 10; i++) await Promise.resolve()
    return { ...(record as Record<string, unknown>), id: 'second' }
  }
  let second = false
  const job = (async () => {
    const first = await messages.insert({ id: 'first', content: 'x', channel: 'c' })
    await messages.insert(await transform(first))
    second = true
  })()
  t.equal(await writes.idle(5000), true, 'no write runs any more')
  t.equal(second, true, 'and the job\'s second write was waited for, not only the first')
  await job
})

t.test('idle gives up after its bound and says so; undo stops counting', async (t) => {
  const db = await createDatabase(t)
  const messages = db.resources.messages as unknown as ResourceLike & { addHook: (event: string, hook: (data: unknown) => Promise<unknown>) => void }
  let release: () => void = () => {}
  messages.addHook('beforeInsert', async (data) => { await new Promise<void>((resolve) => { release = resolve }); return data })
  const writes = new WritesInFlight()
  const undo = watchWrites(messages, { settled: null, writes })
  const stuck = messages.insert({ id: 'stuck', content: 'x', channel: 'c' })
  t.equal(await writes.idle(50), false, 'a write still runs')
  t.equal(writes.count, 1)
  undo()
  release()
  await stuck
  await writes.settled(5000)
  t.equal(writes.count, 0, 'the write already running still ends')
  const after = messages.insert({ id: 'after', content: 'x', channel: 'c' })
  t.equal(writes.count, 0, 'a write after undo is not counted')
  release()
  await after
})
