import t from 'tap'
import type { Test } from 'tap'
import { buildApp } from '../helpers/app.js'
import type { Message, TestClient } from '../helpers/client.js'
import { createDatabase, type Db } from '../helpers/db.js'
import { hsToken, SECRET } from '../helpers/jwt.js'
import { until } from '../helpers/wait.js'
import type { ResourceConfig } from '../../src/index.js'

// Every operator, over real sockets and the real (in-memory) s3db, on list, live subscribe,
// `since` replay, snapshot, and as a guard's forced filter: one matcher, one meaning.

const jwt = { auth: { drivers: [{ driver: 'jwt' as const, config: { secret: SECRET } }] } }

const ORDERS = [
  { id: 'o1', region: 'eu', total: 50, name: 'alpha', tag: 'x', placedAt: '2024-01-10T00:00:00.000Z' },
  { id: 'o2', region: 'eu', total: 150, name: 'beta', placedAt: '2024-02-10T00:00:00.000Z' },
  { id: 'o3', region: 'us', total: 250, name: 'alpine', tag: 'y', placedAt: '2024-03-10T00:00:00.000Z' },
  { id: 'o4', region: 'us', total: 100, name: 'gamma', tag: 'z', placedAt: '2024-02-20T00:00:00.000Z' }
]

/** One case per operator: the filter and the ids of ORDERS it matches. */
const CASES: Array<{ op: string, filter: Record<string, unknown>, ids: string[] }> = [
  { op: '$eq', filter: { region: { $eq: 'eu' } }, ids: ['o1', 'o2'] },
  { op: '$ne', filter: { region: { $ne: 'eu' } }, ids: ['o3', 'o4'] },
  { op: '$gt', filter: { total: { $gt: 100 } }, ids: ['o2', 'o3'] },
  { op: '$gte', filter: { total: { $gte: 100 } }, ids: ['o2', 'o3', 'o4'] },
  { op: '$lt', filter: { total: { $lt: 100 } }, ids: ['o1'] },
  { op: '$lte', filter: { total: { $lte: 100 } }, ids: ['o1', 'o4'] },
  { op: '$in', filter: { tag: { $in: ['x', 'z', 'w'] } }, ids: ['o1', 'o4'] },
  { op: '$nin', filter: { tag: { $nin: ['x', 'y'] } }, ids: ['o2', 'o4'] },
  { op: '$exists', filter: { tag: { $exists: false } }, ids: ['o2'] },
  { op: '$prefix', filter: { name: { $prefix: 'alp' } }, ids: ['o1', 'o3'] },
  { op: 'date range', filter: { placedAt: { $gte: '2024-02-01', $lt: '2024-03-01' } }, ids: ['o2', 'o4'] },
  { op: 'equality + range', filter: { region: 'us', total: { $gt: 100 } }, ids: ['o3'] }
]

async function ordersDb (t: Test): Promise<Db> {
  const db = await createDatabase(t)
  await db.createResource({
    name: 'orders',
    attributes: { region: 'string|required', total: 'number|required', name: 'string|required', tag: 'string|optional', placedAt: 'string|required' },
    partitions: { byRegion: { fields: { region: 'string' } } }
  } as Parameters<Db['createResource']>[0])
  return db
}

const ids = (records: Array<{ id: string }>): string[] => records.map((r) => r.id).sort()
const eventIds = (client: TestClient): string[] => client.ofType('event').map((e: Message) => e.data.id as string).sort()

/**
 * Runs every case as a client filter (`forced: false`) or as the filter a `list` guard forces
 * on a user whose token names the case (`forced: true`, the client sends no filter).
 */
