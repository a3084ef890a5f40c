import t, { type Test } from 'tap'
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import s3dbRealtime from '../../src/index.js'
import { buildApp } from '../helpers/app.js'
import { createDatabase, type Db } from '../helpers/db.js'

// The Fastify plugin lives in someone else's app: it must not take URLs the app did not ask
// for, must say which option clashes, and must let the app's own auth hooks treat probes and
// metrics the way it wants.

const httpBase = (url: string): string => url.replace(/^ws:/, 'http:').replace(/\/ws$/, '')

/**
 * An app with the pattern the README shows: one auth hook for the whole app, routes marked
 * `config.public` skipped. `credential` is the Authorization header it accepts (null: none).
 */
async function appWithAuthHook (t: Test, credential: string | null): Promise<{ db: Db, app: FastifyInstance }> {
  const db = await createDatabase(t)
  const app = Fastify({ logger: false })
  t.teardown(async () => { await app.close() })
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.routeOptions.config.public === true) return
    if (credential === null || request.headers.authorization !== credential) await reply.code(401).send({ error: 'Unauthorized' })
  })
  return { db, app }
}

t.test('plugin mode adds no health or metrics route unless asked: an app with its own /health registers fine', async (t) => {
  const { url } = await buildApp(t, {}, {
    before: (app) => {
      app.get('/health', async () => ({ mine: true }))
      app.get('/metrics', async () => 'app metrics')
    }
  })
  t.same(await (await fetch(`${httpBase(url)}/health`)).json(), { mine: true })
  t.equal(await (await fetch(`${httpBase(url)}/metrics`)).text(), 'app metrics')
  t.equal((await fetch(`${httpBase(url)}/health/ready`)).status, 404, 'nothing added next to it')
})

t.test('an opted-in route the app already has is a coded error naming the option', async (t) => {
  const db = await createDatabase(t)
  const cases: Array<[Record<string, unknown>, string, RegExp]> = [
    [{ health: true }, '/health', /GET \/health .*`health` option/],
    [{ health: { prefix: '/ops' } }, '/ops/health/ready', /GET \/ops\/health\/ready .*`health\.prefix`/],
    [{ metrics: true }, '/metrics', /GET \/metrics .*`metrics` option/],
    [{ metrics: { path: '/internal/metrics' } }, '/internal/metrics', /`metrics\.path`/]
  ]
  for (const [options, taken, message] of cases) {
    const app = Fastify({ logger: false })
    t.teardown(async () => { await app.close() })
    app.get(taken, async () => ({ mine: true }))
    await t.rejects(async () => {
      await app.register(s3dbRealtime, { database: db, resources: { messages: true }, ...options })
      await app.ready()
    }, { code: 'S3DB_REALTIME_INVALID_OPTION', message }, JSON.stringify(options))
  }
})

t.test('a route the app adds after the plugin clashes with the same coded error', async (t) => {
  const db = await createDatabase(t)
  const app = Fastify({ logger: false })
  t.teardown(async () => { await app.close() })
  await app.register(s3dbRealtime, { database: db, resources: { messages: true }, health: true })
  t.throws(() => { app.get('/health/live', async () => 'mine') }, { code: 'S3DB_REALTIME_INVALID_OPTION', message: /`health` option/ })
  t.doesNotThrow(() => { app.post('/health', async () => 'mine') }, 'another method is no clash')
  t.doesNotThrow(() => { app.get('/healthz', async () => 'mine') })
})

t.test('the app-wide auth hook: probes are config.public, metrics are not (protect them with metrics.onRequest)', async (t) => {
  const { db, app } = await appWithAuthHook(t, 'Bearer user-token')
  app.get('/api/me', async () => ({ me: true }))
  await app.register(s3dbRealtime, { database: db, resources: { messages: true }, health: true, metrics: true })
  await app.listen({ port: 0, host: '127.0.0.1' }) // /health/ready wants a listening server
  for (const url of ['/health', '/health/live', '/health/ready']) {
    t.equal((await app.inject(url)).statusCode, 200, `${url} passes the app's auth hook`)
  }
  t.equal((await app.inject('/api/me')).statusCode, 401, 'the app\'s routes stay protected')
  t.equal((await app.inject('/metrics')).statusCode, 401, 'metrics are not public: the app hook protects them')
  t.equal((await app.inject({ url: '/metrics', headers: { authorization: 'Bearer user-token' } })).statusCode, 200)
})

t.test('metrics: { public: true, onRequest } gives the scraper its own credential', async (t) => {
  const { db, app } = await appWithAuthHook(t, null)
  const scraper = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (request.headers.authorization !== 'Bearer scrape-secret') await reply.code(403).send({ error: 'Forbidden' })
  }
  await app.register(s3dbRealtime, {
    database: db,
    resources: { messages: true },
    health: { prefix: '/internal', onRequest: [] },
    metrics: { public: true, onRequest: scraper }
  })
  t.equal((await app.inject('/metrics')).statusCode, 403, 'public for the app hook, refused by its own')
  const scraped = await app.inject({ url: '/metrics', headers: { authorization: 'Bearer scrape-secret' } })
  t.equal(scraped.statusCode, 200)
  t.match(scraped.body, /s3db_realtime_connections 0/)
  t.equal((await app.inject('/internal/health/live')).statusCode, 200)
})

t.test('health: { public: false } leaves the probes to the app hook; bad values are coded errors', async (t) => {
  const db = await createDatabase(t)
  const app = Fastify({ logger: false })
  t.teardown(async () => { await app.close() })
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.routeOptions.config.public !== true) await reply.code(401).send({ error: 'Unauthorized' })
  })
  await app.register(s3dbRealtime, { database: db, resources: { messages: true }, health: { public: false } })
  t.equal((await app.inject('/health/live')).statusCode, 401)
  for (const options of [{ health: { public: 'yes' } }, { health: { onRequest: 'hook' } }, { metrics: { onRequest: [() => {}, 5] } }, { metrics: { public: 1 } }]) {
    await t.rejects(buildApp(t, options as never, { db }), { code: 'S3DB_REALTIME_INVALID_OPTION' }, JSON.stringify(options))
  }
})
