/**
 * Conformance of the scale-out behaviour (PROTOCOL.md §3 "Several instances behind a load
 * balancer behave as one server", README "Scaling out", the scale-out issue), black-box: real
 * sockets, real redis-server, real s3db buckets shared by several instances. Each test covers a
 * case the other cluster tests do not: per-record order with writes alternating between
 * instances, `left: true` and guards/projection applied on the receiving instance, resume on a
 * long-running other instance racing live writes, snapshot on one instance while the other
 * writes, every write path, `broadcastToChannel` and filtered `broadcast`, caller-owned ioredis
 * clients (plugin and attachPublisher), publish/broadcast/channel messages during a Redis outage,
 * presence for late instances, a user with tabs on two instances, graceful shutdown and kill -9
 * of an instance hosting one of a user's two tabs.
 */
import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import t, { type Test } from 'tap'
import { Redis } from 'ioredis'
import { attachPublisher, type RealtimeOptions } from '../../src/index.js'
import { buildApp, sleep, type TestApp } from '../helpers/app.js'
import type { Message, TestClient } from '../helpers/client.js'
import { createDatabase } from '../helpers/db.js'
import { startRedis } from '../helpers/redis.js'
import { clusterJwtAuth, openAs } from '../helpers/cluster-users.js'
import { until } from '../helpers/wait.js'
import { runEveryWritePath } from '../helpers/write-paths.js'
import { partsOf } from '../helpers/hub.js'

const FIXTURE = fileURLToPath(new URL('../fixtures/cluster-node.ts', import.meta.url))

/** `n` instances of one app: one shared memory bucket, one Redis. */
async function cluster (t: Test, n: number, options: (name: string) => Partial<RealtimeOptions>, bucket = `memory://conf-cluster-${randomUUID()}/db`): Promise<TestApp[]> {
  const apps: TestApp[] = []
  for (let i = 0; i < n; i++) {
    const name = String.fromCharCode(97 + i)
    apps.push(await buildApp(t, options(name), { db: await createDatabase(t, { connectionString: bucket }) }))
  }
  return apps
}

const eventsOf = (client: TestClient): Message[] => client.received.filter((m) => m.type === 'event')

/** A frame's short description, for failure messages. */
const brief = (e: Message): string => `${String(e.seq)}:${String(e.event)}:${String(e.data?.id)}${e.left === true ? ':left' : ''}`

/** Waits until `client` has received a frame matching `match`, without consuming it. */
async function arrived (client: TestClient, match: (m: Message) => boolean, what: string, ms?: number): Promise<Message> {
  await until(() => client.received.some(match), what, ms)
  return client.received.find(match) as Message
}

/** Gives a duplicate time to show up, then flushes each socket with a round trip. */
async function settle (...clients: TestClient[]): Promise<void> {
  await sleep(300)
  for (const c of clients) await c.request({ type: 'ping' })
}

/** Every key (at any depth) that starts with `_` or `$` (s3db internals). */
function internalKeys (value: unknown, path = ''): string[] {
  if (typeof value !== 'object' || value === null) return []
  const found: string[] = []
  for (const [k, v] of Object.entries(value)) {
    if (k.startsWith('_') || k.startsWith('$')) found.push(path + k)
    found.push(...internalKeys(v, `${path}${k}.`))
  }
  return found
}

const messagesProtected = { messages: { protected: ['meta.secret'] }, users: { protected: ['password'] } }

// ---------------------------------------------------------------------------------------------
// 1. Per-record order
// ---------------------------------------------------------------------------------------------

