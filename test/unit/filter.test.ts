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

t.test('a client value contradicting the forced one matches nothing; the forced value is kept', async (t) => {
  const combined = combineFilters({ tenant: 'b' }, { tenant: 'a' })
  t.equal(combined.impossible, true)
  t.same(combined.filter, { tenant: 'a' }, 'never widened or replaced by the client')
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

t.test('normalizeFilter refuses what is not an equality filter', async (t) => {
  const refused = (input: unknown, why: string): void => { t.ok('error' in normalizeFilter(input), why) }
  refused([], 'an array')
  refused('status=open', 'a string')
  refused({ tags: ['a'] }, 'an array value')
  refused({ title: { $gt: '' } }, 'a nested operator')
  refused({ $or: [] }, 'a top-level operator')
  refused({ 'title.$gt': '' }, 'an operator in a dotted key')
  refused({ '': 1 }, 'an empty key')
  refused(JSON.parse('{"__proto__":{"admin":true}}'), 'a __proto__ key from JSON')
  refused({ a: { constructor: 1 } }, 'a nested constructor key')
  refused({ prototype: 1 }, 'a prototype key')
  refused({ when: new Date() }, 'an object that is not plain')
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

t.test('normalizeFilter names the problem', async (t) => {
  t.same(normalizeFilter({ title: { $gt: '' } }), { error: 'filter operator "$gt" at "title" is not supported' })
  t.same(normalizeFilter({ a: { b: [1] } }), { error: 'filter value at "a.b" must be a string, number, boolean or null' })
})

t.test('the normalized filter is a plain object the caller can spread and read', async (t) => {
  const result = normalizeFilter({ a: 1 })
  t.ok('filter' in result)
  if ('filter' in result) t.equal(Object.getPrototypeOf(result.filter), Object.prototype)
})
