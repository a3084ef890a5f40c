import t from 'tap'
import { combineFilters, compileFilter, matchesFilter, type CompiledFilter } from '../../src/access/filter.js'
import { FilterInterner, internKey, type FilterPair } from '../../src/access/filter-interning.js'
import type { Filter } from '../../src/types.js'

/** What the subscribe handler builds: client filter AND the guards' forced filter. */
function pair (clientFilter: Filter, forced: Filter | null = null, impossible = false): FilterPair {
  const filter = combineFilters(clientFilter, forced)
  return { filter: impossible ? { ...filter, impossible: true } : filter, clientFilter }
}

function frozenThrough (compiled: CompiledFilter): boolean {
  const filterFrozen = Object.isFrozen(compiled.filter) && Object.values(compiled.filter).every((c) =>
    c === null || typeof c !== 'object' || (Object.isFrozen(c) && Object.values(c).every((v) => !Array.isArray(v) || Object.isFrozen(v))))
  // The `conditions` and `segments` arrays are left unfrozen on purpose (src/access/filter-interning.ts).
  const conditionsFrozen = compiled.conditions.every((c) => Object.isFrozen(c) && Object.isFrozen(c.test))
  return Object.isFrozen(compiled) && filterFrozen && conditionsFrozen && (compiled.forced === undefined || frozenThrough(compiled.forced))
}

t.test('the same filter, guards and flags give one shared, frozen compiled filter', async (t) => {
  const interner = new FilterInterner()
  const first = interner.acquire(pair({ channel: 'ch-1', n: { $gte: 1, $in: [3, 1, 2] } }, { tenant: 't1' }))
  const second = interner.acquire(pair({ n: { $gte: 1, $in: [3, 1, 2] }, channel: 'ch-1' }, { tenant: 't1' }))
  t.equal(second.filter, first.filter, 'one compiled filter (paths written in another order)')
  t.equal(second.clientFilter, first.clientFilter, 'one client filter')
  t.equal(interner.size, 1)
  t.ok(frozenThrough(first.filter), 'the compiled filter, each condition and test, the filter and the forced part are frozen')
  t.ok(Object.isFrozen(first.clientFilter))
  t.ok(matchesFilter({ channel: 'ch-1', n: 2, tenant: 't1' }, first.filter), 'it still matches what it should')
  t.notOk(matchesFilter({ channel: 'ch-1', n: 2, tenant: 't2' }, first.filter))
})

t.test('the shared filter is the interner\'s own copy: the caller\'s objects stay theirs', async (t) => {
  const interner = new FilterInterner()
  const mine = pair({ tags: { $in: ['a', 'b'] } })
  const shared = interner.acquire(mine)
  t.not(shared.filter, mine.filter)
  t.not(shared.clientFilter, mine.clientFilter);
  // A guard or the app mutating what it was handed cannot reach the shared copy.
  (mine.clientFilter.tags as { $in: string[] }).$in.push('secret')
  mine.clientFilter.extra = 1
  t.same(shared.clientFilter, { tags: { $in: ['a', 'b'] } })
  t.notOk(matchesFilter({ tags: 'secret' }, shared.filter))
  t.ok(Object.isFrozen(mine.clientFilter) === false, 'the caller\'s filter is not frozen')
})

t.test('different guard-derived filters never share, and each matches only its own records', async (t) => {
  const interner = new FilterInterner()
  // Same client filter, guards forcing different tenants (as for two users).
  const ann = interner.acquire(pair({ region: 'eu' }, { tenant: 't1' }))
  const bob = interner.acquire(pair({ region: 'eu' }, { tenant: 't2' }))
  t.not(ann.filter, bob.filter)
  t.equal(interner.size, 2)
  t.ok(matchesFilter({ region: 'eu', tenant: 't1' }, ann.filter))
  t.notOk(matchesFilter({ region: 'eu', tenant: 't1' }, bob.filter), 'ann\'s record is not bob\'s')
  t.ok(matchesFilter({ region: 'eu', tenant: 't2' }, bob.filter))
  t.notOk(matchesFilter({ region: 'eu', tenant: 't2' }, ann.filter), 'bob\'s record is not ann\'s')
})