t.test('per-record order: updates of one record alternating between instances reach every client in write order, once', async (t) => {
  const redis = await startRedis(t)
  const [a, b] = await cluster(t, 2, (name) => ({ redis: redis.url, nodeId: name })) as [TestApp, TestApp]
  const allA = await a.client()
  const allB = await b.client()
  const filteredB = await b.client()
  const writerA = await a.client()
  const writerB = await b.client()
  for (const c of [allA, allB, writerA, writerB]) await c.request({ type: 'subscribe', resource: 'messages' })
  await filteredB.request({ type: 'subscribe', resource: 'messages', filter: { channel: 'po' } })
  const clients = [allA, allB, filteredB, writerA, writerB]
  const names = ['allA', 'allB', 'filteredB', 'writerA', 'writerB']

  // Sequential (causally ordered: each write starts after the previous one returned) writes to
  // one record, alternating between the two instances. Per-record order means every client sees
  // v0, v1, v2, … in that order. Three ways of writing: through the sockets of both instances
  // (the plugin's own write path), through the s3db API of both, and mixed.
  const rounds = 150
  type Mode = 'socket/socket' | 'db/db' | 'db/socket'
  const write = async (mode: Mode, i: number, id: string, content: string): Promise<void> => {
    const onA = i % 2 === 0
    const viaSocket = mode === 'socket/socket' || (mode === 'db/socket' && !onA)
    if (viaSocket) {
      const reply = await (onA ? writerA : writerB).request({ type: 'update', resource: 'messages', id, data: { content } })
      if (reply.type !== 'updated') throw new Error(JSON.stringify(reply))
    } else {
      await (onA ? a : b).db.resources.messages!.update(id, { content })
    }
  }
  for (const mode of ['socket/socket', 'db/db', 'db/socket'] as const) {
    const id = `rec-${mode.replace('/', '-')}`
    for (const c of clients) c.received.length = 0
    await a.db.resources.messages!.insert({ id, content: 'v-init', channel: 'po' })
    for (let i = 0; i < rounds; i++) await write(mode, i, id, `v${i}`)
    const expected = ['v-init', ...[...Array(rounds).keys()].map((i) => `v${i}`)]
    await until(() => clients.every((c) => eventsOf(c).length >= rounds + 1), 'every event on every client')
    await settle(...clients)
    const stored = await b.db.resources.messages!.get(id)
    t.equal(stored.content, `v${rounds - 1}`, `${mode}: the store holds the last write`)
    const reference = eventsOf(allA).map(brief)
    clients.forEach((c, k) => {
      const name = `${mode}, ${names[k] as string}`
      const got = eventsOf(c)
      const contents = got.map((e) => String(e.data.content))
      const swapped = contents.flatMap((v, i) => i > 0 && expected.indexOf(v) < expected.indexOf(contents[i - 1] as string) ? [`seq ${String(got[i - 1]?.seq)}=${contents[i - 1] as string} then seq ${String(got[i]?.seq)}=${v}`] : [])
      t.same(swapped, [], `${name}: no version arrives after a later one (inversions: ${swapped.join('; ')})`)
      t.same([...contents].sort(), [...expected].sort(), `${name}: each version exactly once`)
      const seqs = got.map((e) => e.seq as number)
      t.ok(seqs.every((s, i) => i === 0 || s > (seqs[i - 1] as number)), `${name}: seq strictly increasing`)
      t.same(got.map(brief), reference, `${name}: the same numbered stream as a client on the other instance`)
    })
  }

  // Concurrent writes to one record from both instances: whatever order the log gives them,
  // every client on every instance sees that same order, each change once.
  for (const c of clients) c.received.length = 0
  await a.db.resources.messages!.insert({ id: 'hot', content: 'h-init', channel: 'po' })
  await Promise.all([...Array(20).keys()].map(async (i) => {
    await (i % 2 === 0 ? a : b).db.resources.messages!.update('hot', { content: `h${i}` })
  }))
  await until(() => clients.every((c) => eventsOf(c).length >= 21), 'the 21 concurrent events on every client')
  await settle(...clients)
  const order = eventsOf(allA).map((e) => `${String(e.seq)}:${String(e.data.content)}`)
  t.equal(new Set(eventsOf(allA).map((e) => e.data.content)).size, 21, 'each version once')
  for (const c of clients) t.same(eventsOf(c).map((e) => `${String(e.seq)}:${String(e.data.content)}`), order, 'one order for the record everywhere')
})

// ---------------------------------------------------------------------------------------------
// 2. Filters across instances: before-or-after matching, left:true, one copy per client
// ---------------------------------------------------------------------------------------------

t.test('filters on the receiving instance: an update made elsewhere enters, stays, leaves (left:true), one copy per client', async (t) => {
  const redis = await startRedis(t)
  const [a, b] = await cluster(t, 2, (name) => ({ redis: redis.url, nodeId: name })) as [TestApp, TestApp]
  const filtered = await b.client()
  const overlapping = await b.client()
  const deletesOnly = await b.client()
  const writerA = await a.client()
  await filtered.request({ type: 'subscribe', resource: 'messages', filter: { channel: 'a' } })
  await overlapping.request({ type: 'subscribe', resource: 'messages', filter: { channel: 'a' } })
  await overlapping.request({ type: 'subscribe', resource: 'messages', filter: { author: 'x' } })
  await deletesOnly.request({ type: 'subscribe', resource: 'messages', filter: { channel: 'a' }, events: ['delete'] })
  const m = a.db.resources.messages!

  await m.insert({ id: 'r1', content: 'c0', channel: 'b' }) // outside: nothing
  await m.update('r1', { channel: 'a' }) // enters
  const viaSocket = await writerA.request({ type: 'update', resource: 'messages', id: 'r1', data: { content: 'c1' } }) // stays
  t.equal(viaSocket.type, 'updated')
  await m.update('r1', { channel: 'b', content: 'c2' }) // leaves
  await m.update('r1', { content: 'c3' }) // outside before and after: nothing
  await m.insert({ id: 'r2', content: 'both', channel: 'a', author: 'x' }) // matches both of `overlapping`'s subscriptions
  await m.delete('r2')
  await b.db.resources.messages!.insert({ id: 'end', content: 'sentinel', channel: 'a' })
  await filtered.waitFor((e) => e.type === 'event' && e.data.id === 'end')
  await overlapping.waitFor((e) => e.type === 'event' && e.data.id === 'end')
  await settle(filtered, overlapping, deletesOnly)

  const got = eventsOf(filtered)
  t.same(got.map((e) => `${String(e.event)}:${String(e.data.id)}:${String(e.data.content)}${e.left === true ? ':left' : ''}`),
    ['update:r1:c0', 'update:r1:c1', 'update:r1:c2:left', 'insert:r2:both', 'delete:r2:both'],
    `exactly the changes that matched before or after (got ${got.map(brief).join(' ')})`)
  const left = got.find((e) => e.left === true)
  t.equal(left?.data.channel, 'b', 'leaving a client-chosen filter sends the record as it is now')
  t.ok(got.filter((e) => e !== left).every((e) => e.left === undefined || e.left === false), 'only the leaving update carries left')

  const overlap = eventsOf(overlapping).map((e) => `${String(e.event)}:${String(e.data.id)}`)
  t.same(overlap, ['update:r1', 'update:r1', 'update:r1', 'insert:r2', 'delete:r2'], 'a client with two matching subscriptions gets each event once')
  t.same(eventsOf(deletesOnly).map((e) => `${String(e.event)}:${String(e.data.id)}`), ['delete:r2'], 'subscription `events` narrow on the receiving instance')
})

