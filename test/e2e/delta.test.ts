import t, { type Test } from 'tap'
import { WebSocket } from 'ws'
import { createClient, type SocketLike, type SubscriptionEvent } from '../../src/client/index.js'
import { buildApp, sleep, type TestApp } from '../helpers/app.js'
import type { TestClient } from '../helpers/client.js'
import { partsOf } from '../helpers/hub.js'

/* Delta updates (#15 section 3) over real sockets and the real s3db (memory://). */

type Frame = Record<string, any>

async function settle (...clients: TestClient[]): Promise<void> {
  for (const c of clients) await c.request({ type: 'ping' })
  await sleep(20)
}

async function deltaApp (t: Test): Promise<TestApp> {
  return await buildApp(t, { resources: { messages: { protected: ['meta.secret'] }, users: { protected: ['password'] } } })
}

t.test('a delta subscription gets {id, changes, seq} for an update; insert and delete stay whole', async (t) => {
  const { client, db } = await deltaApp(t)
  const messages = db.resources.messages!
  const ws = await client()
  const sub = await ws.request({ type: 'subscribe', resource: 'messages', delta: true })
  t.equal(sub.type, 'subscribed')
  await messages.insert({ id: 'm1', content: 'hello', channel: 'a', author: 'ann', meta: { kind: 'note', secret: 's' } })
  const inserted = await ws.waitType('event')
  t.same([inserted.event, inserted.data.content, inserted.data.meta], ['insert', 'hello', { kind: 'note' }])

  await messages.update('m1', { content: 'edited', meta: { kind: 'alert', secret: 's2' } })
  const updated = await ws.waitType('event')
  t.equal(updated.data, undefined, 'no whole record')
  t.match(updated, { type: 'event', event: 'update', resource: 'messages', id: 'm1', seq: inserted.seq + 1 })
  t.equal(typeof updated.timestamp, 'string')
  t.same([updated.changes.set.content, updated.changes.set['meta.kind'], updated.changes.unset], ['edited', 'alert', []], 'what changed, as dot paths')
  t.notOk(Object.keys(updated.changes.set).some((path) => path.startsWith('meta.secret') || path === 'meta' || path === 'channel'), 'nothing unchanged, meta.secret never')

  await messages.replace('m1', { content: 'bare', channel: 'a' })
  const replaced = await ws.waitType('event')
  t.ok(['author', 'meta'].every((path) => replaced.changes.unset.includes(path)), 'removed paths are listed')
  t.equal(replaced.changes.set.content, 'bare')

  await messages.delete('m1')
  const deleted = await ws.waitType('event')
  t.same([deleted.event, deleted.data.id], ['delete', 'm1'])
})

t.test('protected fields never travel in changes; an update changing only them sends no delta', async (t) => {
  const { client, db } = await deltaApp(t)
  const users = db.resources.users!
  await users.insert({ id: 'u1', name: 'Ann', email: 'a@x', password: 'pw' })
  const delta = await client()
  const whole = await client()
  await delta.request({ type: 'subscribe', resource: 'users', delta: true })
  await whole.request({ type: 'subscribe', resource: 'users' })

  await users.update('u1', { password: 'pw2' })
  await users.update('u1', { password: 'pw3', name: 'Anne' })
  const seen = await whole.waitType('event')
  t.equal(seen.data.name, 'Anne', 'the password-only update reached no whole-record subscriber either')
  const changed = await delta.waitType('event')
  t.same(changed.changes, { set: { name: 'Anne' }, unset: [] }, 'the password change is no part of it')
  await settle(delta)
  t.equal(delta.ofType('event').length, 0, 'the password-only update reached no delta subscriber')
  t.notOk(JSON.stringify(changed).includes('pw'), 'no protected value anywhere in the frame')
})

t.test('deltas respect fields: unselected changes are not sent, selected ones are', async (t) => {
  const { client, db } = await deltaApp(t)
  const messages = db.resources.messages!
  await messages.insert({ id: 'm1', content: 'hello', channel: 'a', author: 'ann' })
  const ws = await client()
  await ws.request({ type: 'subscribe', resource: 'messages', fields: ['author'], delta: true })
  await messages.update('m1', { content: 'edited' }) // content and updatedAt are not selected
  await messages.update('m1', { author: 'bob' })
  const event = await ws.waitType('event')
  t.same(event.changes, { set: { author: 'bob' }, unset: [] })
  await settle(ws)
  t.equal(ws.ofType('event').length, 0)
})

t.test('entering the filter sends the whole record, leaving it sends left with the record', async (t) => {
  const { client, db } = await deltaApp(t)
  const messages = db.resources.messages!
  await messages.insert({ id: 'm1', content: 'hello', channel: 'b' })
  const ws = await client()
  await ws.request({ type: 'subscribe', resource: 'messages', filter: { channel: 'a' }, delta: true })
  await messages.update('m1', { channel: 'a' })
  const entered = await ws.waitType('event')
  t.same([entered.data?.content, entered.changes, entered.left], ['hello', undefined, undefined], 'whole: the subscriber did not hold it')
  await messages.update('m1', { content: 'x' })
  const stayed = await ws.waitType('event')
  t.equal(stayed.changes.set.content, 'x')
  await messages.update('m1', { channel: 'z' })
  const left = await ws.waitType('event')
  t.same([left.left, left.data?.channel, left.changes], [true, 'z', undefined])
})

