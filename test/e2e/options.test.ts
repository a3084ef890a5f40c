import t from 'tap'
import Fastify from 'fastify'
import s3dbRealtime, { WebSocketPlugin } from '../../src/index.js'
import { createDatabase } from '../helpers/db.js'

t.test('invalid options throw a coded error at register', async (t) => {
  const db = await createDatabase(t)
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['negative interval', { heartbeatInterval: -5 }, 'S3DB_REALTIME_INVALID_OPTION'],
    ['non-integer timeout', { heartbeatTimeout: 1.5 }, 'S3DB_REALTIME_INVALID_OPTION'],
    ['unknown resource', { resources: { ghosts: true } }, 'S3DB_REALTIME_UNKNOWN_RESOURCE'],
    ['resource config shape', { resources: { messages: 'yes' } }, 'S3DB_REALTIME_INVALID_OPTION'],
    ['unknown resource option', { resources: { messages: { protect: ['x'] } } }, 'S3DB_REALTIME_INVALID_OPTION'],
    ['bad events', { resources: { messages: { events: ['upsert'] } } }, 'S3DB_REALTIME_INVALID_OPTION'],
    ['guard not a function', { resources: { messages: { guard: { list: true } } } }, 'S3DB_REALTIME_INVALID_OPTION'],
    ['unknown guard', { resources: { messages: { guard: { read: () => true } } } }, 'S3DB_REALTIME_INVALID_OPTION'],
    ['bad path', { path: 'ws' }, 'S3DB_REALTIME_INVALID_OPTION'],
    ['bad logLevel', { logLevel: 'loud' }, 'S3DB_REALTIME_INVALID_OPTION'],
    ['unknown option', { heartbeat: 5 }, 'S3DB_REALTIME_INVALID_OPTION'],
    ['tiny maxPayloadSize', { maxPayloadSize: 1 }, 'S3DB_REALTIME_INVALID_OPTION'],
    ['list limits', { defaultListLimit: 50, maxListLimit: 10 }, 'S3DB_REALTIME_INVALID_OPTION']
  ]
  for (const [label, options, code] of cases) {
    const app = Fastify({ logger: false })
    t.teardown(async () => { await app.close().catch(() => {}) })
    await t.rejects(async () => {
      await app.register(s3dbRealtime, { database: db, ...options } as never)
      await app.ready()
    }, { code }, label)
  }
  const noDb = Fastify({ logger: false })
  await t.rejects(async () => { await noDb.register(s3dbRealtime, {} as never); await noDb.ready() }, { code: 'S3DB_REALTIME_INVALID_OPTION' }, 'missing database')
})

t.test('WebSocketPlugin validates its own options in the constructor', async (t) => {
  t.throws(() => new WebSocketPlugin({ port: -1 }), { code: 'S3DB_REALTIME_INVALID_OPTION' })
  t.throws(() => new WebSocketPlugin({ port: 3001, host: '' }), { code: 'S3DB_REALTIME_INVALID_OPTION' })
  t.throws(() => new WebSocketPlugin({ startupBanner: 'yes' as unknown as boolean }), { code: 'S3DB_REALTIME_INVALID_OPTION' })
})

t.test('a valid configuration registers and decorates app.realtime', async (t) => {
  const db = await createDatabase(t)
  const app = Fastify({ logger: false })
  t.teardown(async () => { await app.close() })
  await app.register(s3dbRealtime, {
    database: db,
    path: '/live',
    resources: { messages: { protected: ['author'], events: ['insert'], auth: ['admin'], guard: { list: () => true } }, users: false }
  })
  await app.ready()
  t.same(app.realtime.getServerInfo().resources, ['messages'], 'disabled resources are not exposed')
  t.equal(app.realtime.getServerInfo().path, '/live')
})