// ---------------------------------------------------------------------------------------------
// 3. Guards and protected fields applied on the receiving instance
// ---------------------------------------------------------------------------------------------

t.test('guards, forced filters and protected fields apply on the instance that delivers a change made elsewhere', async (t) => {
  const redis = await startRedis(t)
  const resources: RealtimeOptions['resources'] = {
    messages: { protected: ['meta.secret'] },
    users: {
      protected: ['password'],
      guard: { list: (user) => user?.role === 'admin' ? true : { tenantId: String(user?.tenantId) } }
    }
  }
  const [a, b] = await cluster(t, 2, (name) => ({ ...clusterJwtAuth, redis: redis.url, nodeId: name, resources }))
  if (a === undefined || b === undefined) throw new Error('two instances')
  const tenantA = await openAs(t, b.url, { id: 'ta', tenantId: 'A' })
  const tenantB = await openAs(t, b.url, { id: 'tb', tenantId: 'B' })
  const admin = await openAs(t, b.url, { id: 'root', role: 'admin' })
  const publisherB = await openAs(t, a.url, { id: 'pb', tenantId: 'B' })
  for (const c of [tenantA, tenantB, admin]) await c.request({ type: 'subscribe', resource: 'users' })
  await admin.request({ type: 'subscribe', resource: 'messages' })
  const users = a.db.resources.users!

  await users.insert({ id: 'u1', name: 'Ann', tenantId: 'A', password: 'p1' })
  await users.insert({ id: 'u2', name: 'Bob', tenantId: 'B', password: 'p2' })
  await users.update('u1', { name: 'Annie' })
  await users.update('u1', { tenantId: 'B', name: 'Moved' }) // leaves tenant A's forced filter
  await users.update('u2', { tenantId: 'A' }) // enters tenant A's forced filter
  await users.delete('u2')
  await a.db.resources.messages!.insert({ id: 'm1', content: 'x', channel: 'g', meta: { kind: 'k', secret: 's' } })
  await b.db.resources.users!.insert({ id: 'end', name: 'sentinel', tenantId: 'A', password: 'p3' })
  for (const c of [tenantA, admin]) await arrived(c, (e) => e.type === 'event' && e.data.id === 'end', 'the sentinel')
  await arrived(admin, (e) => e.type === 'event' && e.resource === 'messages', 'the messages event')
  await settle(tenantA, tenantB, admin)

  const ta = eventsOf(tenantA).filter((e) => e.data.id !== 'end')
  t.same(ta.map((e) => `${String(e.event)}:${String(e.data.id)}${e.left === true ? ':left' : ''}`),
    ['insert:u1', 'update:u1', 'update:u1:left', 'update:u2', 'delete:u2'],
    `tenant A sees only tenant A's rows (got ${ta.map(brief).join(' ')})`)
  const movedOut = ta.find((e) => e.left === true)
  t.same(movedOut?.data, { id: 'u1' }, 'moved to another tenant: the receiving instance sends only the id')
  t.ok(ta.every((e) => e.data.name !== 'Moved' && e.data.tenantId !== 'B'), 'no tenant B state reaches tenant A')
  const tb = eventsOf(tenantB).filter((e) => e.data.id !== 'end')
  t.same(tb.map((e) => `${String(e.event)}:${String(e.data.id)}${e.left === true ? ':left' : ''}`),
    ['insert:u2', 'update:u1', 'update:u2:left'], 'tenant B sees its own rows, u1 entering and u2 leaving')
  const all = [...ta, ...eventsOf(tenantB), ...eventsOf(admin)]
  t.ok(all.length > 0)
  t.same(all.filter((e) => e.data !== undefined && 'password' in e.data).map(brief), [], 'password never leaves the receiving instance')
  t.same(all.flatMap((e) => internalKeys(e.data)), [], 'no s3db internals (_*, $*) in events')
  const msg = eventsOf(admin).find((e) => e.resource === 'messages')
  t.same(msg?.data.meta, { kind: 'k' }, 'protected dot path stripped on the receiving instance')
  t.same(eventsOf(admin).filter((e) => e.resource === 'users' && e.data.id !== 'end').map((e) => `${String(e.event)}:${String(e.data.id)}`),
    ['insert:u1', 'insert:u2', 'update:u1', 'update:u1', 'update:u2', 'delete:u2'], 'admin (no forced filter) sees every user change once, in order')
  t.equal(eventsOf(admin).filter((e) => e.data.id === 'end').length, 1, 'admin gets the sentinel written on its own instance once')
  t.equal(eventsOf(tenantA).filter((e) => e.data.id === 'end').length, 1, 'tenant A too')
  t.equal((await a.db.resources.users!.get('u1')).password, 'p1', 'the stored record is intact')

  // A publish on a guarded resource is a record: on the other instance it reaches only the
  // subscriptions its fields match, stripped of protected fields, never the sender.
  for (const c of [tenantA, tenantB, admin]) c.received.length = 0
  await publisherB.request({ type: 'subscribe', resource: 'users' })
  const published = await publisherB.request({ type: 'publish', channel: 'users', message: { id: 'p1', name: 'typing', tenantId: 'B', password: 'leak' } })
  t.equal(published.type, 'published', JSON.stringify(published))
  const toB = await tenantB.waitType('message')
  t.same(toB.data, { id: 'p1', name: 'typing', tenantId: 'B' }, 'tenant B on the other instance gets it, password stripped')
  const toAdmin = await admin.waitType('message')
  t.notOk('password' in toAdmin.data)
  await settle(tenantA, tenantB, admin, publisherB)
  t.equal(tenantA.ofType('message').length, 0, 'tenant A never sees tenant B\'s published record')
  t.equal(tenantB.ofType('message').length + admin.ofType('message').length, 0, 'once')
  t.equal(publisherB.ofType('message').length, 0, 'never back to the sender')
})

