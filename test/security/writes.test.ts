import t, { type Test } from 'tap'
import type { RealtimeOptions, RealtimeUser } from '../../src/index.js'
import { buildApp, type TestApp } from '../helpers/app.js'
import type { TestClient } from '../helpers/client.js'
import { createDatabase, type Db } from '../helpers/db.js'
import { hsToken } from '../helpers/jwt.js'

// Attack class 1 of issue #12: a write is judged on what s3db will store, not on the object
// received. s3db maps attributes to short keys and reads unknown keys back through that map,
// applies dotted keys as paths, and flattens nested objects so a literal dotted key wins.

async function tenantApp (t: Test): Promise<TestApp & { as: (sub: string, tenantId: string, orgId?: string) => Promise<TestClient> }> {
  const db = await createDatabase(t, { resources: false })
  await db.createResource({
    name: 'documents',
    // Enough attributes that the short keys include letters (a, b, …), as in the report.
    attributes: {
      f0: 'string|optional', f1: 'string|optional', f2: 'string|optional', f3: 'string|optional', f4: 'string|optional',
      f5: 'string|optional', f6: 'string|optional', f7: 'string|optional', f8: 'string|optional', f9: 'string|optional',
      title: 'string|optional',
      tenantId: 'string|required',
      org: { id: 'string|optional', name: 'string|optional' },
      meta: 'object|optional'
    },
    timestamps: true
  } as Parameters<Db['createResource']>[0])
  const forced = (user: RealtimeUser | null): Record<string, string> =>
    user?.orgId === undefined ? { tenantId: String(user?.tenantId) } : { tenantId: String(user?.tenantId), 'org.id': String(user.orgId) }
  const options: Partial<RealtimeOptions> = {
    auth: { drivers: [{ driver: 'jwt', config: { secret: 'test-secret-that-is-long-enough-for-hs256' } }] },
    resources: {
      documents: {
        guard: {
          subscribe: (user) => forced(user),
          list: (user) => forced(user),
          create: (user, data) => { data.tenantId = String(user?.tenantId); return true }
        }
      }
    }
  }
  const app = await buildApp(t, options, { db })
  return { ...app, as: async (sub, tenantId, orgId) => await app.client(`?token=${hsToken({ sub, tenantId, ...(orgId === undefined ? {} : { orgId }) })}`) }
}

t.test('every short storage key of every attribute is refused on insert and update', async (t) => {
  const { db, as } = await tenantApp(t)
  const documents = db.resources.documents!
  const map = (documents as unknown as { schema: { map: Record<string, string> } }).schema.map
  const shortKeys = [...new Set(Object.values(map))]
  t.ok(shortKeys.includes('a') || shortKeys.includes('b'), 'the schema has letter short keys')
  await documents.insert({ id: 'a1', tenantId: 'A', title: 'mine', org: { id: 'o1' } })
  const alice = await as('alice', 'A')
  const bob = await as('bob', 'B')
  await bob.request({ type: 'subscribe', resource: 'documents' })
  for (const key of shortKeys) {
    if (Object.prototype.hasOwnProperty.call(map, key)) continue // also a real attribute name
    const upd = await alice.request({ type: 'update', resource: 'documents', id: 'a1', data: { [key]: 'B', title: 'x' } })
    t.match(upd, { type: 'error', code: 'INVALID_REQUEST', details: { field: `/data/${key}` } }, `update with short key "${key}"`)
    const ins = await alice.request({ type: 'insert', resource: 'documents', data: { tenantId: 'A', [key]: 'B' } })
    t.match(ins, { type: 'error', code: 'INVALID_REQUEST', details: { field: `/data/${key}` } }, `insert with short key "${key}"`)
  }
  const stored = await documents.get('a1')
  t.equal(stored.tenantId, 'A', 'the record stayed in tenant A')
  t.equal(stored.title, 'mine')
  t.equal((await documents.list()).length, 1, 'nothing inserted')
  await bob.request({ type: 'ping' })
  t.equal(bob.ofType('event').length, 0, 'tenant B heard nothing')
})