for (const forced of [false, true]) {
  const how = forced ? 'forced by a guard' : 'client filter'
  t.test(`each operator (${how}): list, snapshot, live subscribe and since-replay agree`, async (t) => {
    const db = await ordersDb(t)
    const orders: ResourceConfig = forced
      ? { guard: { list: (user) => CASES[Number(user?.case)]?.filter ?? false } }
      : true
    const { client } = await buildApp(t, { ...jwt, resources: { orders } }, { db })
    const as = async (i: number): Promise<TestClient> => await client(`?token=${hsToken({ sub: `u${i}`, case: i })}`)
    const filterOf = (i: number): Record<string, unknown> => forced ? {} : { filter: CASES[i]!.filter }

    // Before the writes: one live subscriber per case, and one that notes its seq and leaves.
    const live: TestClient[] = []
    const resume: Array<{ seq: number, epoch: string }> = []
    for (let i = 0; i < CASES.length; i++) {
      const ws = await as(i)
      const reply = await ws.request({ type: 'subscribe', resource: 'orders', ...filterOf(i) })
      t.equal(reply.type, 'subscribed', `${CASES[i]!.op}: subscribed`)
      t.notOk(reply.matchesNothing)
      live.push(ws)
      resume.push({ seq: reply.seq, epoch: reply.epoch })
    }
    const everything = forced ? null : await client()
    await everything?.request({ type: 'subscribe', resource: 'orders' })

    for (const order of ORDERS) await db.resources.orders!.insert(order)

    if (everything !== null) await until(() => everything.ofType('event').length === ORDERS.length, 'every insert fanned out')
    for (let i = 0; i < CASES.length; i++) {
      const { op, ids: expected } = CASES[i]!
      const ws = live[i]!
      if (forced) await until(() => ws.ofType('event').length >= expected.length, `${op}: live events`)
      await ws.request({ type: 'ping' }) // the fan-out wrote before this pong
      t.same(eventIds(ws), expected, `${op}: live subscribe`)

      const list = await ws.request({ type: 'list', resource: 'orders', ...filterOf(i) })
      t.same(ids(list.data), expected, `${op}: list`)

      const snapshot = await ws.request({ type: 'subscribe', resource: 'orders', ...filterOf(i), events: ['insert'], snapshot: true })
      t.same(ids(snapshot.snapshot.data), expected, `${op}: snapshot`)

      const again = await as(i)
      const replayed = await again.request({ type: 'subscribe', resource: 'orders', ...filterOf(i), since: resume[i]!.seq, epoch: resume[i]!.epoch })
      t.equal(replayed.type, 'subscribed')
      await again.request({ type: 'ping' }) // the replay is sent right after the reply
      t.same(eventIds(again), expected, `${op}: since replay`)
    }
  })
}

t.test('an update entering and leaving a range filter: plain while inside, left:true when it leaves, live and replayed', async (t) => {
  const db = await ordersDb(t)
  const { client } = await buildApp(t, { resources: { orders: true } }, { db })
  const ws = await client()
  const range = { total: { $gte: 100, $lt: 200 } }
  const sub = await ws.request({ type: 'subscribe', resource: 'orders', filter: range })
  const orders = db.resources.orders!
  await orders.insert({ id: 'r1', region: 'eu', total: 50, name: 'n', placedAt: '2024-01-01' }) // outside: nothing
  await orders.update('r1', { total: 150 }) // enters
  await orders.update('r1', { total: 180 }) // stays
  await orders.update('r1', { total: 250 }) // leaves
  await orders.update('r1', { total: 300 }) // outside: nothing
  await orders.update('r1', { total: 100 }) // enters again, at the inclusive bound
  const expected = [[150, false], [180, false], [250, true], [100, false]]
  await until(() => ws.ofType('event').length === expected.length, 'four events')
  await ws.request({ type: 'ping' })
  t.same(ws.ofType('event').map((e) => [e.data.total, e.left === true]), expected, 'live')

  const again = await client()
  await again.request({ type: 'subscribe', resource: 'orders', filter: range, since: sub.seq, epoch: sub.epoch })
  await again.request({ type: 'ping' })
  t.same(again.ofType('event').map((e) => [e.data.total, e.left === true]), expected, 'replayed with the same meaning')
})

t.test('leaving a range a guard forces sends only the id', async (t) => {
  const db = await ordersDb(t)
  const { client } = await buildApp(t, { resources: { orders: { guard: { subscribe: () => ({ total: { $lt: 200 } }) } } } }, { db })
  const ws = await client()
  const sub = await ws.request({ type: 'subscribe', resource: 'orders', filter: { region: 'eu' } })
  t.same(sub.filter, { region: 'eu', total: { $lt: 200 } }, 'the effective filter: both conditions')
  const orders = db.resources.orders!
  await orders.insert({ id: 'h1', region: 'eu', total: 150, name: 'secret-name', placedAt: '2024-01-01' })
  await orders.update('h1', { total: 500 }) // leaves the forced range
  await orders.update('h1', { total: 100, region: 'us' }) // back in range, but another region: not this subscription's
  await until(() => ws.ofType('event').length === 2, 'insert and left')
  await ws.request({ type: 'ping' })
  const [inserted, left] = ws.ofType('event')
  t.equal(inserted?.data.total, 150)
  t.same(left?.data, { id: 'h1' }, 'its new state is not the subscriber\'s to see')
  t.equal(left?.left, true)
  t.equal(ws.ofType('event').length, 2)
})

