import t from 'tap'
import { andFilters, combineFilters, compileFilter, matchesFilter, normalizeFilter } from '../../src/access/filter.js'
import type { Filter } from '../../src/types.js'

/** Normalizes like a client filter, then compiles: what every path matches with. */
function compiled (input: Record<string, unknown>): ReturnType<typeof compileFilter> {
  const normalized = normalizeFilter(input)
  if ('error' in normalized) throw new Error(normalized.error)
  return compileFilter(normalized.filter)
}

function matching (input: Record<string, unknown>, records: unknown[]): unknown[] {
  const filter = compiled(input)
  return records.filter((record) => matchesFilter(record, filter))
}

const n = (v: unknown): Record<string, unknown> => ({ v })
const missing = {}

t.test('$eq and the plain form are strict; a missing field is not null', async (t) => {
  const records = [n(1), n('1'), n(null), missing, n([1]), n({ a: 1 })]
  t.same(matching({ v: { $eq: 1 } }, records), [n(1)])
  t.same(matching({ v: 1 }, records), [n(1)])
  t.same(matching({ v: null }, records), [n(null)])
})

t.test('$ne and $nin are the negations of $eq and $in: a missing field matches them', async (t) => {
  const records = [n(1), n('1'), n(null), missing]
  t.same(matching({ v: { $ne: 1 } }, records), [n('1'), n(null), missing])
  t.same(matching({ v: { $ne: null } }, records), [n(1), n('1'), missing], '$ne: null keeps records without the field')
  t.same(matching({ v: { $ne: null, $exists: true } }, records), [n(1), n('1')], 'a non-null value: $exists too')
  t.same(matching({ v: { $nin: [1, null] } }, records), [n('1'), missing])
})

t.test('$in is strict membership of the stored value (no array-contains)', async (t) => {
  const records = [n('a'), n('b'), n('c'), n(['a']), missing, n(null)]
  t.same(matching({ v: { $in: ['a', 'b'] } }, records), [n('a'), n('b')])
  t.same(matching({ v: { $in: [null] } }, records), [n(null)])
  t.same(matching({ v: { $in: [] } }, records), [], 'an empty $in matches nothing')
})

t.test('ranges compare numbers with numbers and strings with strings, never across types', async (t) => {
  const records = [n(5), n(10), n(15), n('10'), n('5'), n(null), n(true), missing]
  t.same(matching({ v: { $gt: 5 } }, records), [n(10), n(15)], 'the string "10" is not a number')
  t.same(matching({ v: { $gte: 5, $lt: 15 } }, records), [n(5), n(10)])
  t.same(matching({ v: { $lte: 10 } }, records), [n(5), n(10)])
  t.same(matching({ v: { $gt: '1' } }, records), [n('10'), n('5')], 'a string bound: only strings, in text order')
  t.same(matching({ v: { $lt: '6' } }, records), [n('10'), n('5')], 'text order: "10" < "6"')
})

t.test('string ranges use code-unit order: ISO 8601 dates in one zone order as dates', async (t) => {
  const at = (iso: string): Record<string, unknown> => ({ createdAt: iso })
  const records = [at('2024-01-31T23:59:59.999Z'), at('2024-02-01T00:00:00.000Z'), at('2024-03-01T00:00:00.000Z')]
  t.same(matching({ createdAt: { $gte: '2024-02-01T00:00:00.000Z', $lt: '2024-03-01' } }, records), [at('2024-02-01T00:00:00.000Z')])
  t.same(matching({ v: { $gt: 'B' } }, [n('a'), n('C'), n('A')]), [n('a'), n('C')], 'case matters: lowercase sorts after uppercase')
})

t.test('$exists: any stored value (null included) vs a missing path', async (t) => {
  const records = [n(0), n(null), n(''), missing, { w: { v: 1 } }]
  t.same(matching({ v: { $exists: true } }, records), [n(0), n(null), n('')])
  t.same(matching({ v: { $exists: false } }, records), [missing, { w: { v: 1 } }])
  t.same(matching({ 'w.v': { $exists: true } }, records), [{ w: { v: 1 } }], 'on a dot path')
})

t.test('$prefix matches strings only', async (t) => {
  t.same(matching({ v: { $prefix: 'ab' } }, [n('abc'), n('ab'), n('a'), n('xabc'), n(12), missing]), [n('abc'), n('ab')])
  t.same(matching({ v: { $prefix: '' } }, [n('x'), n(1), missing]), [n('x')], 'the empty prefix: any string')
})

