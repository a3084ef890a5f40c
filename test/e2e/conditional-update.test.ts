import t from 'tap'
import { createClient, ConflictError } from '../../src/client/index.js'
import { recordVersion } from '../../src/records/version.js'
import { buildApp, sleep } from '../helpers/app.js'
import { connect, type TestClient } from '../helpers/client.js'
import { hsToken, SECRET } from '../helpers/jwt.js'

/*
 * Conditional updates over the socket (#15 section 4): `update {ifVersion}` answers CONFLICT
 * when someone else wrote first. Real sockets, the real s3db (memory://).
 */

const jwt = { auth: { drivers: [{ driver: 'jwt' as const, config: { secret: SECRET } }] } }

t.test('two editors read one record: the second write with the old version is a CONFLICT and writes nothing', async (t) => {
  const { client, db } = await buildApp(t)
  await db.resources.messages!.insert({ id: 'm1', content: 'draft', channel: 'c' })
  const alice = await client()
  const bob = await client()
  const readA = await alice.request({ type: 'get', resource: 'messages', id: 'm1' })
  const readB = await bob.request({ type: 'get', resource: 'messages', id: 'm1' })
  t.type(readA.version, 'string')
  t.equal(readA.version, readB.version, 'one state, one version')

  const first = await alice.request({ type: 'update', resource: 'messages', id: 'm1', data: { content: 'alice' }, ifVersion: readA.version })
  t.equal(first.type, 'updated')
  t.not(first.version, readA.version, 'a write gives a new version')

  const second = await bob.request({ type: 'update', resource: 'messages', id: 'm1', data: { content: 'bob' }, ifVersion: readB.version })
  t.match(second, { type: 'error', code: 'CONFLICT' })
  t.equal(second.details.version, first.version, 'CONFLICT carries the current version')
  t.equal(second.details.data.content, 'alice', '... and the current record')
  t.equal((await db.resources.messages!.get('m1')).content, 'alice', 'the first write stands')

  const retry = await bob.request({ type: 'update', resource: 'messages', id: 'm1', data: { content: 'bob' }, ifVersion: second.details.version })
  t.equal(retry.type, 'updated', 'retrying with the version from the CONFLICT works')
  const plain = await alice.request({ type: 'update', resource: 'messages', id: 'm1', data: { content: 'last' } })
  t.equal(plain.type, 'updated', 'without ifVersion an update is unconditional, as before')
})

t.test('many updates with the same ifVersion at once: exactly one succeeds', async (t) => {
  // An asynchronous guard (one that asks a database, say) runs between an update's read and its
  // write: without the record lock every writer would read the same version and all would win.
  const slowGuard = { list: async () => { await sleep(5); return true } }
  const { client, db } = await buildApp(t, { resources: { messages: { guard: slowGuard } } })
  await db.resources.messages!.insert({ id: 'race', content: 'v0', channel: 'c' })
  // Frames of one socket run one after another: the race needs one socket per writer.
  const writers: TestClient[] = []
  for (let i = 0; i < 12; i++) writers.push(await client())
  const { version } = await writers[0]!.request({ type: 'get', resource: 'messages', id: 'race' })
  const replies = await Promise.all(writers.map(async (ws, i) =>
    await ws.request({ type: 'update', resource: 'messages', id: 'race', data: { content: `writer ${i}` }, ifVersion: version })))
  const winners = replies.filter((r) => r.type === 'updated')
  t.equal(winners.length, 1, 'one winner')
  t.equal(replies.filter((r) => r.code === 'CONFLICT').length, writers.length - 1, 'every other writer gets CONFLICT')
  const stored = await db.resources.messages!.get('race')
  t.equal(stored.content, winners[0]!.data.content, 'the stored record is the winner\'s')
  for (const conflict of replies.filter((r) => r.code === 'CONFLICT')) t.equal(conflict.details.version, winners[0]!.version)
})

