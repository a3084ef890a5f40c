import t from 'tap'
import { WebSocketPlugin } from '../../src/index.js'
import { createDatabase } from '../helpers/db.js'

const quiet = { port: 0, host: '127.0.0.1', startupBanner: false, logLevel: 'silent' as const }

t.test('db.usePlugin with a resource the connected database lacks throws UNKNOWN_RESOURCE naming it', async (t) => {
  const db = await createDatabase(t)
  const plugin = new WebSocketPlugin({ ...quiet, resources: { messages: true, orders: true } })
  t.teardown(async () => { await plugin.stop() })
  // It used to resolve with no server and no word, waiting for a resource nobody would create.
  await t.rejects(db.usePlugin(plugin as never), { code: 'S3DB_REALTIME_UNKNOWN_RESOURCE', message: /"orders"/ })
  t.equal(plugin.server, null, 'no server left running')
  t.equal(plugin.getServerInfo().isRunning, false)
})

t.test('getMetrics() before start answers zeros; other hub methods say NOT_RUNNING', async (t) => {
  const plugin = new WebSocketPlugin({ ...quiet, resources: { messages: true } })
  const metrics = plugin.getMetrics()
  t.equal(metrics.connections, 0)
  t.equal(metrics.activeConnections, 0)
  t.ok(Object.values(metrics).every((v) => v === 0), 'every counter is zero')
  t.throws(() => plugin.broadcast({ hello: 1 }), { code: 'S3DB_REALTIME_NOT_RUNNING', message: /broadcast needs its server/ })
  t.throws(() => plugin.realtime, { code: 'S3DB_REALTIME_NOT_RUNNING' })

  const db = await createDatabase(t)
  await db.usePlugin(plugin as never)
  t.teardown(async () => { await plugin.stop() })
  t.equal(plugin.broadcast({ hello: 1 }), 0, 'running: no clients yet')
  t.equal(plugin.getMetrics().broadcasts, 1)
  await plugin.stop()
  t.equal(plugin.getMetrics().broadcasts, 0, 'stopped: zeros again, no throw')
})