// ---------------------------------------------------------------------------------------------
// 4. Resume on another, long-running instance while live writes race the subscribe
// ---------------------------------------------------------------------------------------------

t.test('resume on the other instance: the missed matching changes (left included, projected), then live, no gap, no duplicate', async (t) => {
  const redis = await startRedis(t)
  const [a, b] = await cluster(t, 2, (name) => ({ redis: redis.url, nodeId: name, resources: messagesProtected })) as [TestApp, TestApp]
  const filter = { channel: 'r' }
  // A client that never disconnects, with the same filter: what "live" delivers.
  const witness = await a.client()
  await witness.request({ type: 'subscribe', resource: 'messages', filter })
  const first = await a.client()
  const sub = await first.request({ type: 'subscribe', resource: 'messages', filter })
  await a.db.resources.messages!.insert({ id: 'k0', content: 'seen', channel: 'r' })
  const seen = await first.waitType('event')
  first.close()
  await first.closed

  // What the client misses: writes alternating between a and b; the matching ones by the
  // before-or-after rule.
  type Op = { id: string, event: 'insert' | 'update' | 'delete', before: string | null, after: string | null }
  const ops: Op[] = []
  const channelOf = new Map<string, string>()
  const via = (i: number): TestApp => (i % 2 === 0 ? a : b)
  let n = 0
  for (let i = 0; i < 10; i++) {
    const channel = i % 2 === 0 ? 'r' : 'x'
    await via(n++).db.resources.messages!.insert({ id: `m${i}`, content: `c${i}`, channel, meta: { kind: 'k', secret: 'hidden' } })
    ops.push({ id: `m${i}`, event: 'insert', before: null, after: channel })
    channelOf.set(`m${i}`, channel)
  }
  const update = async (id: string, data: Record<string, string>): Promise<void> => {
    await via(n++).db.resources.messages!.update(id, data)
    const before = channelOf.get(id) ?? null
    const after = data.channel ?? before
    channelOf.set(id, after as string)
    ops.push({ id, event: 'update', before, after })
  }
  await update('m0', { channel: 'x' }) // leaves: replayed with left:true
  await update('m1', { content: 'still outside' }) // never matched: not replayed
  await update('m3', { channel: 'r' }) // enters
  await update('m4', { content: 'stays' })
  await via(n++).db.resources.messages!.delete('m2')
  ops.push({ id: 'm2', event: 'delete', before: 'r', after: null })
  const head = await b.client()
  const headReply = await head.request({ type: 'subscribe', resource: 'messages', filter: { channel: 'none' } })

  // Resume on b while both instances keep writing.
  const again = await b.client()
  const live = (async () => {
    for (let i = 0; i < 10; i++) {
      const channel = i % 2 === 0 ? 'r' : 'x'
      await via(i).db.resources.messages!.insert({ id: `l${i}`, content: `live${i}`, channel, meta: { kind: 'k', secret: 'hidden' } })
      ops.push({ id: `l${i}`, event: 'insert', before: null, after: channel })
    }
  })()
  const reply = await again.request({ type: 'subscribe', resource: 'messages', filter, since: seen.seq, epoch: sub.epoch })
  await live
  t.equal(reply.type, 'subscribed', JSON.stringify(reply))
  t.equal(reply.epoch, sub.epoch, 'one epoch across instances')
  t.equal(headReply.epoch, sub.epoch)
  t.ok((headReply.seq as number) >= (seen.seq as number), `b's subscribed seq (${String(headReply.seq)}) is in the cluster's numbering`)
  await b.db.resources.messages!.insert({ id: 'end', content: 'sentinel', channel: 'r' })
  for (const c of [again, witness]) await arrived(c, (e) => e.type === 'event' && e.data.id === 'end', 'the sentinel')
  await settle(again, witness)

  const view = (e: Message): string => JSON.stringify({ seq: e.seq, event: e.event, resource: e.resource, left: e.left, data: e.data, timestamp: e.timestamp })
  const got = eventsOf(again)
  const wanted = eventsOf(witness).filter((e) => (e.seq as number) > (seen.seq as number))
  t.same(got.map(view), wanted.map(view), `exactly what a client that never left received after since (got ${got.map(brief).join(' ')})`)
  const model = ops.filter((o) => o.before === 'r' || o.after === 'r')
    .map((o) => `${o.event}:${o.id}${o.event === 'update' && o.before === 'r' && o.after !== 'r' ? ':left' : ''}`)
  t.same(got.filter((e) => e.data.id !== 'end').map((e) => `${String(e.event)}:${String(e.data.id)}${e.left === true ? ':left' : ''}`).sort(), model.sort(),
    'the matching changes by the before-or-after rule, each once (leaving one with left:true)')
  const seqs = got.map((e) => e.seq as number)
  t.ok(seqs.every((s, i) => s > (i === 0 ? seen.seq as number : seqs[i - 1] as number)), 'seq strictly increasing after since: no duplicate')
  t.same(got.filter((e) => e.data.meta?.secret !== undefined).map(brief), [], 'replayed and live events are projected alike')

  const beyond = await again.request({ type: 'subscribe', resource: 'messages', filter: { channel: 'q' }, since: (reply.seq as number) + 1000, epoch: sub.epoch })
  t.equal(beyond.code, 'RESYNC_REQUIRED', 'a since beyond the cluster head cannot be resumed')
})

