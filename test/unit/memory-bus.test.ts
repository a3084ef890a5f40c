import t, { type Test } from 'tap'
import { MemoryBroker, MemoryBus } from '../../src/bus/memory.js'
import type { Envelope } from '../../src/bus/types.js'

function bus (t: Test, broker?: MemoryBroker, nodeId = 'node-1'): MemoryBus {
  const made = new MemoryBus({ nodeId, ...(broker === undefined ? {} : { broker }) })
  t.teardown(async () => { await made.close() })
  return made
}

/** Lets the broker's deferred deliveries run. */
async function settle (): Promise<void> {
  await new Promise<void>((resolve) => { setImmediate(resolve) })
}

t.test('append numbers each topic from 1, stamped with origin and epoch', async (t) => {
  const b = bus(t)
  const first = await b.append('posts', { n: 1 })
  const second = await b.append('posts', { n: 2 })
  const other = await b.append('users', { n: 1 })
  const { epoch } = await b.head('posts')
  t.same([first.seq, second.seq, other.seq], [1, 2, 1], 'topics are numbered independently')
  t.same(first, { origin: 'node-1', topic: 'posts', payload: { n: 1 }, seq: 1, epoch })
  t.same(await b.head('posts'), { epoch, lastSeq: 2 })
  t.same(await b.head('never'), { epoch, lastSeq: 0 })
})

t.test('the log keeps a copy of the payload, not the caller\'s object', async (t) => {
  const b = bus(t)
  const payload = { title: 'before' }
  await b.append('posts', payload)
  payload.title = 'after'
  const read = await b.readLog('posts', 0)
  t.same(read.entries?.map((e) => e.payload), [{ title: 'before' }])
})

t.test('appending again under an id returns the first entry and appends nothing', async (t) => {
  const b = bus(t)
  const delivered: Envelope[] = []
  await b.subscribe('posts', (e) => { delivered.push(e) })
  const first = await b.append('posts', { n: 1 }, { id: 'append-1' })
  const retry = await b.append('posts', { n: 1 }, { id: 'append-1' })
  t.equal(retry.seq, first.seq)
  t.equal(retry.epoch, first.epoch)
  t.same(await b.head('posts'), { epoch: first.epoch, lastSeq: 1 })
  const next = await b.append('posts', { n: 2 }, { id: 'append-2' })
  t.equal(next.seq, 2, 'a new id appends')
  await settle()
  t.same(delivered.map((e) => e.seq), [1, 2], 'the retry is not delivered again')
})

t.test('an append id is answered by the broker, whichever node retries', async (t) => {
  const broker = new MemoryBroker()
  const one = bus(t, broker, 'one')
  const two = bus(t, broker, 'two')
  const first = await one.append('posts', {}, { id: 'shared' })
  t.equal((await two.append('posts', {}, { id: 'shared' })).seq, first.seq)
  t.equal((await two.head('posts')).lastSeq, 1)
})

t.test('readLog: entries after the seq, nothing when up to date, null on a gap', async (t) => {
  const b = new MemoryBus({ broker: new MemoryBroker(3) })
  t.teardown(async () => { await b.close() })
  t.same((await b.readLog('posts', 0)).entries, [], 'an empty log')
  for (let n = 1; n <= 5; n++) await b.append('posts', { n })
  const read = await b.readLog('posts', 3)
  t.same(read.entries?.map((e) => e.seq), [4, 5])
  t.equal(read.lastSeq, 5)
  t.same((await b.readLog('posts', 5)).entries, [], 'up to date')
  t.same((await b.readLog('posts', 2)).entries?.map((e) => e.seq), [3, 4, 5], 'the oldest kept entry is 3')
  t.equal((await b.readLog('posts', 1)).entries, null, 'seq 2 fell out of the bounded history: a gap, not a silent skip')
  t.equal((await b.readLog('posts', 0)).entries, null)
})

t.test('stash/take: a value is taken once; overwritten values and expired ones are gone', async (t) => {
  const broker = new MemoryBroker()
  const one = bus(t, broker, 'one')
  const two = bus(t, broker, 'two')
  await one.stash('ticket', { user: 'ann' }, 60_000)
  t.same(await two.take('ticket'), { user: 'ann' }, 'another node takes it')
  t.equal(await one.take('ticket'), null, 'only once')
  await one.stash('ticket', 'first', 60_000)
  await one.stash('ticket', 'second', 60_000)
  t.equal(await one.take('ticket'), 'second')
  await one.stash('expired', 'x', 0)
  t.equal(await one.take('expired'), null, 'a value whose lifetime is over is not handed out')
  t.equal(await one.take('never'), null)
})

t.test('a stashed value is a copy', async (t) => {
  const b = bus(t)
  const value = { roles: ['user'] }
  await b.stash('k', value, 60_000)
  value.roles.push('admin')
  t.same(await b.take('k'), { roles: ['user'] })
})

t.test('rotateEpoch starts a new epoch that later appends carry; retries keep their first answer', async (t) => {
  const broker = new MemoryBroker()
  const one = bus(t, broker, 'one')
  const two = bus(t, broker, 'two')
  const before = await one.append('posts', {}, { id: 'early' })
  const epoch = await one.rotateEpoch()
  t.not(epoch, before.epoch)
  t.equal((await two.head('posts')).epoch, epoch, 'every node sees it')
  t.equal((await two.append('posts', {})).epoch, epoch)
  t.equal((await one.append('posts', {}, { id: 'early' })).epoch, before.epoch, 'the retried append still names the entry it made')
})

t.test('publish and append reach subscribers asynchronously, in order; unsubscribe stops them', async (t) => {
  const broker = new MemoryBroker()
  const one = bus(t, broker, 'one')
  const two = bus(t, broker, 'two')
  const seen: Array<[string, unknown]> = []
  const off = await two.subscribe('chat', (e) => { seen.push([e.origin, e.payload]) })
  const sending = [one.publish('chat', 'a'), one.append('chat', 'b'), two.publish('chat', 'c')]
  t.same(seen, [], 'nothing is delivered inside the call (like a network hop)')
  await Promise.all(sending)
  await settle()
  t.same(seen, [['one', 'a'], ['one', 'b'], ['two', 'c']])
  await off()
  await one.publish('chat', 'd')
  await settle()
  t.equal(seen.length, 3)
})

t.test('a closed bus refuses work and says it is unhealthy; close is idempotent', async (t) => {
  const b = new MemoryBus()
  t.equal(b.healthy(), true)
  await b.close()
  await b.close()
  t.equal(b.healthy(), false)
  await t.rejects(b.append('posts', {}), /closed/)
  await t.rejects(b.publish('posts', {}), /closed/)
  await t.rejects(b.take('k'), /closed/)
})
