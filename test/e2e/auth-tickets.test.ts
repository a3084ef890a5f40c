import { randomUUID } from 'node:crypto'
import t from 'tap'
import { Redis } from 'ioredis'
import { buildApp, sleep } from '../helpers/app.js'
import { connect } from '../helpers/client.js'
import { createDatabase } from '../helpers/db.js'
import { SECRET } from '../helpers/jwt.js'
import { tryUpgrade } from '../helpers/upgrade.js'
import { startRedis } from '../helpers/redis.js'

const required = { auth: { required: true, drivers: [{ driver: 'jwt' as const, config: { secret: SECRET } }] } }

t.test('issueTicket: a ticket connects once as its user, then is refused', async (t) => {
  const { url, app } = await buildApp(t, required)
  const issued = app.realtime.issueTicket({ id: 'u1', role: 'member' })
  t.type(issued.ticket, 'string')
  t.ok(issued.ticket.length >= 40, 'long random ticket')
  t.ok(Date.parse(issued.expiresAt) > Date.now())
  const { client, connected } = await connect(`${url}?ticket=${issued.ticket}`)
  t.same(connected.user, { id: 'u1', role: 'member' })
  client.close()
  t.equal((await tryUpgrade(`${url}?ticket=${issued.ticket}`)).status, 401, 'single use')
  t.equal((await tryUpgrade(`${url}?ticket=made-up`)).status, 401, 'unknown ticket')
  const short = app.realtime.issueTicket({ id: 'u1' }, { ttlMs: 1 })
  await sleep(20)
  t.equal((await tryUpgrade(`${url}?ticket=${short.ticket}`)).status, 401, 'expired ticket')
  t.throws(() => app.realtime.issueTicket({ role: 'x' } as never), TypeError, 'a user needs an id')
})

t.test('two upgrades racing with one ticket: exactly one wins', async (t) => {
  const { url, app } = await buildApp(t, required)
  const { ticket } = app.realtime.issueTicket({ id: 'u1' })
  const results = await Promise.all([tryUpgrade(`${url}?ticket=${ticket}`), tryUpgrade(`${url}?ticket=${ticket}`)])
  t.same(results.map((r) => r.status).sort(), [101, 401])
})

t.test('opt-in POST <path>/ticket, protected by the app\'s authenticate hook', async (t) => {
  const { url, app } = await buildApp(t, {
    ...required,
    tickets: {
      ttlMs: 10_000,
      route: {
        authenticate: async (request) => request.headers['x-session'] === 'valid-session' ? { id: 'browser-user', role: 'member' } : null
      }
    }
  })
  const base = url.replace(/^ws/, 'http')
  const refused = await app.inject({ method: 'POST', url: '/ws/ticket' })
  t.equal(refused.statusCode, 401)
  t.equal(refused.json().code, 'UNAUTHORIZED')
  const res = await fetch(`${base}/ticket`, { method: 'POST', headers: { 'x-session': 'valid-session' } })
  t.equal(res.status, 200)
  t.equal(res.headers.get('cache-control'), 'no-store')
  const body = await res.json() as { ticket: string, expiresAt: string }
  const { client, connected } = await connect(`${url}?ticket=${body.ticket}`)
  t.same(connected.user, { id: 'browser-user', role: 'member' })
  client.close()
})

t.test('ticket route is off unless configured; invalid ticket options throw', async (t) => {
  const { app } = await buildApp(t)
  t.equal((await app.inject({ method: 'POST', url: '/ws/ticket' })).statusCode, 404)
  for (const tickets of [{ ttlMs: 0 }, { route: true }, { route: { authenticate: 'x' } }, { nope: 1 }, 'x']) {
    await t.rejects(buildApp(t, { tickets } as never), { code: 'S3DB_REALTIME_INVALID_OPTION' }, JSON.stringify(tickets))
  }
})

t.test('clustered: a ticket issued on one instance connects on another, once across the cluster', async (t) => {
  const redis = await startRedis(t)
  const bucket = `memory://tickets-${randomUUID()}/db`
  const options = {
    ...required,
    redis: redis.url,
    tickets: { route: { authenticate: async () => ({ id: 'roamer', role: 'member' }) } }
  }
  const a = await buildApp(t, options, { db: await createDatabase(t, { connectionString: bucket }) })
  const b = await buildApp(t, options, { db: await createDatabase(t, { connectionString: bucket }) })

  // The ticket route on A, the socket on B: what a load balancer without affinity does.
  const res = await fetch(`${a.url.replace(/^ws/, 'http')}/ticket`, { method: 'POST' })
  const { ticket } = await res.json() as { ticket: string }
  const { client, connected } = await connect(`${b.url}?ticket=${ticket}`)
  t.same(connected.user, { id: 'roamer', role: 'member' }, 'redeemed on the other instance')
  client.close()
  t.equal((await tryUpgrade(`${a.url}?ticket=${ticket}`)).status, 401, 'not again on the issuing instance')
  t.equal((await tryUpgrade(`${b.url}?ticket=${ticket}`)).status, 401, 'not again where it was used')

  // issueTicket() from the server API, raced on both instances: exactly one wins.
  const issued = a.app.realtime.issueTicket({ id: 'racer' })
  const raced = await Promise.all([tryUpgrade(`${a.url}?ticket=${issued.ticket}`), tryUpgrade(`${b.url}?ticket=${issued.ticket}`)])
  t.same(raced.map((r) => r.status).sort(), [101, 401], 'one upgrade per ticket across instances')

  // Redis never sees the credential itself.
  const admin = new Redis(redis.url)
  t.teardown(() => { admin.disconnect() })
  const kept = a.app.realtime.issueTicket({ id: 'stored' })
  let keys: string[] = []
  for (let i = 0; i < 100 && keys.length === 0; i++) {
    keys = await admin.keys('*ticket*')
    await sleep(10)
  }
  t.equal(keys.length, 1, 'the unused ticket is kept in Redis')
  t.notMatch(keys.join(' ') + (await admin.get(keys[0] as string) ?? ''), kept.ticket, 'under a hash, not the ticket itself')
  t.ok((await admin.pttl(keys[0] as string)) > 0, 'with the ticket lifetime as TTL')

  // Redis away: no ticket can be proven unused, so none is issued by the route or honoured.
  const held = a.app.realtime.issueTicket({ id: 'held' })
  for (let i = 0; i < 100 && (await admin.keys('*ticket*')).length < 2; i++) await sleep(10) // stored
  admin.disconnect()
  await redis.stop()
  for (let i = 0; i < 500 && a.app.realtime.busHealthy(); i++) await sleep(10)
  const refused = await fetch(`${a.url.replace(/^ws/, 'http')}/ticket`, { method: 'POST' })
  t.equal(refused.status, 503, 'the route says the ticket could not be stored')
  t.equal((await refused.json() as { code: string }).code, 'UNAVAILABLE')
  t.equal((await tryUpgrade(`${a.url}?ticket=${held.ticket}`)).status, 401, 'a stored ticket is refused while Redis is away')
})
