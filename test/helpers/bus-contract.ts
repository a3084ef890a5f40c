import t, { type Test } from 'tap'
import { busClock, type Bus, type Envelope } from '../../src/bus/types.js'
import { until } from './wait.js'

/** Makes two buses (nodes 'a' and 'b') on one broker, closed at teardown. */
export type BusFactory = (t: Test, historySize: number) => Promise<[Bus, Bus]>

export async function collect (bus: Bus, topic: string): Promise<Envelope[]> {
  const list: Envelope[] = []
  await bus.subscribe(topic, (e) => { list.push(e) })
  return list
}

/** The contract every Bus keeps (memory, one Redis, a Redis Cluster). */
export function busContract (name: string, make: BusFactory, perTopicEpochs = false): void {
  t.test(`${name} bus: the shared contract`, async (t) => {
    t.test('publish reaches every node, including the publisher, in order, stamped with its origin', async (t) => {
      const [a, b] = await make(t, 10)
      const onA = await collect(a, 'news')
      const onB = await collect(b, 'news')
      const other = await collect(b, 'other')
      for (let i = 0; i < 20; i++) await a.publish('news', { i })
      await until(() => onA.length === 20 && onB.length === 20, '20 messages on both nodes')
      t.same(onB.map((e) => (e.payload as { i: number }).i), [...Array(20).keys()], 'publish order kept')
      t.ok(onB.every((e) => e.origin === 'a' && e.topic === 'news'), 'origin and topic on every envelope')
      t.same(onA, onB)
      t.equal(other.length, 0, 'another topic got nothing')
    })

    t.test('unsubscribe stops delivery; a throwing handler does not stop the others', async (t) => {
      const [a, b] = await make(t, 10)
      const kept: Envelope[] = []
      const dropped: Envelope[] = []
      await b.subscribe('x', () => { throw new Error('subscriber bug') })
      await b.subscribe('x', (e) => { kept.push(e) })
      const off = await b.subscribe('x', (e) => { dropped.push(e) })
      await a.publish('x', 1)
      await until(() => kept.length === 1 && dropped.length === 1, 'first message')
      await off()
      await a.publish('x', 2)
      await until(() => kept.length === 2, 'second message')
      t.equal(dropped.length, 1, 'the unsubscribed handler got only the first')
      t.same(kept.map((e) => e.payload), [1, 2])
    })

    t.test('append numbers entries cluster-wide, delivers them in seq order and keeps history', async (t) => {
      const [a, b] = await make(t, 500)
      const onA = await collect(a, 'log:messages')
      const onB = await collect(b, 'log:messages')
      const writes: Array<Promise<Envelope>> = []
      for (let i = 0; i < 100; i++) writes.push((i % 2 === 0 ? a : b).append('log:messages', { i }))
      const results = await Promise.all(writes)
      t.same(results.map((r) => r.seq).sort((x, y) => (x as number) - (y as number)), [...Array(100).keys()].map((i) => i + 1), 'seqs 1..100, each once')
      t.equal(new Set(results.map((r) => r.epoch)).size, 1, 'one epoch')
      await until(() => onA.length === 100 && onB.length === 100, '100 entries on both nodes')
      for (const list of [onA, onB]) t.same(list.map((e) => e.seq), [...Array(100).keys()].map((i) => i + 1), 'delivered in seq order')
      t.ok(onB.some((e) => e.origin === 'a') && onB.some((e) => e.origin === 'b'), 'both origins present')
      const read = await b.readLog('log:messages', 90)
      t.equal(read.lastSeq, 100)
      t.same(read.entries?.map((e) => e.seq), [91, 92, 93, 94, 95, 96, 97, 98, 99, 100])
      t.same(read.entries?.map((e) => e.payload), onA.slice(90).map((e) => e.payload), 'history holds the same payloads')
      t.same((await a.readLog('log:messages', 100)).entries, [], 'nothing after the head')
      t.same(await a.head('log:messages'), { epoch: results[0]?.epoch, lastSeq: 100 })
      const users = await a.head('log:users')
      t.equal(users.lastSeq, 0, 'other topics have their own seq')
      // One Redis has one epoch for every topic; a Redis Cluster one per topic (its own shard).
      if (!perTopicEpochs) t.equal(users.epoch, results[0]?.epoch, 'and share the epoch')
      t.equal(users.epoch, (await b.head('log:users')).epoch, 'every node sees the same epoch of a topic')
    })

    t.test('history is bounded: reading past its start is a gap (null), not a silent skip', async (t) => {
      const [a, b] = await make(t, 5)
      for (let i = 0; i < 12; i++) await a.append('log:users', { i })
      const covered = await b.readLog('log:users', 7)
      t.same(covered.entries?.map((e) => e.seq), [8, 9, 10, 11, 12])
      const gap = await b.readLog('log:users', 6)
      t.equal(gap.entries, null, 'seq 7 was evicted')
      t.equal(gap.lastSeq, 12)
    })

    t.test('rotateEpoch starts a new epoch every node sees', async (t) => {
      const [a, b] = await make(t, 5)
      const first = await a.append('log:t', 1)
      await b.head('log:other')
      t.equal((await a.head('log:t')).renumbered, undefined, 'one numbering so far')
      const epoch = await b.rotateEpoch()
      t.not(epoch, first.epoch)
      t.equal((await a.head('log:t')).epoch, epoch)
      t.equal((await a.head('log:t')).renumbered, true, 'the head says the numbering was replaced')
      t.equal((await a.readLog('log:other', 0)).renumbered, true, 'for every topic with a log, and in reads too')
      t.equal((await a.head('log:other')).epoch, epoch, 'under the same new epoch')
      const next = await a.append('log:t', 2)
      t.equal(next.epoch, epoch)
      t.equal(next.seq, 2, 'seq keeps counting; the epoch says the old numbers are void')
    })

    t.test('appending again under an id returns the entry the first attempt made; a new id appends', async (t) => {
      const [a, b] = await make(t, 5)
      const seen = await collect(b, 'log:r')
      const first = await a.append('log:r', { n: 1 }, { id: 'one' })
      await a.append('log:r', { n: 2 }, { id: 'two' })
      const again = await b.append('log:r', { n: 1 }, { id: 'one' })
      t.same([again.seq, again.epoch], [first.seq, first.epoch], 'the first entry, not a new one (from any node)')
      const fresh = await a.append('log:r', { n: 3 }, { id: 'three' })
      t.equal(fresh.seq, 3, 'an id the log never saw is appended')
      await until(() => seen.length === 3, 'three entries published')
      t.same(seen.map((e) => e.payload), [{ n: 1 }, { n: 2 }, { n: 3 }], 'each published once')
      t.same((await b.readLog('log:r', 0)).entries?.map((e) => e.seq), [1, 2, 3])
    })

    t.test('an append id is remembered after its entry left the bounded history', async (t) => {
      const [a] = await make(t, 3)
      const first = await a.append('log:f', 'x', { id: 'early' })
      for (let i = 0; i < 5; i++) await a.append('log:f', i)
      const again = await a.append('log:f', 'x', { id: 'early' })
      t.equal(again.seq, first.seq, 'still the first entry')
      t.equal((await a.head('log:f')).lastSeq, 6, 'nothing appended')
    })

    t.test('an append that reaches the log after its deadline makes no entry, under any attempt of its id', async (t) => {
      const [a, b] = await make(t, 5)
      const seen = await collect(b, 'log:d')
      await a.append('log:d', 'first')
      const late = busClock() - 1
      const refused = { name: 'AppendRefusedError', reason: 'deadline' }
      await t.rejects(a.append('log:d', 'late', { id: 'late', deadline: late }), refused, 'refused')
      await t.rejects(b.append('log:d', 'late', { id: 'late', deadline: late }), refused, 'asking again under its id (from any node) makes none either')
      const next = await a.append('log:d', 'next', { id: 'next', deadline: busClock() + 5000 })
      t.equal(next.seq, 2, 'the refused append used no seq')
      await until(() => seen.length === 2, 'two entries published')
      t.same(seen.map((e) => e.payload), ['first', 'next'], 'nothing published for it')
      const again = await b.append('log:d', 'next', { id: 'next', deadline: late })
      t.same([again.seq, again.epoch], [next.seq, next.epoch], 'an entry made in time is still returned when asked about after the deadline')
    })

    t.test('stash/take: a value stashed on one node is taken once, by one node; expired values are gone', async (t) => {
      const [a, b] = await make(t, 5)
      await a.stash('k1', { user: { id: 'u1' } }, 10_000)
      const taken = await Promise.all([a.take('k1'), b.take('k1')])
      t.same(taken.filter((v) => v !== null), [{ user: { id: 'u1' } }], 'exactly one taker gets it')
      t.equal(await b.take('k1'), null, 'gone once taken')
      t.equal(await b.take('never'), null, 'unknown key')
      await a.stash('short', 1, 1)
      await new Promise((resolve) => setTimeout(resolve, 20))
      t.equal(await b.take('short'), null, 'expired')
    })

    t.test('stashedKeys lists what is still stashed under a prefix (matched literally), at most limit', async (t) => {
      const [a, b] = await make(t, 5)
      await a.stash('node:x:1', 1, 10_000)
      await b.stash('node:y*:2', 2, 10_000)
      await a.stash('nodes', 3, 10_000)
      await a.stash('node:gone:3', 4, 1)
      await new Promise((resolve) => setTimeout(resolve, 20))
      t.same((await b.stashedKeys!('node:', 100)).sort(), ['node:x:1', 'node:y*:2'], 'every node sees the live keys of the prefix')
      t.same(await a.stashedKeys!('node:y*', 100), ['node:y*:2'], 'glob characters in the prefix are literal')
      t.equal((await a.stashedKeys!('node:', 1)).length, 1, 'bounded by limit')
      await b.take('node:x:1')
      t.same(await a.stashedKeys!('node:', 100), ['node:y*:2'], 'a taken key is gone')
    })

    t.test('lock: one holder per key across nodes; unlock needs the token; a lease ends by itself', async (t) => {
      const [a, b] = await make(t, 5)
      const lock = async (bus: Bus, key: string, ttl: number): Promise<string | null> => await bus.lock!(key, ttl)
      const both = await Promise.all([lock(a, 'r1', 10_000), lock(b, 'r1', 10_000)])
      const winners = both.filter((token) => token !== null)
      t.equal(winners.length, 1, 'exactly one node holds the key')
      t.type(await lock(a, 'r2', 10_000), 'string', 'another key is free')
      await b.unlock!('r1', 'not-the-token')
      t.equal(await lock(b, 'r1', 10_000), null, 'a wrong token releases nothing')
      await a.unlock!('r1', winners[0]!)
      t.type(await lock(b, 'r1', 10_000), 'string', 'released: another node takes it')
      const short = await lock(a, 'short', 1)
      t.type(short, 'string')
      await new Promise((resolve) => setTimeout(resolve, 20))
      const next = await lock(b, 'short', 10_000)
      t.type(next, 'string', 'the lease ran out: another node takes it')
      await a.unlock!('short', short!)
      t.equal(await lock(a, 'short', 10_000), null, "the first holder's late unlock leaves the new holder's lease alone")
    })

    t.test('close is idempotent and a closed bus is unhealthy', async (t) => {
      const [a] = await make(t, 5)
      t.equal(a.healthy(), true)
      await a.close()
      await a.close()
      t.equal(a.healthy(), false)
    })
  })
}

