// Black-box conformance: PROTOCOL.md section 4 — the upgrade runs Fastify's hooks (JWT, CORS
// origin check, connection rate limit) before any socket opens; health and metrics routes.
import t from 'tap'
import { buildApp } from '../helpers/app.js'
import { hsToken, SECRET } from '../helpers/jwt.js'
import { tryUpgrade } from '../helpers/upgrade.js'

const jwtAuth = { drivers: [{ driver: 'jwt' as const, config: { secret: SECRET } }] }

t.test('auth.required: missing or invalid token gets 401 before any socket opens', async (t) => {
  const { url, client } = await buildApp(t, { auth: { required: true, ...jwtAuth } })
  t.equal((await tryUpgrade(url)).status, 401, 'no token')
  t.equal((await tryUpgrade(url + '?token=garbage')).status, 401, 'garbage token')
  const wrong = hsToken({ sub: 'u' }, { secret: 'another-secret-another-secret-another' })
  t.equal((await tryUpgrade(url + '?token=' + wrong)).status, 401, 'wrong signature')
  t.equal((await tryUpgrade(url, { authorization: 'Bearer ' + wrong })).status, 401, 'wrong signature in header')
  const expired = hsToken({ sub: 'u', exp: Math.floor(Date.now() / 1000) - 60 })
  t.equal((await tryUpgrade(url + '?token=' + expired)).status, 401, 'expired token')
  t.equal((await tryUpgrade(url + '?token=' + hsToken({ sub: 'u' }))).status, 101, 'valid ?token=')
  t.equal((await tryUpgrade(url, { authorization: 'Bearer ' + hsToken({ sub: 'u' }) })).status, 101, 'valid Authorization header')
  const viaHeader = await client('', { authorization: 'Bearer ' + hsToken({ sub: 'hdr', role: 'admin' }) })
  const info = await viaHeader.request({ type: 'ping' })
  t.equal(info.type, 'pong')
})

t.test('CORS: a disallowed Origin gets 403 before any socket opens', async (t) => {
  const { url } = await buildApp(t, { cors: { enabled: true, origin: 'http://good.example' } })
  t.equal((await tryUpgrade(url, { origin: 'http://evil.example' })).status, 403)
  t.equal((await tryUpgrade(url, { origin: 'http://good.example' })).status, 101)
  t.equal((await tryUpgrade(url)).status, 101, 'no Origin (non-browser client)')
})

t.test('connection rate limit per IP: 429', async (t) => {
  const { url } = await buildApp(t, { connectionRateLimit: { enabled: true, max: 2, timeWindow: 60_000 } })
  t.equal((await tryUpgrade(url)).status, 101)
  t.equal((await tryUpgrade(url)).status, 101)
  t.equal((await tryUpgrade(url)).status, 429)
})

t.test('GET /health, /health/live, /health/ready', async (t) => {
  const { app } = await buildApp(t, { health: true }) // opt-in in the Fastify plugin
  const health = await app.inject('/health')
  t.equal(health.statusCode, 200)
  t.equal(health.json().status, 'ok')
  const live = await app.inject('/health/live')
  t.equal(live.statusCode, 200)
  const ready = await app.inject('/health/ready')
  t.equal(ready.statusCode, 200, ready.body)
  t.ok(ready.json().checks, 'per-check detail')
})

t.test('readiness: custom checks with timeout and optional; 503 with per-check detail', async (t) => {
  const { app } = await buildApp(t, {
    health: {
      readiness: {
        checks: [
          { name: 'slow', timeout: 100, check: async () => await new Promise<boolean>((resolve) => setTimeout(() => resolve(true), 2000)) },
          { name: 'flaky', optional: true, check: async () => false },
          { name: 'fine', check: () => true }
        ]
      }
    }
  })
  const ready = await app.inject('/health/ready')
  t.equal(ready.statusCode, 503)
  const body = ready.json()
  const checks = JSON.stringify(body.checks)
  t.match(checks, /slow/)
  t.match(checks, /flaky/)
  t.match(checks, /fine/)
  t.equal(body.checks.slow?.status, 'unhealthy', 'the timed-out check is unhealthy')
  t.match(String(body.checks.slow?.error), /time/, 'and says it timed out')
  t.equal(body.checks.fine?.status, 'healthy')

  const { app: app2 } = await buildApp(t, {
    health: { readiness: { checks: [{ name: 'flaky', optional: true, check: async () => false }] } }
  })
  const ok = await app2.inject('/health/ready')
  t.equal(ok.statusCode, 200, 'a failing optional check does not make the instance unready')
  t.match(JSON.stringify(ok.json().checks), /flaky/, 'but it is reported')
})

t.test('GET /metrics in Prometheus text format', async (t) => {
  const { app, client } = await buildApp(t, { metrics: true }) // opt-in in the Fastify plugin
  const c = await client()
  await c.request({ type: 'ping' })
  const res = await app.inject('/metrics')
  t.equal(res.statusCode, 200)
  t.match(String(res.headers['content-type']), /text\/plain/)
  t.match(res.body, /# TYPE \S+ (gauge|counter|histogram)/)
  t.match(res.body, /connections\S* 1/, 'open connection counted')
})