// ---------------------------------------------------------------------------------------------
// 5. snapshot on one instance while the other writes
// ---------------------------------------------------------------------------------------------

t.test('subscribe {snapshot} on one instance while the other writes: records at a seq, then every later change, converging', async (t) => {
  const redis = await startRedis(t)
  const [a, b] = await cluster(t, 2, (name) => ({ redis: redis.url, nodeId: name, resources: messagesProtected })) as [TestApp, TestApp]
  const messages = a.db.resources.messages!
  for (let i = 0; i < 20; i++) await messages.insert({ id: `s${i}`, content: 'old', channel: i % 2 === 0 ? 'snap' : 'other', meta: { kind: 'k', secret: 'hidden' } })
  const writerA = await a.client()
  const ws = await b.client()
  const pending = ws.request({ type: 'subscribe', resource: 'messages', filter: { channel: 'snap' }, snapshot: true })
  const writing = (async () => {
    for (let i = 20; i < 50; i++) {
      const data = { id: `s${i}`, content: 'new', channel: i % 2 === 0 ? 'snap' : 'other', meta: { kind: 'k', secret: 'hidden' } }
      if (i % 3 === 0) await writerA.request({ type: 'insert', resource: 'messages', data })
      else await messages.insert(data)
    }
    await messages.update('s0', { content: 'changed' })
    await messages.update('s4', { channel: 'other' })
    await messages.delete('s2')
  })()
  const reply = await pending
  await writing
  t.equal(reply.type, 'subscribed', JSON.stringify(reply).slice(0, 300))
  t.type(reply.snapshot?.seq, 'number')
  t.equal(reply.snapshot?.epoch, partsOf(a.app).stream.epoch, 'the snapshot is valid in the cluster epoch')
  t.same((reply.snapshot?.data as Message[]).filter((r) => r.meta?.secret !== undefined || 'secret' in (r.meta ?? {})).map((r) => r.id), [], 'snapshot projected')
  t.same((reply.snapshot?.data as Message[]).flatMap((r) => internalKeys(r)), [], 'no internals in the snapshot')

  const view = new Map<string, Message>()
  for (const record of reply.snapshot.data as Message[]) view.set(record.id as string, record)
  const expected = (await messages.list({})).filter((r: Record<string, unknown>) => r.channel === 'snap')
  const applied: Message[] = []
  await until(() => {
    for (const e of eventsOf(ws)) {
      ws.received.splice(ws.received.indexOf(e), 1)
      applied.push(e)
      if (e.event === 'delete' || e.left === true) view.delete(e.data.id as string)
      else view.set(e.data.id as string, e.data)
    }
    return view.size === expected.length && expected.every((r: Record<string, unknown>) => view.get(r.id as string)?.content === r.content)
  }, 'the view on b to converge on the store written through a')
  await settle(ws)
  for (const e of eventsOf(ws)) applied.push(e)
  t.same(applied.filter((e) => (e.seq as number) <= (reply.snapshot.seq as number)).map(brief), [], 'no event at or before the snapshot seq')
  t.equal(new Set(applied.map((e) => e.seq)).size, applied.length, 'no duplicate event')
  t.notOk(view.has('s2'), 'the delete is reflected')
  t.notOk(view.has('s4'), 'the record that left the filter is gone')
  t.equal(view.get('s0')?.content, 'changed')
  t.same(applied.filter((e) => e.data.meta?.secret !== undefined).map(brief), [], 'events projected')
})

// ---------------------------------------------------------------------------------------------
// 6. Every s3db write path, and deleteAll, across instances
// ---------------------------------------------------------------------------------------------

t.test('every write path on one instance produces its event once on the other; deleteAll sends one reset', async (t) => {
  const redis = await startRedis(t)
  const [a, b] = await cluster(t, 2, (name) => ({ redis: redis.url, nodeId: name })) as [TestApp, TestApp]
  const c = await b.client()
  const local = await a.client()
  await c.request({ type: 'subscribe', resource: 'messages' })
  await local.request({ type: 'subscribe', resource: 'messages' })
  const m = a.db.resources.messages!
  await runEveryWritePath(m)
  await c.waitFor((e) => e.type === 'event' && e.data?.id === 'end')
  await local.waitFor((e) => e.type === 'event' && e.data?.id === 'end')
  await settle(c, local)
  for (const [where, client] of [['other instance', c], ['writing instance', local]] as const) {
    const got = eventsOf(client).map((e) => `${String(e.event)}:${String(e.data.id)}`)
    t.same([...got].sort(), [
      'delete:im1', 'delete:im2', 'delete:u', 'insert:i', 'insert:im1', 'insert:im2', 'insert:u',
      'update:i', 'update:i', 'update:i', 'update:i', 'update:u'
    ], `${where}: each write path once (${got.join(' ')})`)
  }
  t.same(eventsOf(c).map((e) => e.seq), eventsOf(local).map((e) => e.seq), 'same numbering on both instances')

  c.received.length = 0
  local.received.length = 0
  await m.deleteAll()
  const reset = await c.waitFor((e) => e.type === 'event' && e.event === 'reset')
  t.equal(reset.resource, 'messages')
  await local.waitFor((e) => e.type === 'event' && e.event === 'reset')
  await b.db.resources.messages!.insert({ id: 'after', content: 'x', channel: 'g' })
  await c.waitFor((e) => e.type === 'event' && e.data?.id === 'after')
  await local.waitFor((e) => e.type === 'event' && e.data?.id === 'after')
  await settle(c, local)
  t.same(eventsOf(c).map(brief), [], 'one reset, no per-record deletes, on the other instance')
  t.same(eventsOf(local).map(brief), [], 'and on the writing instance')
})

