import t from 'tap'
import { combineFilters } from '../../src/access/filter.js'
import { createProjector, type Projector } from '../../src/access/projection.js'
import { encodeEvent, fanOutChange, matchForSubscription, type FanOutStats } from '../../src/hub/fanout.js'
import type { ChangeEvent } from '../../src/hub/history.js'
import type { Subscription } from '../../src/connection/connection.js'
import { SubscriptionIndex } from '../../src/hub/subscription-index.js'
import type { RecordData } from '../../src/types.js'
import { parseFrames, recordingConnection, subscription } from './doubles.js'

const TIMESTAMP = '2026-01-01T00:00:00.000Z'

function change (type: ChangeEvent['type'], before: RecordData | null, after: RecordData | null, seq = 1): ChangeEvent {
  const id = (after?.id ?? before?.id ?? null) as string | null
  return { resource: 'posts', type, id, before, after, seq, timestamp: TIMESTAMP }
}

/** The resource's projector (drops `secret`), counting how often a record is projected. */
function countingProjector (): { project: Projector, calls: () => number } {
  const inner = createProjector(['secret'])
  let calls = 0
  return { project: (record) => { calls++; return inner(record) }, calls: () => calls }
}

function stats (): FanOutStats {
  return { candidates: 0, matches: 0, deliveries: 0, encodings: 0 }
}

function indexOf (...subscriptions: Subscription[]): SubscriptionIndex {
  const index = new SubscriptionIndex()
  for (const s of subscriptions) index.add(s)
  return index
}

t.test('only connections with a matching subscription get the event, once each', async (t) => {
  const ann = recordingConnection('ann')
  const bob = recordingConnection('bob')
  const all = recordingConnection('all')
  const index = indexOf(
    subscription(ann.connection, { filter: { author: 'ann' } }),
    subscription(ann.connection, { filter: { author: 'ann' } }),
    subscription(bob.connection, { filter: { author: 'bob' } }),
    subscription(all.connection)
  )
  const { project } = countingProjector()
  const counted = stats()
  const sent = fanOutChange(change('insert', null, { id: 'p1', author: 'ann', secret: 's', _etag: 'x' }), index, project, counted)

  t.equal(sent, 2)
  t.equal(ann.frames.length, 1, 'two matching subscriptions on one connection: one frame')
  t.equal(all.frames.length, 1)
  t.equal(bob.frames.length, 0)
  const { version, ...frame } = parseFrames(ann.frames)[0]!
  t.same(frame, {
    type: 'event', event: 'insert', resource: 'posts', data: { id: 'p1', author: 'ann' }, timestamp: TIMESTAMP, seq: 1
  }, 'the frame carries the projected record (protected and internal fields removed)')
  t.type(version, 'string', '... and its version')
  t.same(counted, { candidates: 3, matches: 3, deliveries: 2, encodings: 1 }, 'bob\'s bucket is never examined')
})

t.test('each distinct view is encoded once, not once per recipient', async (t) => {
  const connections = Array.from({ length: 6 }, (_, i) => recordingConnection(`c${i}`))
  const index = indexOf(...connections.map(({ connection }, i) => subscription(connection, i % 2 === 0 ? { filter: { author: 'ann' } } : {})))
  const { project, calls } = countingProjector()
  fanOutChange(change('insert', null, { id: 'p1', author: 'ann' }), index, project, stats())
  const alone = countingProjector()
  fanOutChange(change('insert', null, { id: 'p1', author: 'ann' }), indexOf(subscription(recordingConnection('one').connection)), alone.project, stats())
  t.equal(calls(), alone.calls(), 'six recipients cost the projections of one (the frame and its version)')
  const frames = connections.map(({ frames }) => frames)
  t.ok(frames.every((f) => f.length === 1 && f[0] === frames[0]?.[0]), 'every recipient gets the same frame')
})