t.test('every input is part of the key', async (t) => {
  const cases: Array<[string, FilterPair, FilterPair]> = [
    // The same effective filter: once forced, once chosen by the client. The forced part decides
    // what a `left` frame shows (the id only), so they must not share.
    ['forced part', pair({ tenant: 't1' }, { tenant: 't1' }), pair({ tenant: 't1' })],
    ['client filter', pair({}, { tenant: 't1' }), pair({ tenant: 't1' }, { tenant: 't1' })],
    ['impossible flag', pair({ a: 1 }), pair({ a: 1 }, null, true)],
    ['number vs string', pair({ n: 1 }), pair({ n: '1' })],
    ['null vs missing', pair({ n: null }), pair({})],
    ['$in list', pair({ n: { $in: [1, 2] } }), pair({ n: { $in: [1, 3] } })],
    ['a dotted path vs another', pair({ 'a.b': 1 }), pair({ a: 1 })]
  ]
  for (const [what, a, b] of cases) {
    const interner = new FilterInterner()
    t.not(interner.acquire(a).filter, interner.acquire(b).filter, what)
    t.equal(interner.size, 2, what)
    t.not(internKey(a), internKey(b), what)
  }
})

t.test('an entry goes with its last user; releasing what was never shared changes nothing', async (t) => {
  const interner = new FilterInterner()
  const a = interner.acquire(pair({ channel: 'x' }))
  const b = interner.acquire(pair({ channel: 'x' }))
  const other = interner.acquire(pair({ channel: 'y' }))
  t.equal(interner.size, 2)
  interner.release(pair({ channel: 'x' }))
  t.equal(interner.size, 2, 'an equal pair that is not the shared one is not counted')
  interner.release(a)
  t.equal(interner.size, 2, 'one user left')
  interner.release(b)
  t.equal(interner.size, 1, 'the last user took the entry with it')
  interner.release(b)
  t.equal(interner.size, 1, 'a release too many is ignored')
  const again = interner.acquire(pair({ channel: 'x' }))
  t.not(again.filter, a.filter, 'a new entry after the old one went')
  interner.release(again)
  interner.release(other)
  t.equal(interner.size, 0, 'nothing is kept once every subscription went')
})

t.test('bounded: past maxEntries filters are kept unshared, and the table never grows', async (t) => {
  const interner = new FilterInterner(2)
  const kept = [interner.acquire(pair({ n: 1 })), interner.acquire(pair({ n: 2 }))]
  const mine = pair({ n: 3 })
  const over = interner.acquire(mine)
  t.equal(over, mine, 'returned as it came: not shared')
  t.equal(interner.size, 2)
  for (let i = 4; i < 100; i++) interner.acquire(pair({ n: i }))
  t.equal(interner.size, 2, 'never more than maxEntries')
  t.equal(interner.acquire(pair({ n: 1 })).filter, kept[0]!.filter, 'filters already in are still shared')
  interner.release(over)
  t.equal(interner.size, 2)
  for (const p of kept) interner.release(p)
  interner.release(kept[0]!)
  t.equal(interner.size, 0)
  t.not(interner.acquire(pair({ n: 3 })), undefined)
  t.equal(interner.size, 1, 'room again once entries went')
})

t.test('a filter whose values JSON cannot state exactly is not shared', async (t) => {
  const interner = new FilterInterner()
  const odd: FilterPair[] = [
    { filter: compileFilter({ n: Number.NaN }), clientFilter: { n: Number.NaN } },
    { filter: compileFilter({ d: new Date(0) as unknown as string }), clientFilter: {} },
    { filter: compileFilter({ u: { $in: [undefined as unknown as string] } }), clientFilter: {} },
    // eslint-disable-next-line no-sparse-arrays
    { filter: compileFilter({ u: { $in: [, 1] as unknown as number[] } }), clientFilter: {} }
  ]
  for (const p of odd) t.equal(interner.acquire(p), p)
  t.equal(interner.size, 0)
})