t.test('get, list, snapshot, events and replies give one viewer the same version for the same state', async (t) => {
  const { client } = await buildApp(t)
  const writer = await client()
  const watcher = await client()
  const narrow = await client()
  await watcher.request({ type: 'subscribe', resource: 'messages', filter: { channel: 'c' } })
  await narrow.request({ type: 'subscribe', resource: 'messages', filter: { channel: 'c' }, fields: ['content'] })

  const inserted = await writer.request({ type: 'insert', resource: 'messages', data: { id: 'v1', content: 'one', channel: 'c', meta: { kind: 'k' } } })
  const insertEvent = await watcher.waitType('event')
  t.equal(insertEvent.version, inserted.version, 'insert event = inserted reply')
  t.equal((await narrow.waitType('event')).version, inserted.version, 'field selection does not change the version')
  const got = await writer.request({ type: 'get', resource: 'messages', id: 'v1' })
  t.equal(got.version, inserted.version, 'get = inserted reply')
  const selected = await writer.request({ type: 'get', resource: 'messages', id: 'v1', fields: ['content'] })
  t.equal(selected.version, inserted.version, 'get with fields: the version of the whole record')

  const updated = await writer.request({ type: 'update', resource: 'messages', id: 'v1', data: { content: 'two' }, ifVersion: got.version })
  const updateEvent = await watcher.waitType('event')
  t.equal(updateEvent.version, updated.version, 'update event = updated reply')
  t.equal((await narrow.waitType('event')).version, updated.version)
  const page = await writer.request({ type: 'list', resource: 'messages', filter: { channel: 'c' } })
  t.same(page.versions, { v1: updated.version }, 'list versions = updated reply')
  t.equal((await writer.request({ type: 'get', resource: 'messages', id: 'v1' })).version, updated.version, 'get = updated reply')
  const snap = await writer.request({ type: 'subscribe', resource: 'messages', filter: { channel: 'c' }, snapshot: true })
  t.same(snap.snapshot.versions, { v1: updated.version }, 'snapshot versions = updated reply')
  const snapFields = await narrow.request({ type: 'subscribe', resource: 'messages', filter: { channel: 'c' }, snapshot: true, fields: ['content'] })
  t.same(snapFields.snapshot.versions, { v1: updated.version }, 'snapshot with fields: same versions')

  await writer.request({ type: 'delete', resource: 'messages', id: 'v1' })
  const deleteEvent = await watcher.waitType('event')
  t.equal(deleteEvent.event, 'delete')
  t.notOk('version' in deleteEvent, 'a delete has no version')
})

t.test('the version hides protected fields: a change to one alone does not change it', async (t) => {
  const { client, db } = await buildApp(t)
  const users = db.resources.users!
  await users.insert({ id: 'u1', name: 'Ann', password: 'hunter2' })
  const ws = await client()
  const before = await ws.request({ type: 'get', resource: 'users', id: 'u1' })
  t.equal(before.version, recordVersion({ id: 'u1', name: 'Ann' }), 'the fingerprint of the record as the caller sees it')
  t.not(before.version, recordVersion({ id: 'u1', name: 'Ann', password: 'hunter2' }), 'not of the stored record: no oracle on the password')

  await users.update('u1', { password: 'other' })
  const after = await ws.request({ type: 'get', resource: 'users', id: 'u1' })
  t.equal(after.version, before.version, 'a protected-only change leaves the visible version as it was')
  const write = await ws.request({ type: 'update', resource: 'users', id: 'u1', data: { name: 'Anna' }, ifVersion: before.version })
  t.equal(write.type, 'updated', 'so a write based on that version still succeeds')
  t.equal((await users.get('u1')).password, 'other', 'and keeps the protected field')

  await users.update('u1', { name: 'Annie' })
  const stale = await ws.request({ type: 'update', resource: 'users', id: 'u1', data: { name: 'Anna2' }, ifVersion: write.version })
  t.match(stale, { type: 'error', code: 'CONFLICT' }, 'a visible change by anyone (here: in-process s3db) is a conflict')
  t.notOk('password' in stale.details.data, 'the CONFLICT record is projected')
  t.same(stale.details.data, { id: 'u1', name: 'Annie' })
})

t.test('ifVersion is validated', async (t) => {
  const { client, db } = await buildApp(t)
  await db.resources.messages!.insert({ id: 'm1', content: 'x', channel: 'c' })
  const ws = await client()
  for (const ifVersion of [42, '', 'x'.repeat(65), null]) {
    const reply = await ws.request({ type: 'update', resource: 'messages', id: 'm1', data: { content: 'y' }, ifVersion })
    t.match(reply, { type: 'error', code: 'INVALID_REQUEST' }, JSON.stringify(ifVersion).slice(0, 20))
  }
  t.equal((await db.resources.messages!.get('m1')).content, 'x', 'nothing written')
})

