import t from 'tap'
import { combineFilters, compileFilter, matchesFilter, normalizeFilter } from '../../src/access/filter.js'

t.test('compileFilter sorts conditions by path and splits each path once', async (t) => {
  const compiled = compileFilter({ status: 'open', 'author.id': 'u1', archived: false })
  t.same(compiled.conditions.map((c) => [c.path, c.segments, c.value]), [
    ['archived', ['archived'], false],
    ['author.id', ['author', 'id'], 'u1'],
    ['status', ['status'], 'open']
  ])
  t.equal(compiled.impossible, false)
  t.equal(compiled.forced, undefined)
})

t.test('matchesFilter: every condition must equal the value at its path, strictly', async (t) => {
  const filter = compileFilter({ 'author.id': 'u1', n: 1 })
  t.ok(matchesFilter({ author: { id: 'u1' }, n: 1, other: 'x' }, filter))
  t.notOk(matchesFilter({ author: { id: 'u1' }, n: '1' }, filter), '"1" is not 1')
  t.notOk(matchesFilter({ author: { id: 'u2' }, n: 1 }, filter))
  t.notOk(matchesFilter({ n: 1 }, filter), 'a missing path does not match')
  t.notOk(matchesFilter({ 'author.id': 'u1', n: 1 }, filter), 'a literal dotted key is not the nested path')
  t.notOk(matchesFilter(null, filter))
  t.ok(matchesFilter(null, compileFilter({})), 'an empty filter matches anything')
  t.notOk(matchesFilter({}, compileFilter({ deletedAt: null })), 'null matches only a stored null')
  t.ok(matchesFilter({ deletedAt: null }, compileFilter({ deletedAt: null })))
})

t.test('matchesFilter reads own fields only, never the prototype chain', async (t) => {
  t.notOk(matchesFilter({}, compileFilter({ 'constructor.name': 'Object' })))
})

t.test('an impossible filter matches nothing, not even a record that meets its conditions', async (t) => {
  t.notOk(matchesFilter({ a: 1 }, compileFilter({ a: 1 }, true)))
})

t.test('combineFilters without a forced filter is the client filter', async (t) => {
  const combined = combineFilters({ status: 'open' }, null)
  t.same(combined.filter, { status: 'open' })
  t.equal(combined.impossible, false)
  t.equal(combined.forced, undefined, 'nothing forced: no forced part to leave')
})

t.test('a client may narrow the forced filter with more fields', async (t) => {
  const combined = combineFilters({ status: 'open' }, { tenant: 'a' })
  t.same(combined.filter, { tenant: 'a', status: 'open' })
  t.equal(combined.impossible, false)
  t.same(combined.forced?.filter, { tenant: 'a' }, 'the forced part is kept on its own')
  t.ok(matchesFilter({ tenant: 'a', status: 'open' }, combined))
  t.notOk(matchesFilter({ tenant: 'b', status: 'open' }, combined))
  t.notOk(matchesFilter({ tenant: 'a', status: 'closed' }, combined))
})

t.test('a client repeating the forced value is not a contradiction', async (t) => {
  const combined = combineFilters({ tenant: 'a' }, { tenant: 'a' })
  t.equal(combined.impossible, false)
  t.ok(matchesFilter({ tenant: 'a' }, combined))
})

t.test('a client value contradicting the forced one matches nothing, and the effective filter says so', async (t) => {
  const combined = combineFilters({ tenant: 'b' }, { tenant: 'a' })
  t.equal(combined.impossible, true)
  t.same(combined.filter, { tenant: { $in: [] } }, 'the exact AND: no tenant is both a and b (never the forced value alone)')
  t.same(combined.forced?.filter, { tenant: 'a' })
  t.notOk(matchesFilter({ tenant: 'a' }, combined))
  t.notOk(matchesFilter({ tenant: 'b' }, combined))
})

t.test('normalizeFilter: absent is empty; nested objects become dot paths', async (t) => {
  t.same(normalizeFilter(undefined), { filter: {} })
  t.same(normalizeFilter(null), { filter: {} })
  t.same(normalizeFilter({ author: { id: 'u1', team: { name: 'red' } }, done: false, n: 2, gone: null }), {
    filter: { 'author.id': 'u1', 'author.team.name': 'red', done: false, n: 2, gone: null }
  })
})

t.test('normalizeFilter refuses what is not a filter', async (t) => {
  const refused = (input: unknown, why: string): void => { t.ok('error' in normalizeFilter(input), why) }
  refused([], 'an array')
  refused('status=open', 'a string')
  refused({ tags: ['a'] }, 'an array value')
  refused({ $or: [] }, 'a top-level operator')
  refused({ 'title.$gt': '' }, 'an operator in a dotted key')
  refused({ title: { $regex: '^a' } }, 'an unknown operator')
  refused({ title: { $gt: '', kind: 'x' } }, 'operators mixed with fields')
  refused({ '': 1 }, 'an empty key')
  refused(JSON.parse('{"__proto__":{"admin":true}}'), 'a __proto__ key from JSON')
  refused({ a: { constructor: 1 } }, 'a nested constructor key')
  refused({ prototype: 1 }, 'a prototype key')
  refused({ when: new Date() }, 'an object that is not plain')
  refused({ n: NaN }, 'NaN (a guard\'s Number(undefined)): it would equal nothing, yet sit in an $in')
  refused({ n: { $in: [1, Infinity] } }, 'Infinity in a list')
})

