import t, { type Test } from 'tap'
import type { RealtimeUser } from '../../src/index.js'
import { buildApp, type TestApp } from '../helpers/app.js'
import type { TestClient } from '../helpers/client.js'
import { createDatabase, type Db } from '../helpers/db.js'
import { hsToken } from '../helpers/jwt.js'

// Attack review round 3, finding 1: the write check modelled s3db's read-back by hand (strings
// only) and missed its number encoding (-1e-7 stored as 0, 1e-7 as "") and its string-array
// encoding (['null'] stored as null), so a restricted writer could store records outside its
// forced filter. Writes are now judged on s3db's own schema round trip, and values that do not
// survive it are refused.

const SECRET = 'test-secret-that-is-long-enough-for-hs256'

async function accountsApp (t: Test): Promise<TestApp & { alice: TestClient, admin: TestClient }> {
  const db = await createDatabase(t, { resources: false })
  await db.createResource({
    name: 'accounts',
    attributes: {
      orgId: 'number|required',
      name: 'string|optional',
      tags: 'array|items:string|optional',
      scores: 'array|items:number|optional',
      limits: { daily: 'number|optional', label: 'string|optional' },
      extra: 'object|optional'
    }
  } as Parameters<Db['createResource']>[0])
  const guard = (user: RealtimeUser | null): true | Record<string, unknown> =>
    user?.role === 'admin' ? true : { orgId: { $ne: 0 }, tags: { $ne: null }, 'limits.daily': { $ne: 0 } }
  const app = await buildApp(t, {
    auth: { drivers: [{ driver: 'jwt', config: { secret: SECRET } }] },
    resources: { accounts: { guard: { list: guard, subscribe: guard } } }
  }, { db })
  const alice = await app.client(`?token=${hsToken({ sub: 'alice', role: 'member' })}`)
  const admin = await app.client(`?token=${hsToken({ sub: 'root', role: 'admin' })}`)
  return { ...app, alice, admin }
}

const stored = async (db: Db): Promise<Array<Record<string, unknown>>> => await db.resources.accounts!.list() as Array<Record<string, unknown>>

t.test('numbers s3db cannot store exactly are refused on insert, update and insertMany', async (t) => {
  const { db, alice } = await accountsApp(t)
  t.match(await alice.request({ type: 'insert', resource: 'accounts', data: { orgId: 0, name: 'direct' } }), { code: 'FORBIDDEN' }, 'orgId 0 is outside the forced filter')
  for (const orgId of [-1e-7, -5e-9, -1e-300, 1e-7, 1e-10, 5e-324]) {
    const reply = await alice.request({ type: 'insert', resource: 'accounts', data: { orgId, name: 'injected' } })
    t.match(reply, { type: 'error', code: 'INVALID_REQUEST', details: { field: '/data/orgId' } }, `insert orgId ${orgId}`)
  }
  const nested = await alice.request({ type: 'insert', resource: 'accounts', data: { orgId: 5, limits: { daily: -1e-7 } } })
  t.match(nested, { code: 'INVALID_REQUEST', details: { field: '/data/limits/daily' } }, 'a nested number too')
  const numbers = await alice.request({ type: 'insert', resource: 'accounts', data: { orgId: 5, scores: [1, -1e-7] } })
  t.match(numbers, { code: 'INVALID_REQUEST', details: { field: '/data/scores' } }, 'an array element that changes')

  const ok = await alice.request({ type: 'insert', resource: 'accounts', data: { orgId: 7, name: 'fine', tags: ['a'], scores: [1.5, 2], limits: { daily: 0.000001 }, extra: { tiny: 1e-7 } } })
  t.equal(ok.type, 'inserted', 'ordinary values, and numbers inside an open object (stored as JSON), are written')
  const id = ok.data.id as string
  for (const data of [{ orgId: -1e-7 }, { orgId: 1e-7 }, { limits: { daily: -5e-9 } }]) {
    t.match(await alice.request({ type: 'update', resource: 'accounts', id, data }), { code: 'INVALID_REQUEST' }, `update ${JSON.stringify(data)}`)
  }
  const many = await alice.request({ type: 'insertMany', resource: 'accounts', data: [{ orgId: -1e-7 }, { orgId: 9 }, { orgId: 1e-10 }] })
  t.same(many.results.map((r: { ok: boolean, error?: { code: string } }) => r.ok ? 'ok' : r.error?.code), ['INVALID_REQUEST', 'ok', 'INVALID_REQUEST'], 'insertMany judges each item')

  const rows = await stored(db)
  t.same(rows.map((r) => r.orgId).sort(), [7, 9], 'nothing with orgId 0 or "" was stored')
  t.equal((rows.find((r) => r.id === id)?.limits as { daily?: number }).daily, 0.000001)
})