t.test('a guard forcing $in of the user\'s teams; the client narrows it with a range; a team outside matches nothing', async (t) => {
  const db = await ordersDb(t)
  const teams = { ann: ['eu', 'asia'] } as Record<string, string[]>
  const { client } = await buildApp(t, {
    ...jwt,
    resources: { orders: { guard: { list: (user) => ({ region: { $in: teams[String(user?.id)] ?? [] } }) } } }
  }, { db })
  for (const order of ORDERS) await db.resources.orders!.insert(order)
  const ann = await client(`?token=${hsToken({ sub: 'ann' })}`)
  t.same(ids((await ann.request({ type: 'list', resource: 'orders' })).data), ['o1', 'o2'])
  t.same(ids((await ann.request({ type: 'list', resource: 'orders', filter: { total: { $gt: 100 } } })).data), ['o2'])
  const narrowed = await ann.request({ type: 'subscribe', resource: 'orders', filter: { total: { $gt: 100 } } })
  t.same(narrowed.filter, { region: { $in: ['asia', 'eu'] }, total: { $gt: 100 } })
  t.notOk(narrowed.matchesNothing)
  const outside = await ann.request({ type: 'subscribe', resource: 'orders', filter: { region: 'us' } })
  t.same(outside.filter, { region: { $in: [] } }, 'reported truthfully: no region is both us and one of ann\'s')
  t.equal(outside.matchesNothing, true)
  t.same((await ann.request({ type: 'list', resource: 'orders', filter: { region: 'us' } })).data, [])
  await db.resources.orders!.insert({ id: 'o5', region: 'us', total: 999, name: 'n', placedAt: '2024-01-01' })
  await db.resources.orders!.insert({ id: 'o6', region: 'asia', total: 120, name: 'n', placedAt: '2024-01-01' })
  await until(() => ann.ofType('event').length === 1, 'the asia order')
  await ann.request({ type: 'ping' })
  t.same(eventIds(ann), ['o6'], 'the us order reached neither subscription')
  const nobody = await client(`?token=${hsToken({ sub: 'zed' })}`)
  t.same((await nobody.request({ type: 'list', resource: 'orders' })).data, [], 'no teams: an empty $in matches nothing')
})

t.test('list pages a range filter with the same cursor rules, and an equality picks the partition', async (t) => {
  const db = await ordersDb(t)
  const { client } = await buildApp(t, { resources: { orders: true } }, { db })
  for (let i = 0; i < 30; i++) {
    await db.resources.orders!.insert({ id: `p${String(i).padStart(2, '0')}`, region: i % 2 === 0 ? 'eu' : 'us', total: i * 10, name: 'n', placedAt: '2024-01-01' })
  }
  const ws = await client()
  for (const filter of [{ total: { $gte: 50, $lt: 250 } }, { region: 'eu', total: { $gte: 50, $lt: 250 } }]) {
    const seen: string[] = []
    let cursor: string | null = null
    do {
      const page: Message = await ws.request({ type: 'list', resource: 'orders', filter, limit: 4, ...(cursor === null ? {} : { cursor }) })
      t.ok(page.data.length <= 4)
      seen.push(...page.data.map((r: { id: string }) => r.id))
      cursor = page.cursor
    } while (cursor !== null)
    const expected = [...Array(30).keys()].filter((i) => i * 10 >= 50 && i * 10 < 250 && (!('region' in filter) || i % 2 === 0)).map((i) => `p${String(i).padStart(2, '0')}`)
    t.same(seen, expected, `${JSON.stringify(filter)}: every match once, in id order`)
  }
  const byPartition = await ws.request({ type: 'list', resource: 'orders', partition: 'byRegion', filter: { region: 'us', total: { $lt: 40 } } })
  t.same(ids(byPartition.data), ['p01', 'p03'])
})

