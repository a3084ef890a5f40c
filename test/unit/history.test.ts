import t from 'tap'
import { ResourceHistory, type ChangeEvent } from '../../src/hub/history.js'

function event (seq: number): ChangeEvent {
  return { resource: 'posts', type: 'insert', id: `p${seq}`, before: null, after: { id: `p${seq}` }, seq, timestamp: '2026-01-01T00:00:00.000Z' }
}

function filled (capacity: number, last: number): ResourceHistory {
  const history = new ResourceHistory(capacity)
  for (let seq = 1; seq <= last; seq++) history.push(event(seq))
  return history
}

const seqs = (events: ChangeEvent[] | null): number[] | null => events === null ? null : events.map((e) => e.seq)

t.test('since returns the later events, oldest first', async (t) => {
  const history = filled(10, 4)
  t.same(seqs(history.since(0, 4)), [1, 2, 3, 4])
  t.same(seqs(history.since(2, 4)), [3, 4])
  t.same(seqs(history.since(3, 4)), [4])
})

t.test('a client that is up to date gets nothing new, not a gap', async (t) => {
  t.same(filled(10, 4).since(4, 4), [])
  t.same(new ResourceHistory(10).since(0, 0), [], 'nothing happened yet')
  t.same(new ResourceHistory(0).since(5, 5), [], 'even with history turned off')
})

t.test('the history is bounded: it keeps only the last `capacity` events', async (t) => {
  const history = filled(3, 7)
  t.same(seqs(history.since(4, 7)), [5, 6, 7])
  t.same(seqs(history.since(6, 7)), [7])
  t.equal(history.since(3, 7), null, 'seq 4 was evicted: a gap')
  t.equal(history.since(0, 7), null)
})

t.test('wrapping the ring many times keeps order', async (t) => {
  const history = filled(4, 103)
  t.same(seqs(history.since(99, 103)), [100, 101, 102, 103])
  t.equal(history.since(98, 103), null)
})

t.test('a seq beyond the last one comes from another numbering: a gap', async (t) => {
  const history = filled(10, 3)
  t.equal(history.since(5, 3), null)
  t.equal(new ResourceHistory(10).since(1, 0), null, 'a server that restarted and has seen nothing yet')
})

t.test('without history (capacity 0) any missed event is a gap', async (t) => {
  const history = filled(0, 3)
  t.equal(history.since(2, 3), null)
})

t.test('events older than the history started are a gap even before it is full', async (t) => {
  // A hub that started numbering at 50 (cluster head) has never seen 1..50.
  const history = new ResourceHistory(10)
  for (let seq = 51; seq <= 53; seq++) history.push(event(seq))
  t.same(seqs(history.since(50, 53)), [51, 52, 53])
  t.equal(history.since(49, 53), null)
})