// ---------------------------------------------------------------------------------------------
// 7. broadcast* across instances
// ---------------------------------------------------------------------------------------------

t.test('broadcastToChannel reaches members on every instance once; a filtered broadcast stays local; broadcastToResource from b reaches a', async (t) => {
  const redis = await startRedis(t)
  const [a, b] = await cluster(t, 2, (name) => ({ redis: redis.url, nodeId: name })) as [TestApp, TestApp]
  const memberA = await a.client()
  const memberB = await b.client()
  const outsider = await b.client()
  const subscriberA = await a.client()
  t.equal((await memberA.request({ type: 'join', channel: 'public-room' })).type, 'channel:joined')
  t.equal((await memberB.request({ type: 'join', channel: 'public-room' })).type, 'channel:joined')
  await subscriberA.request({ type: 'subscribe', resource: 'users' })

  a.app.realtime.broadcastToChannel('public-room', { type: 'room-notice', n: 1 })
  const got = await memberB.waitFor((m) => m.type === 'room-notice', 3000).catch(() => null)
  t.ok(got !== null, `a member on the other instance gets broadcastToChannel (b received: ${JSON.stringify(memberB.received)})`)
  await memberA.waitType('room-notice')

  const localCount = a.app.realtime.broadcast({ type: 'filtered' }, () => true)
  t.equal(localCount, 2, 'the filtered broadcast counts this instance\'s clients')
  await memberA.waitType('filtered')
  await subscriberA.waitType('filtered')

  t.equal(b.app.realtime.broadcastToResource('users', { type: 'users-notice' }), 0, 'no subscriber of users on b')
  await subscriberA.waitType('users-notice')
  t.equal(a.app.realtime.sendToClient('no-such-client', { type: 'lost' }), false)

  await settle(memberA, memberB, outsider, subscriberA)
  t.equal(memberA.ofType('room-notice').length + memberB.ofType('room-notice').length, 0, 'broadcastToChannel once per member')
  t.equal(outsider.ofType('room-notice').length, 0, 'only channel members')
  t.same([...memberB.ofType('filtered'), ...outsider.ofType('filtered')], [], 'a broadcast with a filter function stays on its instance')
  t.equal(subscriberA.ofType('users-notice').length, 0, 'broadcastToResource once')
  t.same([memberA, memberB, outsider, subscriberA].flatMap((c) => c.ofType('lost')), [], 'sendToClient to an unknown id reaches nobody')
})

// ---------------------------------------------------------------------------------------------
// 8. Caller-owned ioredis clients (plugin and attachPublisher)
// ---------------------------------------------------------------------------------------------

t.test('caller-owned ioredis clients work and stay open after the apps close; URL connections are closed', async (t) => {
  const redis = await startRedis(t)
  const admin = new Redis(redis.url)
  const plain = new Redis(redis.url)
  const owned = new Redis(redis.url)
  const subscriber = new Redis(redis.url)
  t.teardown(() => { for (const r of [admin, plain, owned, subscriber]) r.disconnect() })
  await Promise.all([admin, plain, owned, subscriber].map(async (r) => await r.ping()))
  const connections = async (): Promise<number> => String(await admin.client('LIST')).trim().split('\n').length
  const baseline = await connections()
  t.equal(baseline, 4)

  const bucket = `memory://conf-owned-${randomUUID()}/db`
  const a = await buildApp(t, { redis: plain, nodeId: 'a' }, { db: await createDatabase(t, { connectionString: bucket }) })
  const b = await buildApp(t, { redis: { client: owned, subscriber }, nodeId: 'b' }, { db: await createDatabase(t, { connectionString: bucket }) })
  const c = await buildApp(t, { redis: redis.url, nodeId: 'c' }, { db: await createDatabase(t, { connectionString: bucket }) })
  const onB = await b.client()
  const onC = await c.client()
  await onB.request({ type: 'subscribe', resource: 'messages' })
  await onC.request({ type: 'subscribe', resource: 'messages' })
  await a.db.resources.messages!.insert({ id: 'x', content: 'through caller clients', channel: 'g' })
  t.equal((await onB.waitType('event')).data.id, 'x', 'a (redis: client) to b (redis: {client, subscriber})')
  t.equal((await onC.waitType('event')).data.id, 'x', 'and to c (redis: url)')
  const withAll = await connections()
  t.ok(withAll > baseline, `the plugin opened connections of its own (${withAll})`)

  await a.app.close()
  await b.app.close()
  await c.app.close()
  await until(async () => await connections() === baseline, 'only the caller\'s connections left')
  t.equal(plain.status, 'ready', '`redis: client` is not closed')
  t.equal(await plain.ping(), 'PONG')
  t.equal(owned.status, 'ready', '`redis: { client }` is not closed')
  t.equal(await owned.ping(), 'PONG')
  t.equal(subscriber.status, 'ready', '`redis: { subscriber }` is not closed')
})

