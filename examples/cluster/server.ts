/**
 * One instance of a horizontally scaled s3db-realtime app. Run as many as you like against the
 * same bucket and the same Redis; clients may connect to any of them (no sticky sessions).
 *
 *   redis-server --port 6379 --save '' &
 *   npm run build
 *   DATA_DIR=/tmp/s3db-cluster PORT=3001 node dist-examples/cluster/server.js &
 *   DATA_DIR=/tmp/s3db-cluster PORT=3002 node dist-examples/cluster/server.js &
 *
 * Env: S3DB_CONNECTION (e.g. s3://key:secret@bucket/prefix; else file://$DATA_DIR), REDIS_URL
 * (default redis://127.0.0.1:6379), PORT (3000), HOST (0.0.0.0), NODE_ID (default: hostname-pid).
 */
import { resolve } from 'node:path'
import Fastify from 'fastify'
import closeWithGrace from 'close-with-grace'
import { Database } from 's3db.js'
import s3dbRealtime from 's3db-realtime'

type Db = InstanceType<typeof Database>

async function openDatabase (): Promise<Db> {
  const connectionString = process.env.S3DB_CONNECTION ?? `file://${resolve(process.env.DATA_DIR ?? '/tmp/s3db-cluster')}`
  const db = new Database({ connectionString, logLevel: 'silent' } as ConstructorParameters<typeof Database>[0])
  await db.connect()
  if ((db.resources as Record<string, unknown>).messages === undefined) {
    await db.createResource({
      name: 'messages',
      attributes: { content: 'string|required|maxlength:2000', channel: 'string|required', author: 'string|optional' }
    } as Parameters<Db['createResource']>[0])
  }
  return db
}

const db = await openDatabase()
const app = Fastify({ logger: { level: process.env.LOG_LEVEL ?? 'info' } })
await app.register(s3dbRealtime, {
  database: db,
  resources: { messages: true },
  redis: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  health: true, // k8s.yaml probes /health/live and /health/ready (opt-in in the plugin)
  ...(process.env.NODE_ID !== undefined ? { nodeId: process.env.NODE_ID } : {})
})
// A write made through any instance reaches the subscribers on every instance.
app.post<{ Body: { content: string, channel: string } }>('/api/messages', async (request, reply) => {
  return await reply.code(201).send(await db.resources.messages!.insert(request.body))
})

closeWithGrace({ delay: 10_000 }, async ({ err }) => {
  if (err !== undefined) app.log.error({ err }, 'shutting down after an error')
  await app.close() // sockets get 1001, the bus is closed, then readiness is gone
  await db.disconnect()
})
await app.listen({ port: Number(process.env.PORT ?? 3000), host: process.env.HOST ?? '0.0.0.0' })
