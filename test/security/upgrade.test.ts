import t from 'tap'
import Fastify from 'fastify'
import { Redis } from 'ioredis'
import s3dbRealtime from '../../src/index.js'
import { buildApp } from '../helpers/app.js'
import { createDatabase } from '../helpers/db.js'
import { startRedis } from '../helpers/redis.js'
import { tryUpgrade } from '../helpers/upgrade.js'

t.test('cors.origin is enforced on the upgrade: 403 before the handshake (CSWSH)', async (t) => {
  const { url, app } = await buildApp(t, { cors: { origin: ['https://app.example', /^https:\/\/[a-z]+\.trusted\.example$/] } })
  let connects = 0
  app.realtime.on('client.connected', () => { connects++ })
  const evil = await tryUpgrade(url, { origin: 'https://evil.example' })
  t.equal(evil.status, 403)
  t.match(JSON.parse(evil.body), { code: 'FORBIDDEN' })
  t.equal((await tryUpgrade(url, { origin: 'https://app.example.evil.example' })).status, 403, 'no prefix matching')
  t.equal((await tryUpgrade(url, { origin: 'https://app.example' })).status, 101)
  t.equal((await tryUpgrade(url, { origin: 'https://eu.trusted.example' })).status, 101, 'RegExp entry')
  t.equal((await tryUpgrade(url)).status, 101, 'no Origin header: a non-browser client')
  t.equal(connects, 3)
})

t.test('origin check runs before auth, and a function origin works', async (t) => {
  const { url } = await buildApp(t, {
    cors: { origin: (origin: string) => origin.endsWith('.good.example') },
    auth: { required: true, drivers: [{ driver: 'apiKey', config: { keys: { k1: { id: 'svc' } } } }] }
  })
  t.equal((await tryUpgrade(`${url}?token=k1`, { origin: 'https://x.bad.example' })).status, 403, 'even with a valid key')
  t.equal((await tryUpgrade(url, { origin: 'https://x.good.example' })).status, 401, 'allowed origin, then auth')
  t.equal((await tryUpgrade(`${url}?token=k1`, { origin: 'https://x.good.example' })).status, 101)
})

t.test('cors options reach REST routes through @fastify/cors; disabled cors checks nothing', async (t) => {
  const db = await createDatabase(t)
  const app = Fastify({ logger: false })
  await app.register(s3dbRealtime, { database: db, resources: { messages: true }, cors: { origin: 'https://app.example', credentials: true } })
  app.get('/api/ping', async () => ({ ok: true }))
  await app.ready()
  t.teardown(async () => { await app.close() })
  const allowed = await app.inject({ url: '/api/ping', headers: { origin: 'https://app.example' } })
  t.equal(allowed.headers['access-control-allow-origin'], 'https://app.example')
  t.equal(allowed.headers['access-control-allow-credentials'], 'true')
  const denied = await app.inject({ url: '/api/ping', headers: { origin: 'https://evil.example' } })
  t.not(denied.headers['access-control-allow-origin'], 'https://evil.example', 'the browser is never told the other origin is allowed')

  const open = await buildApp(t, { cors: { enabled: false, origin: 'https://app.example' } })
  t.equal((await tryUpgrade(open.url, { origin: 'https://evil.example' })).status, 101)
  for (const cors of [{ origin: 5 }, { enabled: 'yes' }, 'x', { origin: [] }]) {
    await t.rejects(buildApp(t, { cors } as never), { code: 'S3DB_REALTIME_INVALID_OPTION' }, JSON.stringify(cors))
  }
})

t.test('connection rate limit per IP on the upgrade: 429 past max; off by default', async (t) => {
  const { url } = await buildApp(t, { connectionRateLimit: { max: 3, timeWindow: 60_000 } })
  const statuses: number[] = []
  for (let i = 0; i < 5; i++) statuses.push((await tryUpgrade(url)).status)
  t.same(statuses, [101, 101, 101, 429, 429])

  const unlimited = await buildApp(t)
  const many: number[] = []
  for (let i = 0; i < 20; i++) many.push((await tryUpgrade(unlimited.url)).status)
  t.ok(many.every((s) => s === 101), 'no limit unless configured')
  for (const connectionRateLimit of [{ max: 0 }, { timeWindow: -1 }, { keyGenerator: 1 }, { what: 1 }]) {
    await t.rejects(buildApp(t, { connectionRateLimit } as never), { code: 'S3DB_REALTIME_INVALID_OPTION' })
  }
})

t.test('connection rate limit shares its counters through Redis across instances', async (t) => {
  const redisServer = await startRedis(t)
  const redis = new Redis(redisServer.url, { maxRetriesPerRequest: 1 })
  t.teardown(async () => { await redis.quit() })
  const options = { connectionRateLimit: { max: 3, timeWindow: 60_000, redis } }
  const a = await buildApp(t, options)
  const b = await buildApp(t, options)
  const statuses = [
    (await tryUpgrade(a.url)).status,
    (await tryUpgrade(b.url)).status,
    (await tryUpgrade(a.url)).status,
    (await tryUpgrade(b.url)).status
  ]
  t.same(statuses, [101, 101, 101, 429], 'the fourth attempt, on either instance, is over the shared limit')
  t.equal(redis.status, 'ready', 'the caller-owned client is left open')
})