t.test('attachPublisher with a caller-owned client: a worker\'s writes reach both instances once, and its client stays open', async (t) => {
  const redis = await startRedis(t)
  const bucket = `memory://conf-worker-${randomUUID()}/db`
  const [a, b] = await cluster(t, 2, (name) => ({ redis: redis.url, nodeId: name, resources: messagesProtected }), bucket) as [TestApp, TestApp]
  const onA = await a.client()
  const onB = await b.client()
  for (const c of [onA, onB]) await c.request({ type: 'subscribe', resource: 'users', filter: { role: 'member' } })
  const workerDb = await createDatabase(t, { connectionString: bucket })
  const owned = new Redis(redis.url)
  t.teardown(() => { owned.disconnect() })
  const publisher = await attachPublisher(workerDb, { redis: owned, resources: ['users'] })
  t.teardown(async () => { await publisher.close() })
  await workerDb.resources.users!.insert({ id: 'w1', name: 'worker', role: 'member', password: 'pw' })
  await workerDb.resources.users!.update('w1', { role: 'guest' })
  for (const c of [onA, onB]) {
    const inserted = await c.waitFor((e) => e.type === 'event' && e.event === 'insert')
    t.notOk('password' in inserted.data, 'protected on the receiving instance')
    const left = await c.waitFor((e) => e.type === 'event' && e.event === 'update')
    t.equal(left.left, true, 'a worker\'s update that leaves the filter carries left:true')
  }
  await settle(onA, onB)
  t.same([...eventsOf(onA), ...eventsOf(onB)].map(brief), [], 'once per client')
  await publisher.close()
  t.equal(owned.status, 'ready', 'the publisher does not close a caller-owned client')
  t.equal(await owned.ping(), 'PONG')
})

// ---------------------------------------------------------------------------------------------
// 9. Redis outage: publish, broadcast and channel messages
// ---------------------------------------------------------------------------------------------

t.test('Redis outage: publish, broadcast and channel messages keep reaching local clients only; nothing is replayed late elsewhere', async (t) => {
  const redis = await startRedis(t)
  const [a, b] = await cluster(t, 2, (name) => ({ ...clusterJwtAuth, redis: { url: redis.url, commandTimeout: 500 }, nodeId: name, health: true })) as [TestApp, TestApp]
  const sender = await openAs(t, a.url, { id: 'sender' })
  const localSub = await openAs(t, a.url, { id: 'local' })
  const remoteSub = await openAs(t, b.url, { id: 'remote' })
  for (const c of [sender, localSub, remoteSub]) await c.request({ type: 'subscribe', resource: 'messages' })
  for (const c of [sender, localSub, remoteSub]) t.equal((await c.request({ type: 'join', channel: 'public-outage' })).type, 'channel:joined')

  await redis.stop()
  await until(() => !a.app.realtime.busHealthy() && !b.app.realtime.busHealthy(), 'both instances to see the outage')
  const published = await sender.request({ type: 'publish', channel: 'messages', message: { n: 'during' } })
  t.same([published.type, published.delivered], ['published', 1], 'publish still serves this instance')
  t.equal((await localSub.waitType('message')).data.n, 'during')
  t.equal(a.app.realtime.broadcast({ type: 'outage-notice' }), 2, 'broadcast still serves this instance')
  await localSub.waitType('outage-notice')
  const sent = await sender.request({ type: 'channel:message', channel: 'public-outage', event: 'chat', data: { n: 'during' } })
  t.equal(sent.type, 'channel:sent')
  await localSub.waitFor((m) => m.type === 'channel:message' && m.data?.n === 'during')
  await a.db.resources.messages!.insert({ id: 'during', content: 'x', channel: 'g' })
  t.equal((await localSub.waitType('event')).data.id, 'during', 'local changes still delivered')

  await redis.start()
  await until(() => a.app.realtime.busHealthy() && b.app.realtime.busHealthy(), 'both instances back', 15_000)
  await until(async () => (await a.app.inject({ method: 'GET', url: '/health/ready' })).statusCode === 200, 'a ready again', 15_000)
  const after = await sender.request({ type: 'publish', channel: 'messages', message: { n: 'after' } })
  t.equal(after.type, 'published')
  const got = await remoteSub.waitFor((m) => m.type === 'message' && m.data?.n === 'after', 5000)
  t.equal(got.from.userId, 'sender', 'the cluster carries publishes again')
  await settle(remoteSub, localSub, sender)
  t.same(remoteSub.ofType('message').concat(remoteSub.ofType('outage-notice'), remoteSub.ofType('channel:message')).map((m) => m.type), [],
    'what was sent during the outage was not delivered late to the other instance')
  t.same(remoteSub.ofType('event').map(brief), [], 'the change made alone is not replayed as an event (a resync is announced instead)')
  t.ok(remoteSub.ofType('error').some((m) => m.code === 'RESYNC_REQUIRED'), 'the other instance\'s subscriber is told to re-list')
})

// ---------------------------------------------------------------------------------------------
// 10. Presence: late instance, graceful shutdown, socket close, kill -9 with a user on two instances
// ---------------------------------------------------------------------------------------------

