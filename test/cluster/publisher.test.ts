import { randomUUID } from 'node:crypto'
import t from 'tap'
import { Redis } from 'ioredis'
import { attachPublisher, InvalidOptionError } from '../../src/index.js'
import { buildApp } from '../helpers/app.js'
import { createDatabase } from '../helpers/db.js'
import { startRedis } from '../helpers/redis.js'
import { REDIS_KINDS, startRedisTarget } from '../helpers/redis-target.js'

for (const kind of REDIS_KINDS) {
t.test(`${kind}: attachPublisher: a worker that serves no sockets forwards its writes to every instance`, async (t) => {
  const redis = await startRedisTarget(t, kind)
  const bucket = `memory://worker-${randomUUID()}/db`
  const server = await buildApp(t, { redis: redis() }, { db: await createDatabase(t, { connectionString: bucket }) })
  const client = await server.client()
  await client.request({ type: 'subscribe', resource: 'users' })
  await server.db.resources.users!.insert({ id: 'u0', name: 'from the server', password: 'p0' })
  const fromServer = await client.waitType('event')

  const workerDb = await createDatabase(t, { connectionString: bucket })
  const publisher = await attachPublisher(workerDb, { redis: redis(), resources: ['users'] })
  t.teardown(async () => { await publisher.close() })
  await workerDb.resources.users!.insert({ id: 'u1', name: 'from the worker', password: 'secret' })
  await workerDb.resources.users!.update('u1', { name: 'renamed by the worker' })
  const inserted = await client.waitType('event')
  const updated = await client.waitType('event')
  t.same([inserted.event, inserted.data.id, inserted.seq], ['insert', 'u1', fromServer.seq + 1], 'numbered in the same cluster sequence')
  t.equal(inserted.data.password, undefined, "the server's protected fields still apply")
  t.same([updated.event, updated.data.name, updated.seq], ['update', 'renamed by the worker', fromServer.seq + 2])
  t.equal(publisher.dropped, 0)

  await publisher.close()
  await publisher.close()
  await workerDb.resources.users!.insert({ id: 'u2', name: 'after close' })
  await server.db.resources.users!.insert({ id: 'u3', name: 'from the server again' })
  const next = await client.waitType('event')
  t.equal(next.data.id, 'u3', 'a closed publisher forwards nothing')
})
}

t.test('attachPublisher refuses bad options with a coded error', async (t) => {
  const db = await createDatabase(t)
  await t.rejects(attachPublisher(db, {}), InvalidOptionError)
  await t.rejects(attachPublisher(db, { redis: 'http://nope' }), { code: 'S3DB_REALTIME_INVALID_OPTION' })
  await t.rejects(attachPublisher(db, { redis: 'redis://127.0.0.1:1', resources: ['nope'] }), { code: 'S3DB_REALTIME_UNKNOWN_RESOURCE' })
})

t.test('attachPublisher: a change Redis did not answer for while connected is announced as a resync at once', async (t) => {
  const redis = await startRedis(t)
  const bucket = `memory://worker-stall-${randomUUID()}/db`
  const server = await buildApp(t, { redis: redis.url }, { db: await createDatabase(t, { connectionString: bucket }) })
  const client = await server.client()
  await client.request({ type: 'subscribe', resource: 'users' })
  const workerDb = await createDatabase(t, { connectionString: bucket })
  const publisher = await attachPublisher(workerDb, { redis: { url: redis.url, commandTimeout: 100 }, resources: ['users'] })
  t.teardown(async () => { await publisher.close() })
  const admin = new Redis(redis.url)
  t.teardown(() => { admin.disconnect() })

  // Redis stays connected but answers nobody for 800 ms: no health change will ever come.
  await admin.call('CLIENT', 'PAUSE', '800', 'ALL')
  await workerDb.resources.users!.insert({ id: 'w1', name: 'during the stall' })
  const resync = await client.waitFor((m) => m.type === 'error' && m.code === 'RESYNC_REQUIRED')
  t.equal(resync.details.resource, 'users', 'the subscriber is told to re-list')
  t.equal(publisher.dropped, 1, 'the change is counted as dropped')
})

t.test('attachPublisher: close() lets a write still running land and be forwarded before it detaches', async (t) => {
  const redis = await startRedis(t)
  const bucket = `memory://worker-close-${randomUUID()}/db`
  const server = await buildApp(t, { redis: redis.url }, { db: await createDatabase(t, { connectionString: bucket }) })
  const client = await server.client()
  await client.request({ type: 'subscribe', resource: 'users' })
  const workerDb = await createDatabase(t, { connectionString: bucket })
  const publisher = await attachPublisher(workerDb, { redis: redis.url, resources: ['users'] })

  // A job that closes without awaiting its last write: the write is running when close() starts.
  const lastWrite = workerDb.resources.users!.insert({ id: 'w-last', name: 'written while closing' })
  await publisher.close()
  await lastWrite
  await server.db.resources.users!.insert({ id: 'after', name: 'from the server' })
  const first = await client.waitType('event')
  const second = await client.waitType('event')
  t.same([first.data.id, second.data.id], ['w-last', 'after'], "the running write's change reached the subscriber, in order")
  t.equal(publisher.dropped, 0)
})

t.test('attachPublisher refuses a bad drainTimeout', async (t) => {
  const db = await createDatabase(t)
  await t.rejects(attachPublisher(db, { redis: 'redis://127.0.0.1:1', drainTimeout: -1 }), { code: 'S3DB_REALTIME_INVALID_OPTION' })
})
