import t from 'tap'
import { protectedPathReached, protectedPathWritten, valuesAt } from '../../src/access/protected-paths.js'

const PROTECTED = ['password', 'profile.ssn', 'items.cost']

t.test('protectedPathReached: the path itself, anything below it, through array indexes', async (t) => {
  t.equal(protectedPathReached('password', PROTECTED), 'password')
  t.equal(protectedPathReached('profile.ssn', PROTECTED), 'profile.ssn')
  t.equal(protectedPathReached('profile.ssn.last4', PROTECTED), 'profile.ssn')
  t.equal(protectedPathReached('items.0.cost', PROTECTED), 'items.cost', 'an index is not part of the path')
  t.equal(protectedPathReached('items.3.cost.currency', PROTECTED), 'items.cost')
})

t.test('protectedPathReached: siblings, parents and look-alike names are not protected', async (t) => {
  t.equal(protectedPathReached('profile.name', PROTECTED), null)
  t.equal(protectedPathReached('profile', PROTECTED), null)
  t.equal(protectedPathReached('passwordHint', PROTECTED), null, 'a prefix of the name is another field')
  t.equal(protectedPathReached('items.0.sku', PROTECTED), null)
  t.equal(protectedPathReached('password', []), null)
})

t.test('valuesAt collects every value at a path, walking into each array element', async (t) => {
  const record = { items: [{ cost: 1 }, { sku: 'x' }, [{ cost: 2 }], { cost: null }], profile: { ssn: '1' } }
  t.same(valuesAt(record, 'items.cost'), [1, 2, null])
  t.same(valuesAt(record, 'profile.ssn'), ['1'])
  t.same(valuesAt(record, 'profile.missing'), [])
  t.same(valuesAt({ profile: 'flat' }, 'profile.ssn'), [], 'a primitive has no fields')
  t.same(valuesAt({ profile: { ssn: undefined } }, 'profile.ssn'), [], 'undefined is absent')
  t.same(valuesAt({}, 'constructor'), [], 'own fields only')
})

t.test('protectedPathWritten: naming a protected field refuses, even with the stored value', async (t) => {
  t.equal(protectedPathWritten({ password: 'h' }, [], PROTECTED), 'password',
    'same value accepted / other value refused would let a client guess it')
  t.equal(protectedPathWritten({ profile: { ssn: '2' } }, [['profile', 'ssn']], PROTECTED), 'profile.ssn')
  t.equal(protectedPathWritten({ items: [{ sku: 'a', cost: 0 }] }, [], PROTECTED), 'items.cost', 'inside an array element')
})

t.test('protectedPathWritten: replacing a value that could hold a protected path refuses, stored or not', async (t) => {
  t.equal(protectedPathWritten({ profile: 'gone' }, [['profile']], PROTECTED), 'profile.ssn')
  t.equal(protectedPathWritten({ profile: null }, [['profile']], PROTECTED), 'profile.ssn')
  t.equal(protectedPathWritten({ items: [] }, [['items']], PROTECTED), 'items.cost')
  t.equal(protectedPathWritten({ items: [{ sku: 'a' }] }, [['items']], PROTECTED), 'items.cost', 'elements without the protected key')
  t.equal(protectedPathWritten({ deep: { a: { x: 1 } } }, [['deep', 'a']], ['deep.a.b']), 'deep.a.b', 'a nested object s3db does not merge')
  t.equal(protectedPathWritten({ items: { 0: { sku: 'a' } } }, [['items', '0']], PROTECTED), 'items.cost', 'an index-like key')
})

t.test('protectedPathWritten: a write that leaves protected values alone passes', async (t) => {
  t.equal(protectedPathWritten({ profile: { name: 'bob' } }, [['profile', 'name']], PROTECTED), null, 'a sibling inside a merged object')
  t.equal(protectedPathWritten({ title: 'x' }, [['title']], PROTECTED), null)
  t.equal(protectedPathWritten({ title: 'x' }, [], PROTECTED), null, 'an insert without protected fields')
  t.equal(protectedPathWritten({ passwordHint: 'x' }, [['passwordHint']], PROTECTED), null, 'a look-alike name')
})

// Regression: an all-digit segment was dropped as an array index from the filter key but not from
// the protected path, so `protected: ['salary.2024']` (an object keyed by year) did not stop a
// filter on `salary.2024`, which then answered "is the hidden value X?" through its events.
t.test('a protected path with a numeric object key is reached by a filter naming it', async (t) => {
  t.equal(protectedPathReached('salary.2024', ['salary.2024']), 'salary.2024')
  t.equal(protectedPathReached('salary.2024.bonus', ['salary.2024']), 'salary.2024')
})

t.test('a number in a filter key is still tried as an array index', async (t) => {
  t.equal(protectedPathReached('salary.0.2024', ['salary.2024']), 'salary.2024', 'an array of year maps')
  t.equal(protectedPathReached('salary.2023', ['salary.2024']), null, 'another year is not protected')
})
