import t from 'tap'
import { fieldSelection } from '../../src/access/field-selection.js'
import { combineFilters } from '../../src/access/filter.js'
import { createProjector, type Projector } from '../../src/access/projection.js'
import type { Subscription } from '../../src/connection/connection.js'
import { encodeForSubscription, fanOutChange, type FanOutStats } from '../../src/hub/fanout.js'
import type { ChangeEvent } from '../../src/hub/history.js'
import { SubscriptionIndex } from '../../src/hub/subscription-index.js'
import type { RecordData } from '../../src/types.js'
import { diffRecords } from '../../src/util/record-diff.js'
import { parseFrames, recordingConnection, subscription } from './doubles.js'

/* Delta updates (#15 section 3): the diff, and fan-out encoding one delta per view. */

const TIMESTAMP = '2026-01-01T00:00:00.000Z'

function update (before: RecordData, after: RecordData, seq = 1): ChangeEvent {
  return { resource: 'posts', type: 'update', id: String(after.id), before, after, seq, timestamp: TIMESTAMP }
}

function stats (): FanOutStats {
  return { candidates: 0, matches: 0, deliveries: 0, encodings: 0 }
}

function deltaSub (base: Subscription, fields?: string[]): Subscription {
  return { ...base, delta: true, ...(fields === undefined ? {} : { fields: fieldSelection(fields) }) }
}

function indexOf (...subscriptions: Subscription[]): SubscriptionIndex {
  const index = new SubscriptionIndex()
  for (const s of subscriptions) index.add(s)
  return index
}

const project: Projector = createProjector(['secret', 'meta.token'])

t.test('diffRecords: changed and added paths are set, removed ones unset, nested objects walked, arrays whole', async (t) => {
  t.same(diffRecords(
    { id: 'p1', title: 'a', tags: ['x'], meta: { kind: 'note', size: 1, deep: { a: 1 } }, gone: 1, obj: { a: 1 } },
    { id: 'p1', title: 'b', tags: ['x', 'y'], meta: { kind: 'note', size: 2, deep: { a: 1, b: 2 } }, added: { n: 1 }, obj: 'flat' }
  ), {
    set: { title: 'b', tags: ['x', 'y'], 'meta.size': 2, 'meta.deep.b': 2, added: { n: 1 }, obj: 'flat' },
    unset: ['gone']
  })
  t.same(diffRecords({ id: 'p1', meta: { a: 1 } }, { id: 'p1', meta: {} }), { set: {}, unset: ['meta.a'] })
  t.same(diffRecords({ id: 'p1', v: null }, { id: 'p1', v: 0 }), { set: { v: 0 }, unset: [] }, 'null and 0 differ')
  t.same(diffRecords({ id: 'p1', a: 1 }, { id: 'p1', a: 1 }), { set: {}, unset: [] })
})

t.test('diffRecords: a changed key a dot path cannot name gives null (the whole record is sent)', async (t) => {
  t.equal(diffRecords({ id: 'p1', 'a.b': 1 }, { id: 'p1', 'a.b': 2 }), null)
  t.equal(diffRecords({ id: 'p1', m: { 'x.y': 1 } }, { id: 'p1', m: {} }), null, 'removed')
  t.equal(diffRecords({ id: 'p1' }, { id: 'p1', '': 1 }), null, 'empty key')
  t.same(diffRecords({ id: 'p1', 'a.b': 1, t: 1 }, { id: 'p1', 'a.b': 1, t: 2 }), { set: { t: 2 }, unset: [] }, 'an unchanged one is no obstacle')
})