t.test('guards, forced filters and protected fields apply with ifVersion exactly as without', async (t) => {
  const { url, db } = await buildApp(t, {
    ...jwt,
    resources: {
      users: {
        protected: ['password'],
        guard: {
          list: (user) => ({ tenantId: String(user?.tenantId) }),
          update: (user, { data }) => data.role !== 'admin' || user?.role === 'admin'
        }
      }
    }
  })
  const users = db.resources.users!
  await users.insert({ id: 'a1', name: 'a', tenantId: 'A' })
  await users.insert({ id: 'b1', name: 'b', tenantId: 'B' })
  const { client: ws } = await connect(`${url}?token=${hsToken({ sub: 'me', tenantId: 'A' })}`)
  t.teardown(() => { ws.close() })
  const { version } = await ws.request({ type: 'get', resource: 'users', id: 'a1' })

  const guarded = await ws.request({ type: 'update', resource: 'users', id: 'a1', data: { role: 'admin' }, ifVersion: version })
  t.match(guarded, { code: 'FORBIDDEN' }, 'the update guard refuses')
  const secret = await ws.request({ type: 'update', resource: 'users', id: 'a1', data: { password: 'x' }, ifVersion: version })
  t.match(secret, { code: 'FORBIDDEN' }, 'a protected field stays unwritable')
  const moved = await ws.request({ type: 'update', resource: 'users', id: 'a1', data: { tenantId: 'B' }, ifVersion: version })
  t.match(moved, { code: 'FORBIDDEN' }, 'moving outside the forced filter is refused')
  t.same(await users.get('a1'), { ...(await users.get('a1')), name: 'a', tenantId: 'A' }, 'nothing written')

  const wrongVersion = await ws.request({ type: 'update', resource: 'users', id: 'b1', data: { name: 'x' }, ifVersion: 'AAAAAAAAAAAAAAAAAAAAAA' })
  t.match(wrongVersion, { code: 'NOT_FOUND' }, 'another tenant\'s record is NOT_FOUND, never CONFLICT (no version of it leaks)')
  const missing = await ws.request({ type: 'update', resource: 'users', id: 'nope', data: { name: 'x' }, ifVersion: version })
  t.match(missing, { code: 'NOT_FOUND' })

  await ws.request({ type: 'delete', resource: 'users', id: 'a1' })
  const gone = await ws.request({ type: 'update', resource: 'users', id: 'a1', data: { name: 'x' }, ifVersion: version })
  t.match(gone, { code: 'NOT_FOUND' }, 'a deleted record stays NOT_FOUND')
})

t.test('the typed client: getWithVersion, update with ifVersion, ConflictError, versions on pages and events', async (t) => {
  const { url, db } = await buildApp(t)
  await db.resources.messages!.insert({ id: 'm1', content: 'draft', channel: 'c' })
  type Schema = { messages: { content: string, channel: string } }
  const alice = createClient<Schema>({ url, requestTimeout: 5000 })
  const bob = createClient<Schema>({ url, requestTimeout: 5000 })
  t.teardown(() => { alice.close(); bob.close() })

  const events: Array<{ version?: string }> = []
  await bob.subscribe('messages', { filter: { channel: 'c' } }, (event) => { if (event.event === 'update') events.push(event) })
  const read = await alice.getWithVersion('messages', 'm1')
  const page = await bob.listPage('messages', { filter: { channel: 'c' } })
  t.equal(page.versions.m1, read.version, 'pages carry versions')

  const next = await alice.updateWithVersion('messages', 'm1', { content: 'alice' }, { ifVersion: read.version })
  t.equal(next.data.content, 'alice')
  const error = await bob.update('messages', 'm1', { content: 'bob' }, { ifVersion: page.versions.m1 }).catch((e: unknown) => e)
  t.ok(error instanceof ConflictError, 'a ConflictError')
  t.equal((error as ConflictError).code, 'CONFLICT')
  t.equal((error as ConflictError).version, next.version)
  t.equal((error as ConflictError).current.content, 'alice')
  const merged = await bob.update('messages', 'm1', { content: 'alice+bob' }, { ifVersion: (error as ConflictError).version })
  t.equal(merged.content, 'alice+bob')
  while (events.length < 2) await new Promise((resolve) => setTimeout(resolve, 10))
  t.equal(events[0]!.version, next.version, 'subscription events carry the version')
})
