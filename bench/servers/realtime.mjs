// s3db-realtime (this project, built to dist/) as a Fastify app: the WS route at /ws plus REST
// routes for the same records on the same port, for the CRUD comparison. Events are injected
// the way s3db announces a write (`inserted` on the resource, emitted synchronously) so the
// bridge -> hub -> fan-out path runs exactly as for a real insert, minus the storage cost.
import Fastify from 'fastify'
import { JWT_SECRET } from '../lib/common.mjs'

const AUTH = { required: true, drivers: [{ driver: 'jwt', config: { secret: JWT_SECRET } }] }

async function build (plugin, db, auth, redis, compression) {
  const app = Fastify({ logger: false })
  const cluster = redis === undefined ? {} : { redis }
  const deflate = compression ? { compression: true } : {}
  await app.register(plugin, { database: db, path: '/ws', resources: { messages: true, feed: true, ranged: true }, ...cluster, ...deflate, ...(auth ? { auth: AUTH } : {}) })
  app.get('/rest/:resource/:id', async (request) => {
    const { resource, id } = request.params
    return { data: await db.resources[resource].get(id) }
  })
  app.post('/rest/:resource', async (request) => {
    return { data: await db.resources[request.params.resource].insert(request.body) }
  })
  await app.ready()
  return app
}

export async function startRealtime ({ db, port, redis, compression = false }) {
  const { default: s3dbRealtime } = await import('../../dist/index.js')
  let app
  let authConfigured = true
  try {
    app = await build(s3dbRealtime, db, true, redis, compression)
  } catch (error) {
    // The auth option group may not be implemented in this build; measure without it and say so.
    if (!/auth/i.test(String(error?.message))) throw error
    authConfigured = false
    process.emitWarning(`s3db-realtime rejected the auth option (${error.message}); running without auth`)
    app = await build(s3dbRealtime, db, false, redis, compression)
  }
  await app.listen({ port, host: '127.0.0.1' })
  const address = app.server.address()
  return {
    url: `ws://127.0.0.1:${address.port}/ws`,
    restUrl: `http://127.0.0.1:${address.port}/rest`,
    authConfigured,
    fire: (resource, record) => { db.resources[resource].emitSync('inserted', record) },
    connections: () => app.realtime.getServerInfo().clients,
    /** Changes this instance has delivered to its own sockets (the scenario (f) pacing signal). */
    deliveredEvents: () => app.realtime.getMetrics().events,
    close: async () => { await app.close() }
  }
}