t.test('conditions on several fields and dot paths are ANDed', async (t) => {
  const records = [
    { region: 'eu', total: 150, owner: { tier: 'gold' } },
    { region: 'eu', total: 50, owner: { tier: 'gold' } },
    { region: 'us', total: 150, owner: { tier: 'gold' } },
    { region: 'eu', total: 150, owner: { tier: 'free' } }
  ]
  t.same(matching({ region: 'eu', total: { $gt: 100 }, owner: { tier: { $in: ['gold', 'platinum'] } } }, records), [records[0]])
})

t.test('the AND of two filters is exact, and an empty one is flagged impossible', async (t) => {
  const and = (a: Filter, b: Filter): Filter => andFilters(a, b)
  t.same(and({ n: { $gte: 1 } }, { n: { $gte: 5, $lt: 9 } }), { n: { $gte: 5, $lt: 9 } }, 'the tighter bound')
  t.same(and({ n: { $lt: 9 } }, { n: { $lt: 3 } }), { n: { $lt: 3 } })
  t.same(and({ n: { $in: ['a', 'b', 'c'] } }, { n: { $in: ['b', 'c', 'd'] } }), { n: { $in: ['b', 'c'] } }, '$in lists intersect')
  t.same(and({ n: { $in: ['a', 'b'] } }, { n: 'b' }), { n: 'b' })
  t.same(and({ n: { $ne: 'a' } }, { n: { $ne: 'b' } }), { n: { $nin: ['a', 'b'] } }, 'exclusions unite')
  t.same(and({ n: { $prefix: 'ab' } }, { n: { $prefix: 'abc' } }), { n: { $prefix: 'abc' } })
  t.same(and({ n: { $prefix: 'ab' } }, { n: { $prefix: 'x' } }), { n: { $in: [] } }, 'no string has both prefixes')
  t.same(and({ n: { $gt: 1 } }, { n: { $gt: 'a' } }), { n: { $in: [] } }, 'a number bound and a string bound')
  t.same(and({ n: { $exists: true } }, { n: { $exists: false } }), { n: { $in: [] } })
  t.same(and({ a: 1 }, { b: 2 }), { a: 1, b: 2 }, 'other paths are simply added')
})

t.test('impossible: told exactly when no value can satisfy a path', async (t) => {
  const impossible = (input: Record<string, unknown>): boolean => compiled(input).impossible
  t.equal(impossible({ n: { $gt: 5, $lt: 3 } }), true)
  t.equal(impossible({ n: { $gt: 5, $lt: 6 } }), false)
  t.equal(impossible({ n: { $gte: 5, $lte: 5 } }), false, 'exactly 5')
  t.equal(impossible({ n: { $gte: 5, $lte: 5, $ne: 5 } }), true, '5 was the only value')
  t.equal(impossible({ n: { $gt: 5, $lte: 5 } }), true)
  t.equal(impossible({ n: { $in: [1, 2], $gt: 2 } }), true, 'no listed value is in the range')
  t.equal(impossible({ n: { $in: [1, 2, 3], $gt: 2 } }), false)
  t.equal(impossible({ n: { $exists: false, $gt: 1 } }), true, 'a missing field is in no range')
  t.equal(impossible({ n: { $exists: false, $ne: 1 } }), false)
  t.equal(impossible({ n: { $prefix: 'ab', $lt: 'aa' } }), true, 'every "ab…" string is above "aa"')
  t.equal(impossible({ n: { $prefix: 'ab', $gt: 'abz' } }), false, '"abzz"')
  t.equal(impossible({ n: { $prefix: 'ab', $gt: 'ac' } }), true)
  t.equal(impossible({ n: { $gte: 'a', $lte: 'a', $nin: ['a'] } }), true)
  t.equal(impossible({ n: { $gte: 'a', $lte: 'a\u0000', $nin: ['a'] } }), false, '"a\\u0000" is left')
  t.equal(impossible({ n: { $prefix: 'x', $gt: 1 } }), true, 'a string prefix and a number range')
  t.equal(impossible({ n: { $ne: 1, $nin: [2, 3] } }), false, 'exclusions alone leave infinitely many values')
})

t.test('a client may narrow a forced range but never widen it', async (t) => {
  const combined = combineFilters({ total: { $gte: 0 } }, { total: { $gte: 100 } })
  t.same(combined.filter, { total: { $gte: 100 } }, 'the client asked for more; the forced bound holds')
  t.notOk(matchesFilter({ total: 50 }, combined))
  t.ok(matchesFilter({ total: 100 }, combined))
  const narrower = combineFilters({ total: { $lt: 200 } }, { total: { $gte: 100 } })
  t.same(narrower.filter, { total: { $gte: 100, $lt: 200 } })
  t.equal(combineFilters({ total: { $lt: 50 } }, { total: { $gte: 100 } }).impossible, true)
})