t.test('fan-out: a delta subscription gets {id, changes} of its projected view; a whole one the record', async (t) => {
  const delta = recordingConnection('delta')
  const whole = recordingConnection('whole')
  const index = indexOf(deltaSub(subscription(delta.connection)), subscription(whole.connection))
  const counted = stats()
  const before = { id: 'p1', title: 'a', secret: 's1', meta: { kind: 'x', token: 't1' }, _etag: 'e1' }
  const after = { id: 'p1', title: 'b', secret: 's2', meta: { kind: 'y', token: 't2' }, _etag: 'e2' }
  fanOutChange(update(before, after, 7), index, project, counted)
  const [frame] = parseFrames(delta.frames)
  t.match(frame, { type: 'event', event: 'update', resource: 'posts', id: 'p1', changes: { set: { title: 'b', 'meta.kind': 'y' }, unset: [] }, timestamp: TIMESTAMP, seq: 7 })
  t.same(Object.keys((frame?.changes as { set: object }).set).sort(), ['meta.kind', 'title'], 'no protected path, no internal field')
  t.equal(frame?.data, undefined, 'no whole record')
  t.same(parseFrames(whole.frames)[0]?.data, { id: 'p1', title: 'b', meta: { kind: 'y' } })
  t.equal(counted.encodings, 2)
})

t.test('fan-out: an update that changes only protected fields reaches no subscription, delta or whole', async (t) => {
  const delta = recordingConnection('delta')
  const whole = recordingConnection('whole')
  const index = indexOf(deltaSub(subscription(delta.connection)), subscription(whole.connection))
  fanOutChange(update({ id: 'p1', title: 'a', secret: 's1', meta: { token: 't1' } }, { id: 'p1', title: 'a', secret: 's2', meta: { token: 't2' } }), index, project, stats())
  t.same(delta.frames, [], 'nothing it can see changed')
  t.same(whole.frames, [], 'nor a whole-record one: an event would tell when the hidden value changed')
})

t.test('fan-out: deltas follow the field selection; an unselected change is not sent', async (t) => {
  const c = recordingConnection('c')
  const index = indexOf(deltaSub(subscription(c.connection), ['title', 'meta.kind']))
  fanOutChange(update({ id: 'p1', title: 'a', body: 'x', meta: { kind: 'k' } }, { id: 'p1', title: 'a', body: 'y', meta: { kind: 'k' } }), index, project, stats())
  t.same(c.frames, [], 'body is not selected')
  fanOutChange(update({ id: 'p1', title: 'a', body: 'y', meta: { kind: 'k', n: 1 } }, { id: 'p1', title: 'b', body: 'z', meta: { kind: 'j', n: 2 } }, 2), index, project, stats())
  t.same(parseFrames(c.frames).map((f) => f.changes), [{ set: { title: 'b', 'meta.kind': 'j' }, unset: [] }])
})

t.test('fan-out: entering the filter sends the whole record, leaving sends left with the record', async (t) => {
  const c = recordingConnection('c')
  const index = indexOf(deltaSub(subscription(c.connection, { filter: { status: 'open' } })))
  fanOutChange(update({ id: 'p1', status: 'draft', title: 'a' }, { id: 'p1', status: 'open', title: 'a' }, 1), index, project, stats())
  fanOutChange(update({ id: 'p1', status: 'open', title: 'a' }, { id: 'p1', status: 'open', title: 'b' }, 2), index, project, stats())
  fanOutChange(update({ id: 'p1', status: 'open', title: 'b' }, { id: 'p1', status: 'done', title: 'b' }, 3), index, project, stats())
  t.same(parseFrames(c.frames).map((f) => [f.seq, f.data ?? f.changes, f.left ?? false]), [
    [1, { id: 'p1', status: 'open', title: 'a' }, false],
    [2, { set: { title: 'b' }, unset: [] }, false],
    [3, { id: 'p1', status: 'done', title: 'b' }, true]
  ])
})