t.test('subscriptions get only the change types they asked for', async (t) => {
  const deletes = recordingConnection('deletes')
  const inserts = recordingConnection('inserts')
  const index = indexOf(
    subscription(deletes.connection, { events: ['delete'] }),
    subscription(inserts.connection, { events: ['insert'] })
  )
  const { project } = countingProjector()
  const counted = stats()
  fanOutChange(change('insert', null, { id: 'p1' }), index, project, counted)
  fanOutChange(change('delete', { id: 'p1', author: 'ann' }, null, 2), index, project, counted)
  fanOutChange(change('update', { id: 'p1' }, { id: 'p1', title: 'x' }, 3), index, project, counted)
  t.same(parseFrames(inserts.frames).map((f) => f.event), ['insert'])
  t.same(parseFrames(deletes.frames).map((f) => [f.event, f.data]), [['delete', { id: 'p1', author: 'ann' }]], 'a delete carries the record as it was')
  t.equal(counted.deliveries, 2)
})

t.test('a delete is matched on the record before it went', async (t) => {
  const ann = recordingConnection('ann')
  const index = indexOf(subscription(ann.connection, { filter: { author: 'ann' } }))
  fanOutChange(change('delete', { id: 'p1', author: 'ann' }, null), index, countingProjector().project, stats())
  t.equal(ann.frames.length, 1)
})

t.test('an update that leaves a client filter is sent once more with left: true and the new record', async (t) => {
  const published = recordingConnection('published')
  const drafts = recordingConnection('drafts')
  const open = recordingConnection('open')
  const index = indexOf(
    subscription(published.connection, { filter: { status: 'published' } }),
    subscription(drafts.connection, { filter: { status: 'draft' } }),
    subscription(open.connection)
  )
  const counted = stats()
  const sent = fanOutChange(change('update', { id: 'p1', status: 'published' }, { id: 'p1', status: 'draft', secret: 's' }), index, countingProjector().project, counted)
  t.equal(sent, 3)
  t.match(parseFrames(published.frames), [{ type: 'event', event: 'update', resource: 'posts', data: { id: 'p1', status: 'draft' }, timestamp: TIMESTAMP, seq: 1, version: String, left: true }])
  t.same(parseFrames(published.frames)[0]?.data, { id: 'p1', status: 'draft' }, 'projected: the protected field is gone')
  t.notOk(parseFrames(drafts.frames)[0]?.left, 'entering a filter is a plain update')
  t.notOk(parseFrames(open.frames)[0]?.left, 'still matching is a plain update')
  t.equal(counted.encodings, 2, 'two views (plain and left), each encoded once')
})

t.test('leaving the guard-forced part of a filter sends only the id', async (t) => {
  const tenantA = recordingConnection('tenant-a')
  const index = indexOf(subscription(tenantA.connection, { compiled: combineFilters({}, { tenant: 'a' }) }))
  const { project, calls } = countingProjector()
  fanOutChange(change('update', { id: 'p1', tenant: 'a', title: 'old' }, { id: 'p1', tenant: 'b', title: 'moved' }), index, project, stats())
  t.same(parseFrames(tenantA.frames), [{ type: 'event', event: 'update', resource: 'posts', data: { id: 'p1' }, timestamp: TIMESTAMP, seq: 1, left: true }],
    'the new tenant\'s record is not shown to the old tenant')
  t.equal(calls(), 0, 'nothing projected for an id-only frame')
})

t.test('a connection whose subscriptions left in different ways gets the most restrictive view', async (t) => {
  for (const order of ['client first', 'forced first']) {
    const { connection, frames } = recordingConnection(order)
    const byClient = subscription(connection, { filter: { status: 'published' } })
    const byGuard = subscription(connection, { compiled: combineFilters({}, { tenant: 'a' }) })
    const index = order === 'client first' ? indexOf(byClient, byGuard) : indexOf(byGuard, byClient)
    fanOutChange(change('update', { id: 'p1', tenant: 'a', status: 'published' }, { id: 'p1', tenant: 'b', status: 'draft' }), index, countingProjector().project, stats())
    t.same(parseFrames(frames).map((f) => f.data), [{ id: 'p1' }], order)
  }
})

t.test('a connection that still matches through one subscription gets a plain update, not left', async (t) => {
  const { connection, frames } = recordingConnection('both')
  const index = indexOf(subscription(connection, { filter: { status: 'published' } }), subscription(connection))
  fanOutChange(change('update', { id: 'p1', status: 'published' }, { id: 'p1', status: 'draft' }), index, countingProjector().project, stats())
  t.equal(frames.length, 1)
  t.notOk(parseFrames(frames)[0]?.left)
})