t.test('delta is validated: a boolean, and only with insert events', async (t) => {
  const { client } = await deltaApp(t)
  const ws = await client()
  const notBoolean = await ws.request({ type: 'subscribe', resource: 'messages', delta: 'yes' })
  t.same([notBoolean.code, notBoolean.details?.field], ['INVALID_REQUEST', '/delta'])
  const noInserts = await ws.request({ type: 'subscribe', resource: 'messages', events: ['update'], delta: true })
  t.same([noInserts.code, noInserts.details?.field], ['INVALID_REQUEST', '/delta'])
  t.match(noInserts.message, /insert/)
})

t.test('each distinct view is encoded once: many delta subscribers, one encoding', async (t) => {
  const app = await deltaApp(t)
  const messages = app.db.resources.messages!
  await messages.insert({ id: 'm1', content: 'hello', channel: 'a' })
  const deltas = await Promise.all(Array.from({ length: 4 }, async () => await app.client()))
  const wholes = await Promise.all(Array.from({ length: 3 }, async () => await app.client()))
  for (const ws of deltas) await ws.request({ type: 'subscribe', resource: 'messages', delta: true })
  for (const ws of wholes) await ws.request({ type: 'subscribe', resource: 'messages' })
  const stats = partsOf(app.app).hub.fanOutStats
  const before = { encodings: stats.encodings, deliveries: stats.deliveries }
  await messages.update('m1', { content: 'edited' })
  const frames = await Promise.all(deltas.map(async (ws) => await ws.waitType('event')))
  await Promise.all(wholes.map(async (ws) => await ws.waitType('event')))
  t.equal(stats.deliveries - before.deliveries, 7)
  t.equal(stats.encodings - before.encodings, 2, 'one delta frame and one whole frame')
  t.ok(frames.every((f) => f.changes.set.content === 'edited'))
})

t.test('since replays deltas in order; the changes after a snapshot come whole', async (t) => {
  const { client, db } = await deltaApp(t)
  const messages = db.resources.messages!
  await messages.insert({ id: 'm1', content: 'a', channel: 'a' })
  const first = await client()
  const sub = await first.request({ type: 'subscribe', resource: 'messages', delta: true })
  first.close()
  await messages.update('m1', { content: 'b' })
  await messages.update('m1', { author: 'ann' })

  const resumed = await client()
  await resumed.request({ type: 'subscribe', resource: 'messages', delta: true, since: sub.seq, epoch: sub.epoch })
  const replayed = [await resumed.waitType('event'), await resumed.waitType('event')]
  t.same(replayed.map((f) => [f.seq, f.changes?.set.content ?? f.changes?.set.author]), [[sub.seq + 1, 'b'], [sub.seq + 2, 'ann']])

  const snap = await client()
  const snapped = await snap.request({ type: 'subscribe', resource: 'messages', delta: true, snapshot: true })
  t.equal(snapped.snapshot.data[0].author, 'ann')
  await messages.update('m1', { content: 'c' })
  t.ok((await snap.waitType('event')).changes, 'live updates after the snapshot are deltas')
})

/** Sockets whose incoming frames are recorded, and dropped when `drop` says so (a lost frame). */
function wiretap (drop: (frame: Frame) => boolean = () => false): { factory: (url: string) => SocketLike, frames: Frame[] } {
  const frames: Frame[] = []
  const factory = (url: string): SocketLike => {
    const ws = new WebSocket(url)
    const socket: SocketLike = {
      get readyState () { return ws.readyState },
      send: (data) => { ws.send(data) },
      close: (code, reason) => { ws.close(code, reason) },
      onopen: null,
      onmessage: null,
      onclose: null,
      onerror: null
    }
    ws.onopen = (event) => { socket.onopen?.(event) }
    ws.onmessage = (event) => {
      const frame = JSON.parse(String(event.data)) as Frame
      if (drop(frame)) return
      frames.push(frame)
      socket.onmessage?.({ data: event.data })
    }
    ws.onclose = (event) => { socket.onclose?.({ code: event.code, reason: event.reason }) }
    ws.onerror = (event) => { socket.onerror?.(event) }
    return socket
  }
  return { factory, frames }
}

interface Message { content: string, channel: string, author?: string, meta?: { kind?: string, secret?: string } }
type Stored = Message & { id: string }

/** The view an application builds from a subscription's events, and the seq it has reached. */
function viewOf (): { records: Map<string, Stored>, seq: () => number, snapshots: () => number, handler: (e: SubscriptionEvent<Stored>) => void } {
  const records = new Map<string, Stored>()
  let seq = 0
  let snapshots = 0
  return {
    records,
    seq: () => seq,
    snapshots: () => snapshots,
    handler: (event) => {
      if (event.event === 'snapshot') {
        snapshots++
        records.clear()
        for (const r of event.data) records.set(r.id, r)
        return
      }
      seq = event.seq
      if (event.event === 'reset') records.clear()
      else if (event.event === 'delete' || event.left === true) records.delete(event.data.id)
      else records.set(event.data.id, event.data)
    }
  }
}

