import { createHash, randomUUID } from 'node:crypto'
import t from 'tap'
import { Redis } from 'ioredis'
import { buildApp } from '../helpers/app.js'
import { createDatabase } from '../helpers/db.js'
import { SECRET } from '../helpers/jwt.js'
import { startRedis } from '../helpers/redis.js'
import { tryUpgrade } from '../helpers/upgrade.js'
import { until } from '../helpers/wait.js'

const required = { auth: { required: true, drivers: [{ driver: 'jwt' as const, config: { secret: SECRET } }] } }

t.test('one user minting tickets evicts only their own oldest, never another user\'s', async (t) => {
  const { url, app } = await buildApp(t, {
    ...required,
    tickets: { maxOutstanding: 20, route: { authenticate: (request) => ({ id: String(request.headers['x-user']) }) } }
  })
  const alice = app.realtime.issueTicket({ id: 'alice' })
  // Mallory mints far more than maxOutstanding, through the server API and the route.
  const minted: string[] = []
  for (let i = 0; i < 30; i++) minted.push(app.realtime.issueTicket({ id: 'mallory' }).ticket)
  for (let i = 0; i < 20; i++) {
    const res = await app.inject({ method: 'POST', url: '/ws/ticket', headers: { 'x-user': 'mallory' } })
    minted.push(res.json<{ ticket: string }>().ticket)
  }
  t.equal((await tryUpgrade(`${url}?ticket=${alice.ticket}`)).status, 101, 'alice\'s pending ticket survived')
  const outcomes = []
  for (const ticket of minted) outcomes.push((await tryUpgrade(`${url}?ticket=${ticket}`)).status)
  t.same(outcomes, [...Array(40).fill(401), ...Array(10).fill(101)], 'mallory keeps only her 10 newest (the default maxPerUser)')
})

t.test('maxPerUser is an option, validated', async (t) => {
  const { url, app } = await buildApp(t, { ...required, tickets: { maxPerUser: 2 } })
  const issued = [1, 2, 3].map(() => app.realtime.issueTicket({ id: 'u' }).ticket)
  const other = app.realtime.issueTicket({ id: 'v' }).ticket
  const outcomes = []
  for (const ticket of [...issued, other]) outcomes.push((await tryUpgrade(`${url}?ticket=${ticket}`)).status)
  t.same(outcomes, [401, 101, 101, 101])
  for (const maxPerUser of [0, -1, 1.5, '3']) {
    await t.rejects(buildApp(t, { ...required, tickets: { maxPerUser } } as never), { code: 'S3DB_REALTIME_INVALID_OPTION', message: /tickets\.maxPerUser/ }, String(maxPerUser))
  }
})

t.test('clustered: a user\'s oldest tickets are withdrawn from Redis; other users\' stay', async (t) => {
  const redis = await startRedis(t)
  const bucket = `memory://tickets-cap-${randomUUID()}/db`
  const options = { ...required, redis: redis.url, tickets: { maxPerUser: 3 } }
  const a = await buildApp(t, options, { db: await createDatabase(t, { connectionString: bucket }) })
  const b = await buildApp(t, options, { db: await createDatabase(t, { connectionString: bucket }) })
  const admin = new Redis(redis.url)
  t.teardown(() => { admin.disconnect() })
  const stored = async (): Promise<number> => (await admin.keys('*ticket*')).length

  const carol = a.app.realtime.issueTicket({ id: 'carol' }).ticket
  const minted = Array.from({ length: 8 }, () => a.app.realtime.issueTicket({ id: 'mallory' }).ticket)
  // Stashes and withdrawals are asynchronous but sent in order: once the last ticket is stored,
  // every earlier withdrawal has run too.
  const last = createHash('sha256').update(minted[7] as string).digest('base64url')
  await until(async () => (await admin.keys(`*${last}`)).length === 1, 'the last ticket to be stored')
  t.equal(await stored(), 4, 'Redis holds carol\'s ticket and mallory\'s newest three')
  t.equal((await tryUpgrade(`${b.url}?ticket=${carol}`)).status, 101, 'carol\'s ticket works on the other instance')
  const outcomes = []
  for (const ticket of minted) outcomes.push((await tryUpgrade(`${b.url}?ticket=${ticket}`)).status)
  t.same(outcomes, [401, 401, 401, 401, 401, 101, 101, 101])
})