t.test('a subscription without update events hears nothing when a record leaves it', async (t) => {
  const { connection, frames } = recordingConnection('no-updates')
  const index = indexOf(subscription(connection, { filter: { status: 'published' }, events: ['insert', 'delete'] }))
  fanOutChange(change('update', { id: 'p1', status: 'published' }, { id: 'p1', status: 'draft' }), index, countingProjector().project, stats())
  t.same(frames, [])
})

t.test('an update without a before state is matched on the new record only', async (t) => {
  const published = recordingConnection('published')
  const index = indexOf(subscription(published.connection, { filter: { status: 'published' } }))
  fanOutChange(change('update', null, { id: 'p1', status: 'draft' }), index, countingProjector().project, stats())
  t.same(published.frames, [])
})

t.test('a reset reaches every connection once, whatever its filter or events', async (t) => {
  const a = recordingConnection('a')
  const b = recordingConnection('b')
  const index = indexOf(
    subscription(a.connection, { filter: { author: 'ann' }, events: ['delete'] }),
    subscription(a.connection),
    subscription(b.connection, { compiled: combineFilters({ tenant: 'x' }, { tenant: 'y' }) })
  )
  const sent = fanOutChange({ resource: 'posts', type: 'reset', id: null, before: null, after: null, seq: 7, timestamp: TIMESTAMP }, index, countingProjector().project, stats())
  t.equal(sent, 2)
  const expected = { type: 'event', event: 'reset', resource: 'posts', timestamp: TIMESTAMP, seq: 7 }
  t.same(parseFrames(a.frames), [expected])
  t.same(parseFrames(b.frames), [expected])
})

t.test('a frame the connection refuses (closed socket) is not counted as delivered', async (t) => {
  const open = recordingConnection('open')
  const closed = recordingConnection('closed')
  closed.connection.closed = true
  const index = indexOf(subscription(open.connection), subscription(closed.connection))
  const counted = stats()
  const sent = fanOutChange(change('insert', null, { id: 'p1' }), index, countingProjector().project, counted)
  t.equal(sent, 1)
  t.equal(counted.deliveries, 1)
  t.same(closed.frames, [])
})

t.test('stats accumulate across events', async (t) => {
  const { connection } = recordingConnection('c')
  const index = indexOf(subscription(connection, { filter: { author: 'ann' } }), subscription(connection, { filter: { author: 'bob' } }))
  const counted = stats()
  const { project } = countingProjector()
  fanOutChange(change('insert', null, { id: 'p1', author: 'ann' }), index, project, counted)
  fanOutChange(change('insert', null, { id: 'p2', author: 'zed' }, 2), index, project, counted)
  fanOutChange(change('insert', null, { id: 'p3', author: 'bob' }, 3), index, project, counted)
  t.same(counted, { candidates: 2, matches: 2, deliveries: 2, encodings: 2 })
})

t.test('matchForSubscription says how one subscription sees a change (the replay path)', async (t) => {
  const { connection } = recordingConnection('c')
  const published = subscription(connection, { filter: { status: 'published' } })
  const tenant = subscription(connection, { compiled: combineFilters({}, { tenant: 'a' }) })
  const insertsOnly = subscription(connection, { events: ['insert'] })
  const leaving = change('update', { id: 'p1', status: 'published', tenant: 'a' }, { id: 'p1', status: 'draft', tenant: 'b' })
  t.equal(matchForSubscription(leaving, published), 'left')
  t.equal(matchForSubscription(leaving, tenant), 'left-hidden')
  t.equal(matchForSubscription(leaving, insertsOnly), null)
  t.equal(matchForSubscription(change('insert', null, { id: 'p2', status: 'published' }), published), 'plain')
  t.equal(matchForSubscription(change('insert', null, { id: 'p2', status: 'draft' }), published), null)
  t.equal(matchForSubscription(change('delete', { id: 'p2', status: 'published' }, null), published), 'plain')
  t.equal(matchForSubscription({ ...leaving, type: 'reset' }, insertsOnly), 'plain')
})

t.test('encodeEvent: the id-only view falls back to the record id when the event has none', async (t) => {
  const event: ChangeEvent = { ...change('update', { id: 'p9' }, { id: 'p9', tenant: 'b' }), id: null }
  const frame = JSON.parse(encodeEvent(event, createProjector([]), true, true)) as Record<string, unknown>
  t.same(frame.data, { id: 'p9' })
  t.equal(frame.left, true)
})
