import t from 'tap'
import { fieldSelection, parseFields, type FieldSelection } from '../../src/access/field-selection.js'
import { createProjector } from '../../src/access/projection.js'
import { fanOutChange } from '../../src/hub/fanout.js'
import type { ChangeEvent } from '../../src/hub/history.js'
import type { Subscription } from '../../src/connection/connection.js'
import { SubscriptionIndex } from '../../src/hub/subscription-index.js'
import type { RecordData } from '../../src/types.js'
import { parseFrames, recordingConnection, subscription } from './doubles.js'

const TIMESTAMP = '2026-01-01T00:00:00.000Z'

function change (type: ChangeEvent['type'], before: RecordData | null, after: RecordData | null): ChangeEvent {
  return { resource: 'posts', type, id: (after?.id ?? before?.id) as string, before, after, seq: 1, timestamp: TIMESTAMP }
}

/** A selection that counts how often it copies a record. */
function counting (paths: string[]): { fields: FieldSelection, calls: () => number } {
  const inner = fieldSelection(paths)
  let calls = 0
  return { fields: { ...inner, select: (record) => { calls++; return inner.select(record) } }, calls: () => calls }
}

function withFields (s: Subscription, fields: FieldSelection): Subscription {
  return { ...s, fields }
}

t.test('a selection copies only its paths and id, through nested objects and arrays', async (t) => {
  const select = fieldSelection(['title', 'author.name', 'items.sku', 'missing.x']).select
  const record = { id: 'p1', title: 't', body: 'b', author: { name: 'A', email: 'e' }, items: [{ sku: 1, qty: 2 }, { qty: 3 }] }
  t.same(select(record), { id: 'p1', title: 't', author: { name: 'A' }, items: [{ sku: 1 }, {}] })
  t.same(fieldSelection(['b', 'a', 'b']).paths, ['a', 'b', 'id'], 'sorted, deduplicated, id added')
  t.equal(fieldSelection(['b', 'a']).key, fieldSelection(['a', 'b', 'id']).key, 'equal sets, equal keys')
})

t.test('fields input is checked', async (t) => {
  t.same(parseFields(['a', 'b.c']), { paths: ['a', 'b.c'] })
  t.match(parseFields('a'), { error: /list/ })
  t.match(parseFields(['a..b']), { error: /not allowed/ })
  t.match(parseFields(['constructor']), { error: /not allowed/ })
  t.match(parseFields(['$where']), { error: /not allowed/ })
  t.match(parseFields(Array.from({ length: 65 }, (_, i) => `f${i}`)), { error: /more than 64/ })
})

t.test('fan-out: encoded once per distinct field set; a connection gets the union of its subscriptions\' sets', async (t) => {
  const narrow = Array.from({ length: 4 }, (_, i) => recordingConnection(`n${i}`))
  const both = recordingConnection('both')
  const whole = recordingConnection('whole')
  const titles = counting(['title'])
  const authors = counting(['author'])
  const index = new SubscriptionIndex()
  for (const { connection } of narrow) index.add(withFields(subscription(connection), titles.fields))
  index.add(withFields(subscription(both.connection), titles.fields))
  index.add(withFields(subscription(both.connection), authors.fields))
  index.add(subscription(whole.connection))
  const project = createProjector(['secret'])
  fanOutChange(change('insert', null, { id: 'p1', title: 't', author: 'a', body: 'b', secret: 's' }), index, project, { candidates: 0, matches: 0, deliveries: 0, encodings: 0 })

  t.equal(titles.calls(), 1, 'one copy for the four title-only recipients')
  t.ok(narrow.every(({ frames }) => frames.length === 1 && frames[0] === narrow[0]?.frames[0]))
  t.same(parseFrames(narrow[0]!.frames)[0]?.data, { id: 'p1', title: 't' })
  t.same(parseFrames(both.frames).map((f) => f.data), [{ id: 'p1', title: 't', author: 'a' }], 'once, with both sets')
  t.same(parseFrames(whole.frames)[0]?.data, { id: 'p1', title: 't', author: 'a', body: 'b' }, 'protected fields never')
})

t.test('fan-out: an update that changes no selected field skips the subscription unless it enters or leaves', async (t) => {
  const c = recordingConnection('c')
  const index = new SubscriptionIndex()
  index.add(withFields(subscription(c.connection, { filter: { status: 'open' } }), fieldSelection(['title'])))
  const project = createProjector([])
  const stats = { candidates: 0, matches: 0, deliveries: 0, encodings: 0 }
  fanOutChange(change('update', { id: 'p1', status: 'open', title: 't', body: 'a' }, { id: 'p1', status: 'open', title: 't', body: 'b' }), index, project, stats)
  t.equal(c.frames.length, 0, 'body is not selected')
  fanOutChange(change('update', { id: 'p1', status: 'open', title: 't' }, { id: 'p1', status: 'open', title: 'u' }), index, project, stats)
  fanOutChange(change('update', { id: 'p1', status: 'open', title: 'u' }, { id: 'p1', status: 'done', title: 'u' }), index, project, stats)
  fanOutChange(change('update', { id: 'p1', status: 'done', title: 'u' }, { id: 'p1', status: 'open', title: 'u' }), index, project, stats)
  t.same(parseFrames(c.frames).map((f) => [(f.data as RecordData).title, f.left ?? false]), [['u', false], ['u', true], ['u', false]])
})