t.test('forced filters are judged on the round-tripped record: a numeric string s3db converts', async (t) => {
  const { db, alice } = await accountsApp(t)
  for (const orgId of ['0', ' 0 ', '0.0']) {
    const reply = await alice.request({ type: 'insert', resource: 'accounts', data: { orgId, name: 'converted' } })
    t.match(reply, { type: 'error', code: 'FORBIDDEN' }, `orgId ${JSON.stringify(orgId)} would be stored as 0`)
  }
  const ok = await alice.request({ type: 'insert', resource: 'accounts', data: { orgId: '12', name: 'converted' } })
  t.equal(ok.type, 'inserted', 'a numeric string s3db converts to an allowed number is fine')
  t.match(await alice.request({ type: 'update', resource: 'accounts', id: ok.data.id, data: { orgId: '0' } }), { code: 'FORBIDDEN' }, 'update too')
  t.same((await stored(db)).map((r) => r.orgId), [12], 'nothing stored with orgId 0')
})

t.test('string-array elements s3db would rewrite are refused', async (t) => {
  const { db, alice } = await accountsApp(t)
  for (const tags of [['null'], ['{"x":1}'], ['[1]'], ['']]) {
    const reply = await alice.request({ type: 'insert', resource: 'accounts', data: { orgId: 5, tags } })
    t.match(reply, { type: 'error', code: 'INVALID_REQUEST', details: { field: '/data/tags' } }, `insert tags ${JSON.stringify(tags)}`)
  }
  const ok = await alice.request({ type: 'insert', resource: 'accounts', data: { orgId: 5, tags: ['a,b', 'a|b', ' spaced '] } })
  t.equal(ok.type, 'inserted', 'separators and spaces survive')
  t.match(await alice.request({ type: 'update', resource: 'accounts', id: ok.data.id, data: { tags: ['null'] } }), { code: 'INVALID_REQUEST', details: { field: '/data/tags' } }, 'update')
  const many = await alice.request({ type: 'insertMany', resource: 'accounts', data: [{ orgId: 5, tags: ['null'] }] })
  t.match(many.results[0], { ok: false, error: { code: 'INVALID_REQUEST' } })
  t.same((await stored(db)).map((r) => r.tags), [['a,b', 'a|b', ' spaced ']], 'no record with tags null')
})

t.test('strings that s3db reads back as something else are refused; trimming is not', async (t) => {
  const { db, admin } = await accountsApp(t)
  for (const name of ['null', 'undefined', '[1]', '{"a":1}', '[object Object]']) {
    t.match(await admin.request({ type: 'insert', resource: 'accounts', data: { orgId: 1, name } }), { code: 'INVALID_REQUEST', details: { field: '/data/name' } }, `name ${JSON.stringify(name)}`)
  }
  const trimmed = await admin.request({ type: 'insert', resource: 'accounts', data: { orgId: 1, name: '  padded  ' } })
  t.equal(trimmed.type, 'inserted')
  t.equal((await db.resources.accounts!.get(trimmed.data.id as string)).name, 'padded', 's3db trims, as it always has')
})