async function until (check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 250 && !check(); i++) await sleep(20)
  if (!check()) throw new Error(`timed out waiting for ${what}`)
}

t.test('the typed client applying deltas gives the same records as whole-record events', async (t) => {
  const { app, url, db } = await deltaApp(t)
  const messages = db.resources.messages!
  await messages.insert({ id: 'm0', content: 'before', channel: 'a', meta: { kind: 'k' } })
  const tap = wiretap()
  const deltaClient = createClient<{ messages: Message }>({ url, requestTimeout: 5000, socketFactory: tap.factory })
  const wholeClient = createClient<{ messages: Message }>({ url, requestTimeout: 5000 })
  t.teardown(() => { deltaClient.close(); wholeClient.close() })
  const deltaView = viewOf()
  const wholeView = viewOf()
  await deltaClient.subscribe('messages', { filter: { channel: 'a' }, delta: true }, deltaView.handler)
  await wholeClient.subscribe('messages', { filter: { channel: 'a' }, snapshot: true }, wholeView.handler)
  t.equal(deltaView.snapshots(), 1, 'a delta subscription starts from a listing')

  // Each write waits for its change to be numbered: a replace is captured by an s3db hook,
  // sooner than the events of writes before it (src/bridge/bridge.ts).
  const { stream } = partsOf(app)
  const step = async (write: () => Promise<unknown>): Promise<void> => {
    const seq = stream.lastSeq('messages')
    await write()
    await until(() => stream.lastSeq('messages') > seq, 'the change')
  }
  await step(async () => await messages.insert({ id: 'm1', content: 'one', channel: 'a', author: 'ann', meta: { kind: 'note', secret: 's' } }))
  await step(async () => await messages.insert({ id: 'm2', content: 'two', channel: 'a' }))
  await step(async () => await messages.update('m1', { content: 'one!' }))
  await step(async () => await messages.update('m1', { meta: { kind: 'alert' } })) // nested
  await step(async () => await messages.update('m1', { meta: { secret: 'hidden' } })) // protected (only updatedAt shows)
  await step(async () => await messages.replace('m1', { content: 'bare', channel: 'a' })) // author and meta removed
  await step(async () => await messages.update('m1', { meta: { kind: 'back' } })) // a nested object again
  await step(async () => await messages.update('m0', { author: 'zed' }))
  await step(async () => await messages.update('m2', { channel: 'b' })) // leaves
  await step(async () => await messages.update('m2', { channel: 'a', content: 'back' })) // enters
  await step(async () => await messages.delete('m0'))
  await step(async () => await messages.insert({ id: 'm3', content: 'elsewhere', channel: 'b' }))
  await step(async () => await messages.update('m2', { author: 'amy' }))
  await until(() => deltaView.records.get('m2')?.author === 'amy' && wholeView.records.get('m2')?.author === 'amy', 'the last update')

  t.same([...deltaView.records.entries()].sort(), [...wholeView.records.entries()].sort(), 'the same records')
  t.same(deltaView.records.get('m1')?.meta, { kind: 'back' })
  t.equal(deltaView.records.get('m1')?.author, undefined, 'the removed path is gone')
  t.notOk(deltaView.records.has('m0'))
  t.ok(tap.frames.filter((f) => f.type === 'event' && f.changes !== undefined).length >= 6, 'updates travelled as deltas')
  t.equal(deltaView.snapshots(), 1, 'no re-list was needed')
})

t.test('a delta for a record the client does not hold (a lost frame) makes it list again', async (t) => {
  const { url, db } = await deltaApp(t)
  const messages = db.resources.messages!
  // The insert of m1 never reaches the client, as if the frame were lost.
  const tap = wiretap((frame) => frame.type === 'event' && frame.event === 'insert' && frame.data?.id === 'm1')
  const client = createClient<{ messages: Message }>({ url, requestTimeout: 5000, socketFactory: tap.factory })
  t.teardown(() => { client.close() })
  const view = viewOf()
  await client.subscribe('messages', { delta: true }, view.handler)
  await messages.insert({ id: 'm1', content: 'one', channel: 'a' })
  await messages.insert({ id: 'm2', content: 'two', channel: 'a' })
  await until(() => view.records.has('m2'), 'm2')
  t.notOk(view.records.has('m1'), 'm1 was lost')

  await messages.update('m1', { content: 'one!' })
  await until(() => view.snapshots() === 2, 'the re-list')
  t.equal(view.records.get('m1')?.content, 'one!', 'the listing brought the current record')
  await messages.update('m1', { author: 'ann' })
  await until(() => view.records.get('m1')?.author === 'ann', 'the next delta')
  t.equal(view.records.get('m1')?.content, 'one!', 'applied on the listed copy')
})