t.test('normalizeFilter refuses operands of the wrong type, naming the field', async (t) => {
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ n: { $gt: true } }, '"$gt" needs a number or a string'],
    [{ n: { $lte: null } }, '"$lte" needs a number or a string'],
    [{ n: { $lt: [1] } }, '"$lt" needs a number or a string'],
    [{ n: { $eq: { a: 1 } } }, '"$eq" needs a string, number, boolean or null'],
    [{ n: { $ne: [1] } }, '"$ne" needs a string, number, boolean or null'],
    [{ n: { $in: 'a' } }, '"$in" needs a list of strings, numbers, booleans or null'],
    [{ n: { $nin: [{}] } }, '"$nin" needs a list of strings, numbers, booleans or null'],
    [{ n: { $exists: 1 } }, '"$exists" needs true or false'],
    [{ n: { $prefix: 1 } }, '"$prefix" needs a string']
  ]
  for (const [input, problem] of cases) {
    t.same(normalizeFilter(input), { error: `filter operator ${problem} (at "n")`, field: '/filter/n' }, JSON.stringify(input))
  }
  t.same(normalizeFilter({ meta: { rank: { $foo: 1 } } }), { error: 'filter operator "$foo" at "meta.rank" is not supported', field: '/filter/meta.rank' })
})

t.test('$in and $nin hold at most 100 values (the caller may allow more)', async (t) => {
  const values = (n: number): number[] => Array.from({ length: n }, (_, i) => i)
  t.notOk('error' in normalizeFilter({ n: { $in: values(100) } }))
  t.same(normalizeFilter({ n: { $in: values(101) } }), { error: 'filter operator "$in" has more than 100 values (at "n")', field: '/filter/n' })
  t.ok('error' in normalizeFilter({ n: { $nin: values(101) } }))
  t.notOk('error' in normalizeFilter({ n: { $in: values(1000) } }, 32, 1000), 'a guard\'s limit is larger')
})

t.test('normalizeFilter writes operators canonically: equality plain, lists sorted, same-path conditions ANDed', async (t) => {
  const normalized = (input: unknown): unknown => (normalizeFilter(input) as { filter: unknown }).filter
  t.same(normalized({ n: { $eq: 1 } }), { n: 1 }, '$eq alone is the plain form')
  t.same(normalized({ n: { $in: [2] } }), { n: 2 }, 'a one-value $in is equality')
  t.same(normalized({ n: { $nin: [2] } }), { n: { $ne: 2 } })
  t.same(normalized({ n: { $in: ['b', 'a', 'b'] } }), { n: { $in: ['a', 'b'] } })
  t.same(normalized({ n: { $lt: 5, $gte: 1 } }), { n: { $gte: 1, $lt: 5 } }, 'operators in one order')
  t.same(normalized({ meta: { rank: { $gt: 1 } } }), { 'meta.rank': { $gt: 1 } }, 'operators in the nested form')
  t.same(normalized({ 'meta.rank': { $gt: 1 }, meta: { rank: { $gt: 3 } } }), { 'meta.rank': { $gt: 3 } }, 'one path written twice: both hold')
  t.same(normalized({ n: { $in: [] } }), { n: { $in: [] } }, 'an empty $in is allowed (it matches nothing)')
})

t.test('normalizeFilter bounds depth and field count', async (t) => {
  let deep: Record<string, unknown> = { leaf: 1 }
  for (let i = 0; i < 20; i++) deep = { n: deep }
  t.ok('error' in normalizeFilter(deep))
  const fields = (n: number): Record<string, number> => Object.fromEntries(Array.from({ length: n }, (_, i) => [`f${i}`, i]))
  t.notOk('error' in normalizeFilter(fields(32)))
  t.ok('error' in normalizeFilter(fields(33)), 'more than the default 32 fields')
  t.ok('error' in normalizeFilter(fields(3), 2), 'the limit is the caller\'s')
})

t.test('normalizeFilter names the problem and the field', async (t) => {
  t.same(normalizeFilter({ 'title.$gt': '' }), { error: 'filter operator "title.$gt" is not supported here: operators go inside a field\'s object ({field: {$gt: 1}})', field: '/filter' })
  t.same(normalizeFilter({ a: { b: [1] } }), { error: 'filter value at "a.b" must be a string, number, boolean, null or an operator object', field: '/filter/a.b' })
})

t.test('the normalized filter is a plain object the caller can spread and read', async (t) => {
  const result = normalizeFilter({ a: 1 })
  t.ok('filter' in result)
  if ('filter' in result) t.equal(Object.getPrototypeOf(result.filter), Object.prototype)
})