t.test('every dotted spelling of every forced-filter field is refused; nested writes are merged as s3db merges them', async (t) => {
  const { db, as } = await tenantApp(t)
  const documents = db.resources.documents!
  await documents.insert({ id: 'a1', tenantId: 'A', title: 'mine', org: { id: 'o1', name: 'Org one' } })
  const alice = await as('alice', 'A', 'o1')
  const spellings: Array<Record<string, unknown>> = [
    { 'org.id': 'o2' }, { org: { id: 'o1' }, 'org.id': 'o2' }, { 'org.id': 'o1', tenantId: 'A' }, { meta: { 'x.y': 1 } }, { 'tenantId.': 'B' }
  ]
  for (const data of spellings) {
    const upd = await alice.request({ type: 'update', resource: 'documents', id: 'a1', data })
    t.match(upd, { type: 'error', code: 'INVALID_REQUEST' }, `update ${JSON.stringify(data)}`)
    t.match(String(upd.details?.field), /^\/data\//, 'the field is named')
    const ins = await alice.request({ type: 'insert', resource: 'documents', data: { tenantId: 'A', org: { id: 'o1' }, ...data } })
    t.match(ins, { type: 'error', code: 'INVALID_REQUEST' }, `insert ${JSON.stringify(data)}`)
  }
  for (const data of [{ $before: { tenantId: 'B' } }, { _v: '0' }, { _etag: 'x' }, { unknownField: 1 }, { org: { id: 'o1', extra: 'q' } }, { org: '{"id":"o2"}' }]) {
    t.match(await alice.request({ type: 'update', resource: 'documents', id: 'a1', data }), { type: 'error', code: 'INVALID_REQUEST' }, `update ${JSON.stringify(data)}`)
  }
  const moved = await alice.request({ type: 'update', resource: 'documents', id: 'a1', data: { org: { id: 'o2' } } })
  t.match(moved, { type: 'error', code: 'FORBIDDEN' }, 'a nested write that leaves the forced filter is refused')
  const renamed = await alice.request({ type: 'update', resource: 'documents', id: 'a1', data: { org: { name: 'Renamed' } } })
  t.equal(renamed.type, 'updated', 'a nested write inside the filter is fine')
  t.same((await documents.get('a1')).org, { id: 'o1', name: 'Renamed' }, 's3db merged the object; org.id stayed')
  t.match(await alice.request({ type: 'insert', resource: 'documents', data: { tenantId: 'A', org: { id: 'o2' } } }), { code: 'FORBIDDEN' })
  const fine = await alice.request({ type: 'insert', resource: 'documents', data: { tenantId: 'B', title: 'new', org: { id: 'o1' } } })
  t.equal(fine.data.tenantId, 'A', 'the create guard still sets the tenant (seed example)')
  t.equal((await documents.list()).filter((d) => d.tenantId !== 'A' || (d.org as { id?: string })?.id !== 'o1').length, 0, 'nothing outside A/o1')
})

t.test('ids, cursors, partition values and partition names are path segments: unsafe ones are INVALID_REQUEST (file://)', async (t) => {
  const { mkdtemp, readdir, rm } = await import('node:fs/promises')
  const { tmpdir } = await import('node:os')
  const { join } = await import('node:path')
  const root = await mkdtemp(join(tmpdir(), 's3db-rt-'))
  t.teardown(async () => { await rm(root, { recursive: true, force: true }) })
  const db = await createDatabase(t, { connectionString: `file://${join(root, 'data')}` })
  const { client } = await buildApp(t, { resources: { messages: true } }, { db })
  await db.resources.users!.insert({ id: 'victim', name: 'Victim' })
  const c = await client()
  const bad = ['../../../../resource=users/data', '../x', 'a/b', 'a\\b', '..', 'x..y', 'tab\there', 'nul\u0000', 'z'.repeat(300)]
  for (const value of bad) {
    const ins = await c.request({ type: 'insert', resource: 'messages', data: { id: 'victim', content: 'x', channel: value } })
    t.match(ins, { type: 'error', code: 'INVALID_REQUEST', details: { field: '/data/channel' } }, `partition value ${JSON.stringify(value.slice(0, 40))}`)
    t.match(await c.request({ type: 'insert', resource: 'messages', data: { id: value, content: 'x', channel: 'ok' } }), { code: 'INVALID_REQUEST', details: { field: '/data/id' } })
    for (const type of ['get', 'update', 'delete']) {
      const reply = await c.request({ type, resource: 'messages', id: value, ...(type === 'update' ? { data: { content: 'y' } } : {}) })
      t.match(reply, { code: 'INVALID_REQUEST', details: { field: '/id' } }, `${type} id ${JSON.stringify(value.slice(0, 40))}`)
    }
    t.match(await c.request({ type: 'list', resource: 'messages', filter: { channel: value } }), { code: 'INVALID_REQUEST' }, 'list filter picking a partition')
    t.match(await c.request({ type: 'list', resource: 'messages', cursor: value }), { code: 'INVALID_REQUEST', details: { field: '/cursor' } }, 'cursor')
    t.match(await c.request({ type: 'subscribe', resource: 'messages', filter: { channel: value }, snapshot: true }), { code: 'INVALID_REQUEST' }, 'snapshot picking a partition')
  }
  const inserted = await c.request({ type: 'insert', resource: 'messages', data: { id: 'm1', content: 'x', channel: 'general' } })
  t.equal(inserted.type, 'inserted', 'ordinary values still work')
  t.match(await c.request({ type: 'update', resource: 'messages', id: 'm1', data: { channel: '../../x' } }), { code: 'INVALID_REQUEST', details: { field: '/data/channel' } }, 'update moving to an unsafe partition')
  for (const partition of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
    t.match(await c.request({ type: 'list', resource: 'messages', partition }), { code: 'INVALID_REQUEST', details: { field: '/partition' } }, `partition ${partition}`)
  }
  t.same(await db.resources.users!.get('victim').then((u) => u.name), 'Victim', 'the unexposed resource is untouched')
  t.same((await readdir(root)).sort(), ['data'], 'nothing was written outside the data directory')
  t.same((await db.resources.messages!.list()).map((m) => m.id), ['m1'])
})

t.test('protected paths through arrays: stripped from get, list and events; filters reaching them refused', async (t) => {
  const db = await createDatabase(t, { resources: false })
  await db.createResource({ name: 'orders', attributes: { title: 'string', items: 'array|optional' } } as Parameters<Db['createResource']>[0])
  const { client } = await buildApp(t, { resources: { orders: { protected: ['items.secret'] } } }, { db })
  const c = await client()
  await c.request({ type: 'subscribe', resource: 'orders' })
  await db.resources.orders!.insert({ id: 'o1', title: 'x', items: [{ name: 'a', secret: 'S1' }, { name: 'b', secret: 'S2' }] })
  const event = await c.waitType('event')
  const got = await c.request({ type: 'get', resource: 'orders', id: 'o1' })
  const listed = await c.request({ type: 'list', resource: 'orders' })
  for (const [label, data] of [['event', event.data], ['get', got.data], ['list', listed.data[0]]] as const) {
    t.same(data.items, [{ name: 'a' }, { name: 'b' }], `${label}: secret removed from every element`)
    t.notMatch(JSON.stringify(data), /S1|S2/)
  }
  for (const filter of [{ 'items.0.secret': 'S1' }, { 'items.1.secret': 'nope' }, { items: { 0: { secret: 'S1' } } }, { 'items.secret': 'S1' }]) {
    t.match(await c.request({ type: 'list', resource: 'orders', filter }), { type: 'error', code: 'FORBIDDEN' }, `list ${JSON.stringify(filter)}`)
    t.match(await c.request({ type: 'subscribe', resource: 'orders', filter }), { type: 'error', code: 'FORBIDDEN' }, `subscribe ${JSON.stringify(filter)}`)
  }
  t.equal(((await db.resources.orders!.get('o1')).items as unknown[]).length, 2, 'stored record untouched')
  t.match(await c.request({ type: 'update', resource: 'orders', id: 'o1', data: { items: [{ name: 'a', secret: 'guess' }] } }), { code: 'FORBIDDEN', details: { field: '/data/items/secret' } }, 'cannot write a protected path inside an array')
  t.match(await c.request({ type: 'update', resource: 'orders', id: 'o1', data: { items: [] } }), { code: 'FORBIDDEN' }, 'cannot erase one either')
})

t.test('protected means server-only: writes that set, change or erase one are FORBIDDEN; writeOnly opts a field in', async (t) => {
  const { client, db } = await buildApp(t, {
    resources: { messages: { protected: ['meta.secret'] }, users: { protected: ['role'], writeOnly: ['password'] } }
  })
  const c = await client()
  await db.resources.messages!.insert({ id: 'm1', content: 'x', channel: 'c', meta: { kind: 'k', secret: 'S' } })
  t.match(await c.request({ type: 'insert', resource: 'users', data: { name: 'Eve', role: 'admin' } }), { code: 'FORBIDDEN', details: { field: '/data/role' } })
  t.match(await c.request({ type: 'insert', resource: 'messages', data: { content: 'x', channel: 'c', meta: { secret: 'mine' } } }), { code: 'FORBIDDEN', details: { field: '/data/meta/secret' } })
  t.match(await c.request({ type: 'update', resource: 'messages', id: 'm1', data: { meta: { secret: 'changed' } } }), { code: 'FORBIDDEN', details: { field: '/data/meta/secret' } })
  t.match(await c.request({ type: 'update', resource: 'messages', id: 'm1', data: { meta: null } }), { code: 'FORBIDDEN' }, 'erasing the parent erases the protected value')
  const kind = await c.request({ type: 'update', resource: 'messages', id: 'm1', data: { meta: { kind: 'k2' } } })
  t.equal(kind.type, 'updated', 'a sibling of a protected field is writable')
  t.same((await db.resources.messages!.get('m1')).meta, { kind: 'k2', secret: 'S' }, 'the protected value survived the merge')
  const signUp = await c.request({ type: 'insert', resource: 'users', data: { id: 'eve', name: 'Eve', password: 'pw' } })
  t.equal(signUp.type, 'inserted', 'writeOnly field written')
  t.notOk('password' in signUp.data, 'and never sent back')
  t.equal((await db.resources.users!.get('eve')).password, 'pw')
  t.notOk('password' in (await c.request({ type: 'get', resource: 'users', id: 'eve' })).data)
  t.match(await c.request({ type: 'list', resource: 'users', filter: { password: 'pw' } }), { code: 'FORBIDDEN' }, 'writeOnly fields cannot be filtered on either')
})

t.test('a client-chosen id tells a restricted caller nothing about records outside its view', async (t) => {
  const { db, as } = await tenantApp(t)
  await db.resources.documents!.insert({ id: 'b1', tenantId: 'B', title: 'theirs' })
  const alice = await as('alice', 'A')
  const taken = await alice.request({ type: 'insert', resource: 'documents', data: { id: 'b1', tenantId: 'A', title: 'probe' } })
  const free = await alice.request({ type: 'insert', resource: 'documents', data: { id: 'never-used', tenantId: 'A', title: 'probe' } })
  t.same({ ...taken, requestId: 0 }, { ...free, requestId: 0 }, 'the same answer whether the id exists elsewhere or not')
  t.match(taken, { code: 'INVALID_REQUEST', details: { field: '/data/id' } })
  t.equal((await db.resources.documents!.get('b1')).title, 'theirs')
  const server = await alice.request({ type: 'insert', resource: 'documents', data: { tenantId: 'A', title: 'ok' } })
  t.equal(server.type, 'inserted', 'server-assigned ids work')

  const open = await buildApp(t, { resources: { messages: { guard: { list: () => ({ channel: 'c' }) }, clientIds: true } } })
  const c = await open.client()
  t.equal((await c.request({ type: 'insert', resource: 'messages', data: { id: 'chosen', content: 'x', channel: 'c' } })).type, 'inserted', 'clientIds: true allows it')
})

t.test('operator-shaped filters that are not operators on a field are INVALID_REQUEST, not a literal path', async (t) => {
  const { client, db } = await buildApp(t)
  await db.resources.messages!.insert({ id: 'm1', content: 'x', channel: 'c' })
  const c = await client()
  for (const filter of [{ content: { $regex: '' } }, { $or: [{ content: 'x' }] }, { 'content.$ne': 'y' }, { content: { $gt: '', channel: 'c' } }]) {
    t.match(await c.request({ type: 'list', resource: 'messages', filter }), { code: 'INVALID_REQUEST' }, `list ${JSON.stringify(filter)}`)
    t.match(await c.request({ type: 'subscribe', resource: 'messages', filter }), { code: 'INVALID_REQUEST' }, `subscribe ${JSON.stringify(filter)}`)
  }
})

t.test('a resource guarded only by subscribe: a write cannot land where the writer could not subscribe', async (t) => {
  const { client, db } = await buildApp(t, {
    auth: { drivers: [{ driver: 'jwt', config: { secret: 'test-secret-that-is-long-enough-for-hs256' } }] },
    resources: { users: { guard: { subscribe: (user, filter) => ({ ...filter, tenantId: String(user?.tenantId) }) } } }
  })
  const alice = await client(`?token=${hsToken({ sub: 'alice', tenantId: 'A' })}`)
  const bob = await client(`?token=${hsToken({ sub: 'bob', tenantId: 'B' })}`)
  await bob.request({ type: 'subscribe', resource: 'users' })
  t.match(await alice.request({ type: 'insert', resource: 'users', data: { name: 'x', tenantId: 'B' } }), { code: 'FORBIDDEN' })
  await db.resources.users!.insert({ id: 'a1', name: 'mine', tenantId: 'A' })
  t.match(await alice.request({ type: 'update', resource: 'users', id: 'a1', data: { tenantId: 'B' } }), { code: 'FORBIDDEN' })
  await db.resources.users!.insert({ id: 'b1', name: 'theirs', tenantId: 'B' })
  t.match(await alice.request({ type: 'update', resource: 'users', id: 'b1', data: { name: 'pwned' } }), { code: 'FORBIDDEN' })
  t.match(await alice.request({ type: 'delete', resource: 'users', id: 'b1' }), { code: 'FORBIDDEN' })
  t.ok(await db.resources.users!.exists('b1'), 'tenant B record survived')
  t.equal((await alice.request({ type: 'insert', resource: 'users', data: { name: 'y', tenantId: 'A' } })).type, 'inserted')
  await bob.request({ type: 'ping' })
  t.same(bob.ofType('event').map((e) => e.data.id), ['b1'], 'tenant B heard only its own record')
})

t.test('attack review round 2: reserved file names, long and ill-formed strings, values s3db rewrites, same-value oracle, truthful subscribed', async (t) => {
  const { mkdtemp, rm } = await import('node:fs/promises')
  const { tmpdir } = await import('node:os')
  const { join } = await import('node:path')
  const root = await mkdtemp(join(tmpdir(), 's3db-rt-'))
  t.teardown(async () => { await rm(root, { recursive: true, force: true }) })
  const db = await createDatabase(t, { connectionString: `file://${join(root, 'data')}` })
  const { client } = await buildApp(t, {
    auth: { drivers: [{ driver: 'jwt', config: { secret: 'test-secret-that-is-long-enough-for-hs256' } }] },
    resources: {
      messages: { protected: ['meta.secret'] },
      users: { guard: { list: (user) => ({ tenantId: String(user?.tenantId) }), subscribe: (user) => ({ tenantId: String(user?.tenantId) }), create: (user, data) => { data.tenantId = String(user?.tenantId); return true } } }
    }
  }, { db })
  const anon = await client()
  const victim = await anon.request({ type: 'insert', resource: 'messages', data: { content: 'mine', channel: 'c', meta: { kind: 'k' } } })
  const victimId = victim.data.id as string
  for (const id of [`${victimId}.meta.json`, `${victimId}.META.JSON`, 'x'.repeat(201), 'é'.repeat(101), 'a\ud800b']) {
    t.match(await anon.request({ type: 'insert', resource: 'messages', data: { id, content: 'x', channel: 'c' } }), { code: 'INVALID_REQUEST', details: { field: '/data/id' } }, `id ${JSON.stringify(id.slice(0, 30))}`)
    t.match(await anon.request({ type: 'get', resource: 'messages', id }), { code: 'INVALID_REQUEST' })
    t.match(await anon.request({ type: 'insert', resource: 'messages', data: { content: 'x', channel: id } }), { code: 'INVALID_REQUEST' })
    t.match(await anon.request({ type: 'list', resource: 'messages', filter: { channel: id } }), { code: 'INVALID_REQUEST' })
  }
  t.match(await anon.request({ type: 'insert', resource: 'messages', data: { content: 'abcdefgh\ud800', channel: 'c' } }), { code: 'INVALID_REQUEST', details: { field: '/data/content' } }, 'lone surrogate in a value')
  t.equal((await anon.request({ type: 'get', resource: 'messages', id: victimId })).data.content, 'mine', 'the victim record is intact')
  t.equal((await anon.request({ type: 'list', resource: 'messages' })).type, 'data', 'listing still works')

  await db.resources.messages!.update(victimId, { meta: { kind: 'k', secret: 'S3CRET' } })
  for (const meta of [{ secret: 'S3CRET' }, { secret: 'wrong' }, { kind: 'k', secret: 'S3CRET' }]) {
    t.match(await anon.request({ type: 'update', resource: 'messages', id: victimId, data: { meta } }), { code: 'FORBIDDEN', details: { field: '/data/meta/secret' } }, `same answer for ${JSON.stringify(meta)}`)
  }

  for (const tenantId of ['B ', ' B', 'null', 'undefined']) {
    const odd = await client(`?token=${hsToken({ sub: `odd-${tenantId}`, tenantId })}`)
    t.match(await odd.request({ type: 'insert', resource: 'users', data: { name: 'x' } }), { code: 'FORBIDDEN' }, `tenant ${JSON.stringify(tenantId)}: s3db would store another value`)
  }
  const b = await client(`?token=${hsToken({ sub: 'b', tenantId: 'B' })}`)
  t.same((await b.request({ type: 'list', resource: 'users' })).data, [], 'nothing landed in tenant B')
  const sub = await b.request({ type: 'subscribe', resource: 'users', filter: { tenantId: 'A' } })
  t.equal(sub.matchesNothing, true, 'a filter that contradicts the forced one says it will receive nothing')
  t.notOk((await b.request({ type: 'subscribe', resource: 'users' })).matchesNothing)
})