t.test('presence: a late instance sees the union; members of an instance that shuts down or disconnects leave once', async (t) => {
  const redis = await startRedis(t)
  const bucket = `memory://conf-presence-${randomUUID()}/db`
  const node = async (name: string): Promise<TestApp> => await buildApp(t, { ...clusterJwtAuth, redis: { url: redis.url, presenceLease: 200 }, nodeId: name }, {
    db: await createDatabase(t, { connectionString: bucket })
  })
  const a = await node('a')
  const ann = await openAs(t, a.url, { id: 'ann' })
  const joined = await ann.request({ type: 'join', channel: 'presence-late', userInfo: { where: 'a' } })
  t.equal(joined.type, 'channel:joined')

  // b starts after ann joined on a: it must learn a's members by asking.
  const b = await node('b')
  await until(() => b.app.realtime.getChannelMembers('presence-late').length === 1, 'b to learn a\'s members')
  t.same(b.app.realtime.listChannels({ prefix: 'presence-' }).map((c) => [c.name, c.memberCount]), [['presence-late', 1]], 'listChannels on b covers a channel whose members are on a')
  const bob = await openAs(t, b.url, { id: 'bob' })
  const seen = await bob.request({ type: 'join', channel: 'presence-late' })
  t.same((seen.members as Message[]).map((m) => m.id).sort(), ['ann', 'bob'], 'members are the union, for a late instance too')
  await ann.waitFor((m) => m.type === 'presence:member_joined' && m.member.id === 'bob')

  // A socket that closes (no leave message) on b: ann on a hears bob left, once.
  bob.close()
  const left = await ann.waitFor((m) => m.type === 'presence:member_left' && m.member.id === 'bob')
  t.equal(left.channel, 'presence-late')

  // One user with a tab on each instance: the tab on b leaving is not the user leaving.
  const danA = await openAs(t, a.url, { id: 'dan' })
  const danB = await openAs(t, b.url, { id: 'dan' })
  await danA.request({ type: 'join', channel: 'presence-late' })
  await ann.waitFor((m) => m.type === 'presence:member_joined' && m.member.id === 'dan')
  const second = await danB.request({ type: 'join', channel: 'presence-late' })
  t.same((second.members as Message[]).map((m) => m.id).sort(), ['ann', 'dan'], 'the second tab sees one dan')
  await danB.request({ type: 'leave', channel: 'presence-late' })
  danB.close()
  await until(() => b.app.realtime.getChannelMembers('presence-late').length === 2, 'b to keep dan (on a) as a member')
  await settle(ann)
  t.same(ann.ofType('presence:member_joined').concat(ann.ofType('presence:member_left')).map((m) => `${String(m.type)}:${String(m.member.id)}`), [],
    'no member_joined or member_left for a user whose other tab stays')
  await danA.request({ type: 'leave', channel: 'presence-late' })
  await ann.waitFor((m) => m.type === 'presence:member_left' && m.member.id === 'dan')

  // An instance that shuts down cleanly: its members leave on the others, once.
  const cat = await openAs(t, b.url, { id: 'cat' })
  await cat.request({ type: 'join', channel: 'presence-late' })
  await ann.waitFor((m) => m.type === 'presence:member_joined' && m.member.id === 'cat')
  await b.app.close()
  await ann.waitFor((m) => m.type === 'presence:member_left' && m.member.id === 'cat')
  await until(() => a.app.realtime.getChannelMembers('presence-late').length === 1, 'a\'s view back to ann alone')
  await sleep(800) // four leases: a late duplicate (e.g. from lease expiry) would show
  await ann.request({ type: 'ping' })
  t.same(ann.ofType('presence:member_left').map((m) => m.member.id), [], 'member_left once per member')
  t.same(a.app.realtime.getChannelMembers('presence-late').map((m) => m.id), ['ann'])
})

t.test('kill -9 of an instance: its members leave once, but a user still connected elsewhere stays', async (t) => {
  const redis = await startRedis(t)
  const dir = await mkdtemp(join(tmpdir(), 's3db-realtime-conf-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const lease = 250
  const survivor = await buildApp(t, { ...clusterJwtAuth, redis: { url: redis.url, presenceLease: lease }, nodeId: 'survivor' })

  const loader = process.execArgv.filter((arg) => arg.includes('typescript'))
  const child = spawn(process.execPath, [...loader, FIXTURE], {
    env: { ...process.env, BUCKET: `file://${dir}`, REDIS_URL: redis.url, NODE_ID: 'victim', PRESENCE_LEASE: String(lease) },
    stdio: ['ignore', 'pipe', 'inherit']
  })
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  const port = await new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).once('line', (line) => { resolve((JSON.parse(line) as { port: number }).port) })
    child.once('exit', (code) => { reject(new Error(`victim exited with ${String(code)}`)) })
  })
  const victimUrl = `ws://127.0.0.1:${port}/ws`

  const watcher = await openAs(t, survivor.url, { id: 'watcher' })
  const annHere = await openAs(t, survivor.url, { id: 'ann' })
  const annThere = await openAs(t, victimUrl, { id: 'ann' })
  const carl = await openAs(t, victimUrl, { id: 'carl' })
  await watcher.request({ type: 'join', channel: 'presence-kill' })
  await annThere.request({ type: 'join', channel: 'presence-kill', userInfo: { tab: 'victim' } })
  await carl.request({ type: 'join', channel: 'presence-kill' })
  await annHere.request({ type: 'join', channel: 'presence-kill', userInfo: { tab: 'survivor' } })
  await watcher.waitFor((m) => m.type === 'presence:member_joined' && m.member.id === 'carl')
  await until(() => survivor.app.realtime.getChannelMembers('presence-kill').length === 3, 'three members on the survivor')

  child.kill('SIGKILL')
  await annThere.closed
  const left = await watcher.waitFor((m) => m.type === 'presence:member_left' && m.member.id === 'carl', 15_000)
  t.equal(left.channel, 'presence-kill', 'carl, only on the killed instance, leaves')
  await sleep(6 * lease) // more leases: a duplicate, or a wrong leave for ann, would show
  await watcher.request({ type: 'ping' })
  t.same(watcher.ofType('presence:member_left').map((m) => m.member.id), [], 'no second member_left, and ann (still on the survivor) does not leave')
  t.same(survivor.app.realtime.getChannelMembers('presence-kill').map((m) => m.id).sort(), ['ann', 'watcher'], 'ann stays a member')
  t.same(annHere.ofType('presence:member_left').map((m) => m.member.id), ['carl'], 'ann\'s surviving tab hears carl leave once')
})