t.test('fan-out: one delta encoding per (view, field set), however many recipients', async (t) => {
  const deltas = Array.from({ length: 5 }, (_, i) => recordingConnection(`d${i}`))
  const narrow = Array.from({ length: 3 }, (_, i) => recordingConnection(`n${i}`))
  const whole = Array.from({ length: 4 }, (_, i) => recordingConnection(`w${i}`))
  const index = indexOf(
    ...deltas.map(({ connection }) => deltaSub(subscription(connection))),
    ...narrow.map(({ connection }) => deltaSub(subscription(connection), ['title'])),
    ...whole.map(({ connection }) => subscription(connection))
  )
  const counted = stats()
  fanOutChange(update({ id: 'p1', title: 'a', body: 'x' }, { id: 'p1', title: 'b', body: 'y' }), index, project, counted)
  t.equal(counted.encodings, 3, 'delta whole view, delta title view, whole record')
  t.equal(counted.deliveries, 12)
  t.ok(deltas.every(({ frames }) => frames.length === 1 && frames[0] === deltas[0]?.frames[0]), 'the same string for every delta recipient')
  t.same(parseFrames(narrow[0]!.frames)[0]?.changes, { set: { title: 'b' }, unset: [] })
})

t.test('fan-out: a connection that also gets the update through a whole-record subscription gets it whole', async (t) => {
  const c = recordingConnection('c')
  const index = indexOf(deltaSub(subscription(c.connection)), subscription(c.connection, { filter: { status: 'open' } }))
  fanOutChange(update({ id: 'p1', status: 'open', title: 'a' }, { id: 'p1', status: 'open', title: 'b' }), index, project, stats())
  fanOutChange(update({ id: 'p1', status: 'open', title: 'b' }, { id: 'p1', status: 'done', title: 'b' }, 2), index, project, stats())
  t.same(parseFrames(c.frames).map((f) => f.data), [{ id: 'p1', status: 'open', title: 'b' }, { id: 'p1', status: 'done', title: 'b' }],
    'both whole: the second one tells the whole-record subscription the record left')
})

t.test('fan-out: when one delta subscription stays and another leaves, the delta carries the leaving filter\'s paths', async (t) => {
  const c = recordingConnection('c')
  const index = indexOf(
    deltaSub(subscription(c.connection, { filter: { prio: 'high' } }), ['title', 'prio']),
    deltaSub(subscription(c.connection, { filter: { status: 'open' } }), ['title', 'status'])
  )
  fanOutChange(update({ id: 'p1', status: 'open', prio: 'high', title: 'a' }, { id: 'p1', status: 'done', prio: 'high', title: 'a' }), index, project, stats())
  t.same(parseFrames(c.frames).map((f) => f.changes), [{ set: { status: 'done' }, unset: [] }], 'the client sees the status subscription lose it')
})

t.test('fan-out: a change under a key a dot path cannot name is sent whole to a delta subscription', async (t) => {
  const c = recordingConnection('c')
  const index = indexOf(deltaSub(subscription(c.connection)))
  fanOutChange(update({ id: 'p1', 'a.b': 1 }, { id: 'p1', 'a.b': 2 }), index, project, stats())
  t.same(parseFrames(c.frames).map((f) => [f.data, f.changes]), [[{ id: 'p1', 'a.b': 2 }, undefined]])
})

t.test('fan-out: leaving a guard-forced filter is still only the id', async (t) => {
  const c = recordingConnection('c')
  const index = indexOf(deltaSub(subscription(c.connection, { compiled: combineFilters({}, { tenant: 'a' }) })))
  fanOutChange(update({ id: 'p1', tenant: 'a', title: 'x' }, { id: 'p1', tenant: 'b', title: 'y' }), index, project, stats())
  t.same(parseFrames(c.frames).map((f) => [f.data, f.left]), [[{ id: 'p1' }, true]])
})

t.test('replay: deltas after since, whole records after a snapshot; unchanged views skipped', async (t) => {
  const c = recordingConnection('c')
  const sub = deltaSub(subscription(c.connection))
  const changed = update({ id: 'p1', title: 'a' }, { id: 'p1', title: 'b' })
  t.match(JSON.parse(encodeForSubscription(changed, sub, project, true) ?? 'null'), { id: 'p1', changes: { set: { title: 'b' } } })
  t.match(JSON.parse(encodeForSubscription(changed, sub, project, false) ?? 'null'), { data: { id: 'p1', title: 'b' } })
  t.equal(encodeForSubscription(update({ id: 'p1', secret: 'a' }, { id: 'p1', secret: 'b' }), sub, project, true), null)
})
