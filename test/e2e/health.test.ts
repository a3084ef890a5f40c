import t from 'tap'
import { WebSocketPlugin } from '../../src/index.js'
import { buildApp } from '../helpers/app.js'
import { createDatabase } from '../helpers/db.js'

const httpBase = (url: string): string => url.replace(/^ws:/, 'http:').replace(/\/ws$/, '')

async function getJson (url: string): Promise<{ status: number, body: any }> {
  const response = await fetch(url)
  return { status: response.status, body: await response.json() }
}

t.test('GET /health reports status, uptime, connections, subscriptions and endpoints', async (t) => {
  const { url, client } = await buildApp(t, { health: true, metrics: true }) // both opt-in in the Fastify plugin
  const ws = await client()
  await ws.request({ type: 'subscribe', resource: 'messages' })
  const { status, body } = await getJson(`${httpBase(url)}/health`)
  t.equal(status, 200)
  t.equal(body.status, 'ok')
  t.type(body.uptime, 'number')
  t.equal(body.connections, 1)
  t.equal(body.subscriptions, 1)
  t.same(body.endpoints, { health: '/health', liveness: '/health/live', readiness: '/health/ready', websocket: '/ws', metrics: '/metrics' })

  const live = await getJson(`${httpBase(url)}/health/live`)
  t.equal(live.status, 200)
  t.equal(live.body.status, 'alive')
})

t.test('GET /health/ready runs the built-in s3db round trip and websocket checks', async (t) => {
  const { url } = await buildApp(t, { health: true })
  const { status, body } = await getJson(`${httpBase(url)}/health/ready`)
  t.equal(status, 200)
  t.equal(body.status, 'healthy')
  t.equal(body.ready, true)
  t.equal(body.checks.s3db.status, 'healthy')
  t.equal(body.checks.s3db.connected, true)
  t.type(body.checks.s3db.latency_ms, 'number')
  t.equal(body.checks.websocket.status, 'healthy')
})

t.test('s3db check is unhealthy (503) once the database is disconnected', async (t) => {
  const db = await createDatabase(t)
  const { url } = await buildApp(t, { health: true }, { db })
  await db.disconnect()
  const { status, body } = await getJson(`${httpBase(url)}/health/ready`)
  t.equal(status, 503)
  t.equal(body.status, 'unhealthy')
  t.equal(body.checks.s3db.status, 'unhealthy')
  t.equal(body.checks.s3db.connected, false)
  t.equal(body.checks.websocket.status, 'healthy', 'the other checks still report')
})

t.test('custom readiness checks: failing, throwing and timing-out required checks give 503; optional ones do not', async (t) => {
  let downstreamUp = true
  const { url, app } = await buildApp(t, {
    health: {
      readiness: {
        checks: [
          { name: 'downstream', check: async () => ({ healthy: downstreamUp, region: 'eu' }) },
          { name: 'cache', optional: true, check: () => { throw new Error('cache offline') } },
          { name: 'slow', optional: true, timeout: 20, check: async () => await new Promise<boolean>(() => {}) }
        ]
      }
    }
  })
  let res = await getJson(`${httpBase(url)}/health/ready`)
  t.equal(res.status, 200, 'optional failures do not make the instance unready')
  t.equal(res.body.checks.downstream.status, 'healthy')
  t.equal(res.body.checks.downstream.region, 'eu', 'details from the check are kept')
  t.equal(res.body.checks.cache.status, 'unhealthy')
  t.equal(res.body.checks.cache.error, 'cache offline')
  t.equal(res.body.checks.slow.status, 'unhealthy')
  t.match(res.body.checks.slow.error, /timed out after 20ms/)

  downstreamUp = false
  res = await getJson(`${httpBase(url)}/health/ready`)
  t.equal(res.status, 503)
  t.equal(res.body.checks.downstream.status, 'unhealthy')

  downstreamUp = true
  app.realtime.addReadinessCheck({ name: 'hung', timeout: 30, check: async () => await new Promise<boolean>(() => {}) })
  res = await getJson(`${httpBase(url)}/health/ready`)
  t.equal(res.status, 503, 'a required check that times out makes the instance unready')
  t.match(res.body.checks.hung.error, /timed out/)
  t.throws(() => { app.realtime.addReadinessCheck({ name: 'hung', check: () => true }) }, { code: 'S3DB_REALTIME_INVALID_OPTION' }, 'duplicate names are refused')
})

t.test('health: false disables the routes; prefix moves them', async (t) => {
  const off = await buildApp(t, { health: false }, { before: (app) => { app.get('/health', async () => ({ mine: true })) } })
  const own = await getJson(`${httpBase(off.url)}/health`)
  t.same(own.body, { mine: true }, "the app's own /health is untouched")
  t.equal((await fetch(`${httpBase(off.url)}/health/ready`)).status, 404)

  const prefixed = await buildApp(t, { health: { prefix: '/ops' } }, { before: (app) => { app.get('/health', async () => ({ mine: true })) } })
  t.same((await getJson(`${httpBase(prefixed.url)}/health`)).body, { mine: true })
  const ready = await getJson(`${httpBase(prefixed.url)}/ops/health/ready`)
  t.equal(ready.status, 200)
  t.equal(ready.body.checks.s3db.status, 'healthy')
  t.equal((await getJson(`${httpBase(prefixed.url)}/ops/health`)).body.endpoints.readiness, '/ops/health/ready')
})

t.test('invalid health options are refused at register with a coded error', async (t) => {
  const db = await createDatabase(t)
  const cases: unknown[] = [
    { readiness: { checks: [{ name: 'x' }] } },
    { readiness: { checks: [{ name: 'x', check: () => true, timeout: -1 }] } },
    { readiness: { checks: [{ name: 's3db', check: () => true }] } },
    { prefix: 'ops' },
    { bogus: true },
    'yes'
  ]
  for (const health of cases) {
    await t.rejects(buildApp(t, { health: health as never }, { db }), { code: 'S3DB_REALTIME_INVALID_OPTION' }, JSON.stringify(health))
  }
})

t.test('WebSocketPlugin serves the health routes on its own port', async (t) => {
  const db = await createDatabase(t)
  const plugin = new WebSocketPlugin({ port: 0, host: '127.0.0.1', startupBanner: false, logLevel: 'silent', resources: { messages: true } })
  await db.usePlugin(plugin as never)
  t.teardown(async () => { await plugin.stop() })
  const { port } = plugin.getServerInfo()
  const ready = await getJson(`http://127.0.0.1:${port as number}/health/ready`)
  t.equal(ready.status, 200)
  t.equal(ready.body.checks.s3db.status, 'healthy')
  t.equal(ready.body.checks.websocket.status, 'healthy')
  const health = await getJson(`http://127.0.0.1:${port as number}/health`)
  t.equal(health.body.endpoints.websocket, '/')
  t.equal((await getJson(`http://127.0.0.1:${port as number}/health/live`)).body.status, 'alive')
  const metrics = await fetch(`http://127.0.0.1:${port as number}/metrics`)
  t.equal(metrics.status, 200, 'and /metrics')
  t.match(await metrics.text(), /\ns3db_realtime_connections 0\n/)
})
