import Fastify from 'fastify'
import t from 'tap'
import s3dbRealtime, { type RealtimeApi } from '../../src/index.js'
import { connect } from '../helpers/client.js'
import { createDatabase } from '../helpers/db.js'

// Issue #13 §3: two realtime endpoints in one app, each under its own decorator.
t.test('two endpoints in one app with their own decorator and path', async (t) => {
  const db = await createDatabase(t)
  const app = Fastify({ logger: false })
  await app.register(s3dbRealtime, { database: db, resources: { messages: true } })
  await app.register(s3dbRealtime, { database: db, path: '/admin-ws', decorator: 'adminRealtime', resources: { users: true } })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(async () => { await app.close() })
  const base = `ws://127.0.0.1:${(app.server.address() as { port: number }).port}`
  const { client: pub } = await connect(`${base}/ws`)
  const { client: admin } = await connect(`${base}/admin-ws`)
  t.teardown(() => { pub.close(); admin.close() })
  t.equal((await pub.request({ type: 'list', resource: 'users' })).code, 'RESOURCE_NOT_FOUND', 'each endpoint exposes its own resources')
  t.equal((await admin.request({ type: 'list', resource: 'users' })).type, 'data')
  const adminApi = (app as unknown as { adminRealtime: RealtimeApi }).adminRealtime
  t.equal(adminApi.getClients().length, 1)
  t.equal(app.realtime.getClients().length, 1)
})

t.test('a taken decorator name is a coded error naming the option', async (t) => {
  const db = await createDatabase(t)
  const app = Fastify({ logger: false })
  t.teardown(async () => { await app.close() })
  await app.register(s3dbRealtime, { database: db, resources: { messages: true } })
  await t.rejects(async () => { await app.register(s3dbRealtime, { database: db, path: '/other', resources: { messages: true } }) }, { code: 'S3DB_REALTIME_INVALID_OPTION', message: /decorator/ })
})
