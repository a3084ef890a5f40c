import t, { type Test } from 'tap'
import { ErrorCodes, ProtocolError } from '../../src/errors.js'
import { attributeTree, checkWriteData, mergeUpdate, storedView } from '../../src/records/write-shape.js'
import type { RecordData } from '../../src/types.js'
import { resourceWithAttributes } from './doubles.js'

const ATTRIBUTES = {
  title: 'string|required',
  views: 'number',
  meta: 'json', // open: any safe keys below
  profile: { name: 'string', bio: 'string' },
  address: { type: 'object', props: { city: 'string' } },
  note: { type: 'string', optional: true },
  $$type: 'object',
  embedding: { type: 'array', __plugin__: 'vector' }
}
const tree = attributeTree(resourceWithAttributes(ATTRIBUTES))

/** The field (JSON pointer) a refused write names. */
function refusedField (t: Test, data: RecordData, allowId = false): string | undefined {
  try {
    checkWriteData(tree, data, { allowId })
  } catch (error) {
    t.type(error, ProtocolError)
    t.equal((error as ProtocolError).code, ErrorCodes.INVALID_REQUEST)
    return ((error as ProtocolError).details as { field: string }).field
  }
  t.fail(`accepted ${JSON.stringify(data)}`)
  return undefined
}

t.test('checkWriteData keeps declared attributes and returns a fresh copy', async (t) => {
  const data = { title: 'a', views: 1, profile: { name: 'ann' }, address: { city: 'x' }, note: { free: 'form' }, meta: { any: { deep: 1 } } }
  const out = checkWriteData(tree, data, { allowId: false })
  t.same(out, data)
  t.not(out, data)
  t.not(out.profile, data.profile, 'nested objects are copied too')
})

t.test('checkWriteData refuses undeclared fields, naming them', async (t) => {
  t.equal(refusedField(t, { title: 'a', extra: 1 }), '/data/extra')
  t.equal(refusedField(t, { profile: { age: 3 } }), '/data/profile/age', 'inside a declared nested object')
  t.equal(refusedField(t, { address: { zip: '1' } }), '/data/address/zip', 'inside a long-form object with props')
  t.equal(refusedField(t, { a: 'x' }), '/data/a', 's3db short storage keys are not attributes')
  t.equal(refusedField(t, { _etag: 'x' }), '/data/_etag')
  t.equal(refusedField(t, { embedding: [1] }), '/data/embedding', 'an s3db plugin\'s attribute is not the client\'s to write')
  t.equal(refusedField(t, { embedding: { type: 'array' } }), '/data/embedding', 'nor is its definition read as a nested object')
  t.equal(refusedField(t, { $$type: 'x' }), '/data/$$type')
})

t.test('checkWriteData refuses keys s3db would read as something else, even below an open attribute', async (t) => {
  t.equal(refusedField(t, { 'profile.name': 'x' }), '/data/profile.name')
  t.equal(refusedField(t, { meta: { 'a.b': 1 } }), '/data/meta/a.b')
  t.equal(refusedField(t, { meta: { $set: 1 } }), '/data/meta/$set')
  t.equal(refusedField(t, JSON.parse('{"__proto__":{"title":"x"}}') as RecordData), '/data/__proto__')
  t.equal(refusedField(t, { meta: JSON.parse('{"__proto__":{"x":1}}') as RecordData }), '/data/meta/__proto__')
  t.equal(refusedField(t, { meta: { constructor: 1 } }), '/data/meta/constructor')
  t.equal(refusedField(t, { meta: { '': 1 } }), '/data/meta/')
  t.equal(refusedField(t, { meta: { '\uD800': 1 } }), '/data/meta/\uD800')
})

t.test('checkWriteData refuses strings UTF-8 cannot carry, wherever they are', async (t) => {
  t.equal(refusedField(t, { title: 'bad \uDC00' }), '/data/title')
  t.equal(refusedField(t, { meta: { list: ['ok', 'bad \uD800'] } }), '/data/meta/list')
  t.equal(refusedField(t, { meta: { list: [{ ['\uD800']: 1 }] } }), '/data/meta/list', 'a key inside an array element')
  t.same(checkWriteData(tree, { title: 'emoji \uD83D\uDE00' }, { allowId: false }), { title: 'emoji \uD83D\uDE00' }, 'a well-formed pair passes')
})

