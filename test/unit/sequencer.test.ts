import t, { type Test } from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { Sequencer } from '../../src/cluster/sequencer.js'
import type { ChangeEvent } from '../../src/hub/history.js'

/** Short, so the gap tests finish quickly; no assertion depends on how long anything took. */
const GAP_TIMEOUT = 20

function event (seq: number, resource = 'posts'): ChangeEvent {
  return { resource, type: 'insert', id: `p${seq}`, before: null, after: { id: `p${seq}` }, seq, timestamp: '2026-01-01T00:00:00.000Z' }
}

interface Harness {
  sequencer: Sequencer
  delivered: (resource?: string) => number[]
  gaps: Array<[string, number]>
  /** Resolves with the next reported gap. */
  nextGap: () => Promise<[string, number]>
}

function harness (t: Test): Harness {
  const deliveries: ChangeEvent[] = []
  const gaps: Array<[string, number]> = []
  let waiting: ((gap: [string, number]) => void) | null = null
  const sequencer = new Sequencer(
    (e) => { deliveries.push(e) },
    (resource, missingFrom) => {
      gaps.push([resource, missingFrom])
      waiting?.([resource, missingFrom])
      waiting = null
    },
    GAP_TIMEOUT
  )
  t.teardown(() => { sequencer.close() })
  return {
    sequencer,
    delivered: (resource = 'posts') => deliveries.filter((e) => e.resource === resource).map((e) => e.seq),
    gaps,
    nextGap: async () => await new Promise((resolve) => { waiting = resolve })
  }
}

/**
 * Waits until every timer the sequencer could have armed so far has fired: timers of a longer
 * delay, set later, fire after shorter ones set earlier.
 */
async function pastGapTimeout (): Promise<void> {
  await sleep(GAP_TIMEOUT * 3)
}

t.test('nothing is delivered before the first reset; then buffered events flow in order', async (t) => {
  const { sequencer, delivered } = harness(t)
  t.equal(sequencer.expected('posts'), null)
  sequencer.offer(event(6))
  sequencer.offer(event(5))
  t.same(delivered(), [])
  t.equal(sequencer.firstPending('posts'), 5)
  sequencer.reset('posts', 4)
  t.same(delivered(), [5, 6])
  t.equal(sequencer.expected('posts'), 7)
  t.equal(sequencer.firstPending('posts'), null)
})

t.test('in-order events are delivered at once', async (t) => {
  const { sequencer, delivered } = harness(t)
  sequencer.reset('posts', 0)
  t.equal(sequencer.expected('posts'), 1)
  for (const seq of [1, 2, 3]) sequencer.offer(event(seq))
  t.same(delivered(), [1, 2, 3])
  t.equal(sequencer.expected('posts'), 4)
})

t.test('out-of-order events wait for the hole, then go out in seq order', async (t) => {
  const { sequencer, delivered, gaps } = harness(t)
  sequencer.reset('posts', 0)
  sequencer.offer(event(1))
  sequencer.offer(event(4))
  sequencer.offer(event(3))
  t.same(delivered(), [1])
  t.equal(sequencer.firstPending('posts'), 3)
  t.equal(sequencer.expected('posts'), 2)
  sequencer.offer(event(2))
  t.same(delivered(), [1, 2, 3, 4])
  t.equal(sequencer.firstPending('posts'), null)
  await pastGapTimeout()
  t.same(gaps, [], 'a hole filled in time is never reported')
})

t.test('duplicates (already delivered or already buffered) are delivered once', async (t) => {
  const { sequencer, delivered, gaps } = harness(t)
  sequencer.reset('posts', 0)
  sequencer.offer(event(1))
  sequencer.offer(event(1))
  sequencer.offer(event(3))
  sequencer.offer(event(3))
  sequencer.offer(event(2))
  sequencer.offer(event(2))
  t.same(delivered(), [1, 2, 3])
  t.equal(sequencer.firstPending('posts'), null, 'a late duplicate is dropped, not buffered')
  await pastGapTimeout()
  t.same(gaps, [])
})

t.test('a hole that stays open is reported once with the first missing seq', async (t) => {
  const { sequencer, delivered, gaps, nextGap } = harness(t)
  sequencer.reset('posts', 10)
  sequencer.offer(event(11))
  const gap = nextGap()
  sequencer.offer(event(13))
  sequencer.offer(event(14))
  t.same(await gap, ['posts', 12])
  t.same(delivered(), [11], 'nothing after the hole is delivered')
  await pastGapTimeout()
  t.same(gaps, [['posts', 12]], 'reported once; the coordinator fills it from the log')
  sequencer.offer(event(12))
  t.same(delivered(), [11, 12, 13, 14])
})

t.test('reset past a hole drops older buffered events and delivers the newer ones', async (t) => {
  const { sequencer, delivered, gaps } = harness(t)
  sequencer.reset('posts', 0)
  sequencer.offer(event(3))
  sequencer.offer(event(5))
  sequencer.reset('posts', 3) // the log read says 1..3 were handled another way
  t.same(delivered(), [], '3 is not delivered: the reset says it is done')
  t.equal(sequencer.firstPending('posts'), 5)
  sequencer.offer(event(4))
  t.same(delivered(), [4, 5])
  t.equal(sequencer.expected('posts'), 6)
  await pastGapTimeout()
  t.same(gaps, [])
})

t.test('a hole replaced by a new one is reported at the new position', async (t) => {
  const { sequencer, gaps, nextGap } = harness(t)
  sequencer.reset('posts', 0)
  sequencer.offer(event(2)) // hole at 1
  sequencer.offer(event(4))
  sequencer.offer(event(1)) // fills it: 1, 2 go out, now the hole is at 3
  t.same(await nextGap(), ['posts', 3])
  t.same(gaps, [['posts', 3]], 'the filled hole at 1 is never reported')
})

t.test('resources are sequenced independently', async (t) => {
  const { sequencer, delivered } = harness(t)
  sequencer.reset('posts', 0)
  sequencer.reset('users', 7)
  sequencer.offer(event(2, 'posts'))
  sequencer.offer(event(8, 'users'))
  t.same(delivered('users'), [8])
  t.same(delivered('posts'), [])
  t.equal(sequencer.expected('posts'), 1)
  t.equal(sequencer.expected('users'), 9)
  t.equal(sequencer.firstPending('users'), null)
  t.equal(sequencer.firstPending('nothing'), null)
})

t.test('close forgets every stream and cancels pending gap reports', async (t) => {
  const { sequencer, gaps } = harness(t)
  sequencer.reset('posts', 0)
  sequencer.offer(event(2))
  sequencer.close()
  t.equal(sequencer.expected('posts'), null)
  t.equal(sequencer.firstPending('posts'), null)
  await pastGapTimeout()
  t.same(gaps, [])
})
