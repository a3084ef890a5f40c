import Fastify from 'fastify'
import t from 'tap'
import s3dbRealtime from '../../src/index.js'
import { createDatabase } from '../helpers/db.js'

// Issue #13 §4: closing the plugin removes only the upgrade listener it added, not the app's
// (another WebSocket server on the same HTTP server, a proxy).
t.test('preClose removes only its own upgrade listener', async (t) => {
  const db = await createDatabase(t)
  const app = Fastify({ logger: false })
  const appsOwn = (): void => {}
  app.server.on('upgrade', appsOwn)
  await app.register(s3dbRealtime, { database: db, resources: { messages: true } })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.equal(app.server.listeners('upgrade').length, 2, "the app's listener and @fastify/websocket's")
  await app.close()
  t.same(app.server.listeners('upgrade'), [appsOwn], "the app's listener survives; ours is gone")
})
