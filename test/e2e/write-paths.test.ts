import t, { type Test } from 'tap'
import { buildApp, sleep } from '../helpers/app.js'
import { createDatabase } from '../helpers/db.js'
import type { TestClient } from '../helpers/client.js'

// Every s3db write path reaches subscribers exactly once (s3db 19.5.10 emits events for some
// paths only; replace and patch-by-copy are captured through hooks).

async function setup (t: Test, behavior = 'user-managed') {
  const db = await createDatabase(t, { resources: false })
  await db.createResource({
    name: 'notes',
    behavior,
    paranoid: false,
    timestamps: true,
    attributes: { text: 'string|required', tag: 'string|optional' }
  } as Parameters<typeof db.createResource>[0])
  const app = await buildApp(t, { resources: { notes: true } }, { db })
  const ws = await app.client()
  await ws.request({ type: 'subscribe', resource: 'notes' })
  return { db, notes: db.resources.notes as any, ws }
}

/** Waits until the write's events must have arrived, then returns all events so far. */
async function eventsAfter (ws: TestClient): Promise<Array<Record<string, any>>> {
  await ws.request({ type: 'ping' }) // the socket is ordered: events sent before the pong are in
  await sleep(20)
  const events = ws.ofType('event')
  ws.received.length = 0
  return events
}

t.test('insert, insertMany, upsert', async (t) => {
  const { notes, ws } = await setup(t)
  await notes.insert({ id: 'a', text: 'one' })
  let events = await eventsAfter(ws)
  t.same(events.map((e) => [e.event, e.data.id]), [['insert', 'a']], 'insert: one event')

  await notes.insertMany([{ id: 'b', text: 'two' }, { id: 'c', text: 'three' }])
  events = await eventsAfter(ws)
  t.same(events.map((e) => [e.event, e.data.id]).sort(), [['insert', 'b'], ['insert', 'c']], 'insertMany: one per record')

  await notes.upsert({ id: 'd', text: 'new' })
  await notes.upsert({ id: 'd', text: 'changed' })
  events = await eventsAfter(ws)
  t.same(events.map((e) => [e.event, e.data.id, e.data.text]), [['insert', 'd', 'new'], ['update', 'd', 'changed']], 'upsert: insert then update')
})

t.test('update, patch, replace, updateConditional', async (t) => {
  const { notes, ws } = await setup(t)
  await notes.insert({ id: 'a', text: 'one' })
  await eventsAfter(ws)

  await notes.update('a', { text: 'two' })
  let events = await eventsAfter(ws)
  t.same(events.map((e) => [e.event, e.data.text]), [['update', 'two']], 'update: one event')

  await notes.patch('a', { text: 'three' })
  events = await eventsAfter(ws)
  t.same(events.map((e) => [e.event, e.data.text]), [['update', 'three']], 'patch: one event')

  await notes.replace('a', { text: 'four' })
  events = await eventsAfter(ws)
  t.same(events.map((e) => [e.event, e.data.id, e.data.text]), [['update', 'a', 'four']], 'replace of an existing record: one update')

  await notes.replace('fresh', { text: 'five' })
  events = await eventsAfter(ws)
  t.same(events.map((e) => [e.event, e.data.id]), [['insert', 'fresh']], 'replace of a missing record: one insert')

  const current = await notes.get('a')
  const result = await notes.updateConditional('a', { text: 'six' }, { ifMatch: current._etag })
  t.equal(result.success, true)
  events = await eventsAfter(ws)
  t.same(events.map((e) => [e.event, e.data.text]), [['update', 'six']], 'updateConditional: one event')
})

t.test('patch on a copy-object behaviour (enforce-limits) emits exactly once', async (t) => {
  const { notes, ws } = await setup(t, 'enforce-limits')
  await notes.insert({ id: 'a', text: 'one', tag: 'x' })
  await eventsAfter(ws)
  await notes.patch('a', { text: 'patched' })
  const events = await eventsAfter(ws)
  t.equal(events.length, 1, 'one event')
  t.equal(events[0]?.event, 'update')
  t.equal(events[0]?.data.text, 'patched')
  t.equal(events[0]?.data.tag, 'x', 'the event carries the whole record')
})

t.test('delete, deleteMany, deleteAll', async (t) => {
  const { notes, ws } = await setup(t)
  await notes.insertMany([{ id: 'a', text: '1' }, { id: 'b', text: '2' }, { id: 'c', text: '3' }, { id: 'd', text: '4' }])
  await eventsAfter(ws)

  await notes.delete('a')
  let events = await eventsAfter(ws)
  t.same(events.map((e) => [e.event, e.data.id, e.data.text]), [['delete', 'a', '1']], 'delete: one event with the old record')

  await notes.deleteMany(['b', 'c'])
  events = await eventsAfter(ws)
  t.same(events.map((e) => [e.event, e.data.id]).sort(), [['delete', 'b'], ['delete', 'c']], 'deleteMany: one per record')

  await notes.deleteAll()
  events = await eventsAfter(ws)
  t.equal(events.length, 1, 'deleteAll: a single event')
  t.equal(events[0]?.event, 'reset')
  t.equal(events[0]?.resource, 'notes')
  t.notOk('data' in (events[0] ?? {}), 'reset carries no record')
})

t.test('seq is monotonic per resource', async (t) => {
  const { notes, ws, db } = await setup(t)
  for (let i = 0; i < 5; i++) await notes.insert({ id: `n${i}`, text: String(i) })
  await notes.update('n1', { text: 'x' })
  await notes.delete('n2')
  const events = await eventsAfter(ws)
  const seqs = events.map((e) => e.seq)
  t.same(seqs, [1, 2, 3, 4, 5, 6, 7], 'consecutive, starting at 1')
  t.ok(db)
})
