import t from 'tap'
import { createProjector } from '../../src/access/projection.js'
import type { RecordData } from '../../src/types.js'

/** Freezes every object in `value`, so any attempt to mutate the original throws (ESM is strict). */
function deepFreeze<T> (value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner)
    Object.freeze(value)
  }
  return value
}

t.test('s3db internals never leave the server; nested fields of the same shape do', async (t) => {
  const project = createProjector([])
  t.same(project({ id: '1', title: 'a', _etag: 'e', _v: 2, $before: { id: '1' }, meta: { _note: 'kept', $ref: 'kept' } }), {
    id: '1', title: 'a', meta: { _note: 'kept', $ref: 'kept' }
  })
})

t.test('protected top-level fields are removed', async (t) => {
  const project = createProjector(['password', 'apiKey'])
  t.same(project({ id: '1', name: 'ann', password: 'x', apiKey: 'k' }), { id: '1', name: 'ann' })
})

t.test('a nested protected leaf is removed from a copy; the stored record is not touched', async (t) => {
  const record = deepFreeze({ id: '1', profile: { name: 'ann', ssn: '123', address: { city: 'x', zip: '9' } } })
  const before = structuredClone(record)
  const project = createProjector(['profile.ssn', 'profile.address.zip'])
  const out = project(record)
  t.same(out, { id: '1', profile: { name: 'ann', address: { city: 'x' } } })
  t.same(record, before, 'the original still has every field')
  t.not(out.profile, record.profile, 'the object on the protected path is a copy')
})

t.test('protected paths go through arrays, element by element, without mutating them', async (t) => {
  const record = deepFreeze({
    id: '1',
    items: [{ sku: 'a', cost: 1 }, { sku: 'b', cost: 2 }, 'loose', null, [{ sku: 'c', cost: 3 }]],
    tags: ['x', 'y']
  })
  const project = createProjector(['items.cost', 'tags.hidden'])
  const out = project(record)
  t.same(out, {
    id: '1',
    items: [{ sku: 'a' }, { sku: 'b' }, 'loose', null, [{ sku: 'c' }]],
    tags: ['x', 'y']
  })
  t.same((record.items[0] as RecordData).cost, 1, 'the original element keeps its field')
})

t.test('a path protected whole hides everything under it, in whichever order the paths come', async (t) => {
  const record = { id: '1', profile: { name: 'ann', ssn: '1' } }
  t.same(createProjector(['profile', 'profile.ssn'])(record), { id: '1' })
  t.same(createProjector(['profile.ssn', 'profile'])(record), { id: '1' })
})

t.test('a null or primitive where a protected parent is expected is passed through', async (t) => {
  const project = createProjector(['profile.ssn'])
  t.same(project({ id: '1', profile: null }), { id: '1', profile: null })
  t.same(project({ id: '2', profile: 'n/a' }), { id: '2', profile: 'n/a' })
})

t.test('field names of Object.prototype are ordinary fields', async (t) => {
  const project = createProjector(['constructor.secret', 'toString'])
  const record = JSON.parse('{"id":"1","constructor":{"secret":1,"open":2},"toString":"hidden","valueOf":{"a":1}}') as RecordData
  t.same(project(record), { id: '1', constructor: { open: 2 }, valueOf: { a: 1 } })
  t.notOk(Object.prototype.hasOwnProperty.call(Object, 'secret'), 'building the path tree did not write to the global Object')
})

t.test("s3db's timestamp bookkeeping (metadata, metadata_updatedat) is dropped unless the resource declares it", async (t) => {
  const record = { id: '1', title: 'a', updatedAt: 'T2', metadata: { updatedAt: 'T2' }, metadata_updatedat: 'T1' }
  t.same(createProjector([], new Set(['title', 'updatedAt']))(record), { id: '1', title: 'a', updatedAt: 'T2' })
  t.same(createProjector([], new Set(['title', 'metadata']))(record), { id: '1', title: 'a', updatedAt: 'T2', metadata: { updatedAt: 'T2' } }, 'a declared metadata field is data')
})