t.test('a declared nested object must arrive as an object (or null)', async (t) => {
  t.equal(refusedField(t, { profile: '{"name":"x"}' }), '/data/profile')
  t.equal(refusedField(t, { profile: ['x'] }), '/data/profile')
  t.same(checkWriteData(tree, { profile: null }, { allowId: false }), { profile: null })
})

t.test('id is written only where the caller allows it', async (t) => {
  t.equal(refusedField(t, { id: 'x', title: 'a' }), '/data/id')
  t.same(checkWriteData(tree, { title: 'a', id: 'x' }, { allowId: true }), { id: 'x', title: 'a' })
})

t.test('attributeTree: read from attributes or config.attributes, cached per attributes object', async (t) => {
  const attributes = { title: 'string' }
  const fromConfig = attributeTree(resourceWithAttributes(attributes, 'config'))
  t.same(checkWriteData(fromConfig, { title: 'x' }, { allowId: false }), { title: 'x' })
  t.equal(attributeTree(resourceWithAttributes(attributes)), fromConfig, 'the same attributes object, the same tree')
  const replaced = attributeTree(resourceWithAttributes({ title: 'string', body: 'string' }))
  t.same(checkWriteData(replaced, { body: 'x' }, { allowId: false }), { body: 'x' }, 'a new schema object is read again')
  const none = attributeTree(resourceWithAttributes(undefined))
  t.throws(() => checkWriteData(none, { title: 'x' }, { allowId: false }), ProtocolError, 'no declared attributes: nothing is writable')
})

t.test('mergeUpdate: objects merge one level deep; everything else is replaced', async (t) => {
  const existing = { id: '1', title: 'a', profile: { name: 'ann', bio: 'x', links: { web: 'w' } }, tags: ['a', 'b'], flat: 'text' }
  const before = structuredClone(existing)
  const data = { profile: { bio: 'y', links: { mail: 'm' } }, tags: ['c'], flat: { now: 'object' } }
  const merged = mergeUpdate(existing, data)
  t.same(merged, {
    id: '1',
    title: 'a',
    profile: { name: 'ann', bio: 'y', links: { mail: 'm' } },
    tags: ['c'],
    flat: { now: 'object' }
  }, 'the second level (links) is replaced, not merged')
  t.same(existing, before, 'the stored record is not mutated')
  t.not(merged.tags, data.tags, 'arrays are copied')
})

t.test('storedView: the record as s3db reads it back', async (t) => {
  t.same(storedView({
    title: '  padded  ',
    none: 'null',
    missing: ' undefined ',
    object: '{"a":1}',
    array: ' [1,2] ',
    broken: '{not json',
    count: 3,
    flag: false,
    nested: { inner: ' null ', deeper: { s: ' x ' } },
    list: [' kept ', { a: ' kept ' }]
  }), {
    title: 'padded',
    none: null,
    missing: undefined,
    object: { a: 1 },
    array: [1, 2],
    broken: '{not json',
    count: 3,
    flag: false,
    nested: { inner: null, deeper: { s: 'x' } },
    list: [' kept ', { a: ' kept ' }]
  })
})

t.test('storedView copies arrays, so the view cannot alias the record', async (t) => {
  const record = { list: [{ a: 1 }] }
  const view = storedView(record)
  t.not(view.list, record.list)
  t.not((view.list as unknown[])[0], record.list[0])
})

t.test('sealedAttributes: secret* and password attributes, nested too', async (t) => {
  const { sealedAttributes } = await import('../../src/records/attribute-types.js')
  const resource = resourceWithAttributes({ a: 'json', b: 'secret|required', c: { type: 'secretNumber' }, d: 'password', e: 'string', n: { inner: 'secretAny', deep: { doc: 'json|optional' } } })
  t.same(sealedAttributes(resource), ['b', 'c', 'd', 'n.inner'])
  const arrays = resourceWithAttributes({ codes: 'array|items:secret', keys: { type: 'array', items: 'secretAny' }, rows: { type: 'array', items: { type: 'object', props: { code: 'secret', label: 'string' } } }, tags: 'array|items:string' })
  t.same(sealedAttributes(arrays), ['codes', 'keys', 'rows'], 'arrays of sealed values, or of objects holding one, are sealed whole')
})
