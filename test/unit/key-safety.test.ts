import t from 'tap'
import { ErrorCodes, ProtocolError } from '../../src/errors.js'
import { keySegmentProblem, MAX_KEY_SEGMENT_BYTES, requireKeySegment, requirePartitionValue } from '../../src/records/key-safety.js'

t.test('ordinary ids are safe key segments', async (t) => {
  for (const id of ['abc', 'user-1_2', 'a.b', 'ünïcødé', '😀', 'x'.repeat(MAX_KEY_SEGMENT_BYTES), 'meta.json', 'a.meta.jsonx']) {
    t.equal(keySegmentProblem(id), null, JSON.stringify(id))
  }
})

t.test('values that would name another object or file are refused', async (t) => {
  const refused: Array<[string, string]> = [
    ['', 'empty'],
    ['a/b', 'a slash'],
    ['a\\b', 'a backslash'],
    ['..', 'parent directory'],
    ['a..b', 'two dots anywhere'],
    ['a\u0000b', 'NUL'],
    ['a\nb', 'a newline'],
    ['a\u007fb', 'DEL'],
    ['a\u0085b', 'a C1 control'],
    ['x.meta.json', 'the file backend\'s metadata suffix'],
    ['x.META.JSON', 'the suffix in any case'],
    ['a\uD800', 'a lone surrogate']
  ]
  for (const [value, why] of refused) t.type(keySegmentProblem(value), 'string', why)
})

t.test('the length bound is in UTF-8 bytes, not characters', async (t) => {
  t.type(keySegmentProblem('x'.repeat(MAX_KEY_SEGMENT_BYTES + 1)), 'string')
  const euros = '€'.repeat(Math.ceil((MAX_KEY_SEGMENT_BYTES + 1) / 3)) // 3 bytes each
  t.ok(euros.length <= MAX_KEY_SEGMENT_BYTES, 'short enough in characters')
  t.type(keySegmentProblem(euros), 'string', 'too long in bytes')
})

t.test('requireKeySegment returns a safe value and refuses others with INVALID_REQUEST naming the field', async (t) => {
  t.equal(requireKeySegment('abc', '/id'), 'abc')
  for (const value of [42, null, undefined, { id: 'x' }, '../etc/passwd']) {
    try {
      requireKeySegment(value, '/id')
      t.fail(`accepted ${String(value)}`)
    } catch (error) {
      t.type(error, ProtocolError)
      t.equal((error as ProtocolError).code, ErrorCodes.INVALID_REQUEST)
      t.same((error as ProtocolError).details, { field: '/id' })
      t.match((error as ProtocolError).message, /^\/id /)
    }
  }
})

t.test('requirePartitionValue checks the value as s3db will stringify it; absent is fine', async (t) => {
  t.doesNotThrow(() => { requirePartitionValue(undefined, '/partitionValues/region') })
  t.doesNotThrow(() => { requirePartitionValue(null, '/partitionValues/region') })
  t.doesNotThrow(() => { requirePartitionValue(2026, '/partitionValues/year') })
  t.doesNotThrow(() => { requirePartitionValue('eu', '/partitionValues/region') })
  t.throws(() => { requirePartitionValue('eu/../us', '/partitionValues/region') }, ProtocolError)
  t.throws(() => { requirePartitionValue('', '/partitionValues/region') }, ProtocolError)
  t.throws(() => { requirePartitionValue(['a/b'], '/partitionValues/region') }, ProtocolError, 'an array stringifies to a/b')
})