t.test('refusals name the field: unknown operator, wrong operand type, oversized $in; protected fields whatever the operator', async (t) => {
  const db = await ordersDb(t)
  const { client } = await buildApp(t, { resources: { orders: true, users: { protected: ['password'] } } }, { db })
  const ws = await client()
  const invalid: Array<[Record<string, unknown>, string]> = [
    [{ total: { $regex: '1' } }, '/filter/total'],
    [{ total: { $gt: true } }, '/filter/total'],
    [{ total: { $gte: null } }, '/filter/total'],
    [{ region: { $in: 'eu' } }, '/filter/region'],
    [{ region: { $in: Array.from({ length: 101 }, (_, i) => `r${i}`) } }, '/filter/region'],
    [{ region: { $nin: Array.from({ length: 101 }, (_, i) => `r${i}`) } }, '/filter/region'],
    [{ name: { $prefix: 1 } }, '/filter/name'],
    [{ tag: { $exists: 'yes' } }, '/filter/tag'],
    [{ meta: { rank: { $lt: {} } } }, '/filter/meta.rank'],
    [{ total: { $gt: 1, region: 'eu' } }, '/filter/total'],
    [{ tags: ['a'] }, '/filter/tags']
  ]
  for (const type of ['list', 'subscribe']) {
    for (const [filter, field] of invalid) {
      const reply = await ws.request({ type, resource: 'orders', filter })
      t.match(reply, { type: 'error', code: 'INVALID_REQUEST', details: { field } }, `${type} ${JSON.stringify(filter).slice(0, 60)}`)
    }
    for (const password of [{ $exists: true }, { $prefix: 'a' }, { $gt: '' }, { $in: ['x'] }, { $ne: 'x' }]) {
      const reply = await ws.request({ type, resource: 'users', filter: { password } })
      t.match(reply, { type: 'error', code: 'FORBIDDEN', details: { field: '/filter/password' } }, `${type} password ${Object.keys(password)[0]}`)
    }
  }
  const ok = await ws.request({ type: 'list', resource: 'orders', filter: { region: { $in: Array.from({ length: 100 }, (_, i) => `r${i}`) } } })
  t.equal(ok.type, 'data', '100 values are allowed')
})

t.test('subscribing twice with the same operators is one subscription; unsubscribe by an operator filter', async (t) => {
  const db = await ordersDb(t)
  const { client } = await buildApp(t, { resources: { orders: true } }, { db })
  const ws = await client()
  const first = await ws.request({ type: 'subscribe', resource: 'orders', filter: { tag: { $in: ['b', 'a'] }, total: { $lt: 5, $gte: 1 } } })
  const second = await ws.request({ type: 'subscribe', resource: 'orders', filter: { total: { $gte: 1, $lt: 5 }, tag: { $in: ['a', 'b'] } } })
  t.equal(second.subscriptionId, first.subscriptionId, 'the same filter, written in another order')
  const gone = await ws.request({ type: 'unsubscribe', resource: 'orders', filter: { tag: { $in: ['a', 'b', 'a'] }, total: { $gte: 1, $lt: 5 } } })
  t.same(gone.subscriptionIds, [first.subscriptionId], 'found by the same filter, written differently')
  const watcher = await client()
  await watcher.request({ type: 'subscribe', resource: 'orders' })
  await db.resources.orders!.insert({ id: 'u1', region: 'eu', total: 2, name: 'n', tag: 'a', placedAt: '2024-01-01' })
  await watcher.waitType('event')
  await ws.request({ type: 'ping' })
  t.same(ws.ofType('event'), [], 'nothing after unsubscribing')
})

t.test('subscriptions without an equality or $in condition are counted in the scan-bucket gauge', async (t) => {
  const db = await ordersDb(t)
  const { client, url } = await buildApp(t, { metrics: true, resources: { orders: true } }, { db })
  const ws = await client()
  await ws.request({ type: 'subscribe', resource: 'orders', filter: { total: { $gt: 100 } } })
  await ws.request({ type: 'subscribe', resource: 'orders', filter: { name: { $prefix: 'a' }, region: { $ne: 'eu' } } })
  await ws.request({ type: 'subscribe', resource: 'orders', filter: { region: 'eu', total: { $gt: 100 } } })
  await ws.request({ type: 'subscribe', resource: 'orders', filter: { region: { $in: ['eu', 'us'] } } })
  await ws.request({ type: 'subscribe', resource: 'orders' })
  const gauge = async (): Promise<string | undefined> => {
    const text = await (await fetch(`${url.replace(/^ws:/, 'http:').replace(/\/ws$/, '')}/metrics`)).text()
    return text.split('\n').find((line) => line.startsWith('s3db_realtime_subscriptions_scanned{resource="orders"} '))
  }
  t.equal(await gauge(), 's3db_realtime_subscriptions_scanned{resource="orders"} 2', 'the range-only and the prefix/$ne subscriptions')
  await ws.request({ type: 'unsubscribe', resource: 'orders', filter: { total: { $gt: 100 } } })
  t.equal(await gauge(), 's3db_realtime_subscriptions_scanned{resource="orders"} 1')
})
