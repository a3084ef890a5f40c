/**
 * Demo server for `npm start`: Fastify on one port with REST routes under /api, the realtime
 * WebSocket at /ws and a page at /, backed by an embedded s3db (memory://, or file://$DATA_DIR so
 * data survives restarts).
 */
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import fastifyStatic from '@fastify/static'
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import { Database } from 's3db.js'
import s3dbRealtime, { installGracefulShutdown } from 's3db-realtime'

type Db = InstanceType<typeof Database>

export async function createDatabase (dataDir = process.env.DATA_DIR): Promise<Db> {
  const connectionString = dataDir !== undefined && dataDir !== '' ? `file://${resolve(dataDir)}` : 'memory://demo/realtime'
  // exitOnSignal: false lets the graceful shutdown below decide when the process exits.
  const db = new Database({ connectionString, logLevel: 'silent', exitOnSignal: false } as ConstructorParameters<typeof Database>[0])
  await db.connect()
  const existing = db.resources as Record<string, unknown>
  if (existing.messages === undefined) {
    await db.createResource({
      name: 'messages',
      attributes: { content: 'string|required|maxlength:2000', channel: 'string|required', author: 'string|optional' },
      timestamps: true,
      partitions: { byChannel: { fields: { channel: 'string' } } }
    } as Parameters<Db['createResource']>[0])
  }
  if (existing.users === undefined) {
    await db.createResource({
      name: 'users',
      attributes: { name: 'string|required', email: 'string|optional', password: 'string|optional', role: 'string|optional' },
      timestamps: true
    } as Parameters<Db['createResource']>[0])
  }
  return db
}

/** Protected fields never leave the server, over REST as over the socket. */
const PROTECTED: Record<string, string[]> = { messages: [], users: ['password'] }

function publicRecord (resource: string, record: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(record)) {
    if (key.startsWith('_') || key.startsWith('$') || (PROTECTED[resource] ?? []).includes(key)) continue
    out[key] = value
  }
  return out
}

function registerRestRoutes (app: FastifyInstance, db: Db): void {
  const resourceOf = (name: string): Db['resources'][string] | null =>
    Object.prototype.hasOwnProperty.call(PROTECTED, name) ? (db.resources[name] ?? null) : null

  app.get<{ Params: { resource: string }, Querystring: { limit?: string } }>('/api/:resource', async (request, reply) => {
    const resource = resourceOf(request.params.resource)
    if (resource === null) return await reply.code(404).send({ error: 'unknown resource' })
    const limit = Math.min(Number(request.query.limit ?? 100) || 100, 1000)
    const records = await resource.list({ limit }) as Array<Record<string, unknown>>
    return records.map((r) => publicRecord(request.params.resource, r))
  })
  app.get<{ Params: { resource: string, id: string } }>('/api/:resource/:id', async (request, reply) => {
    const resource = resourceOf(request.params.resource)
    if (resource === null) return await reply.code(404).send({ error: 'unknown resource' })
    const record = await resource.getOrNull(request.params.id) as Record<string, unknown> | null
    if (record === null) return await reply.code(404).send({ error: 'not found' })
    return publicRecord(request.params.resource, record)
  })
  app.post<{ Params: { resource: string }, Body: Record<string, unknown> }>('/api/:resource', async (request, reply) => {
    const resource = resourceOf(request.params.resource)
    if (resource === null) return await reply.code(404).send({ error: 'unknown resource' })
    const record = await resource.insert(request.body ?? {}) as Record<string, unknown>
    return await reply.code(201).send(publicRecord(request.params.resource, record))
  })
  app.patch<{ Params: { resource: string, id: string }, Body: Record<string, unknown> }>('/api/:resource/:id', async (request, reply) => {
    const resource = resourceOf(request.params.resource)
    if (resource === null) return await reply.code(404).send({ error: 'unknown resource' })
    if (!await resource.exists(request.params.id)) return await reply.code(404).send({ error: 'not found' })
    const record = await resource.update(request.params.id, request.body ?? {}) as Record<string, unknown>
    return publicRecord(request.params.resource, record)
  })
  app.delete<{ Params: { resource: string, id: string } }>('/api/:resource/:id', async (request, reply) => {
    const resource = resourceOf(request.params.resource)
    if (resource === null) return await reply.code(404).send({ error: 'unknown resource' })
    if (!await resource.exists(request.params.id)) return await reply.code(404).send({ error: 'not found' })
    await resource.delete(request.params.id)
    return await reply.code(204).send()
  })
}

/**
 * The demo trusts whatever name the page picks: enough to show presence. A real app would look
 * at its own session or OAuth token here and return that user.
 */
function demoUser (request: FastifyRequest): { id: string, name: string } | null {
  const body = request.body as { id?: unknown, name?: unknown } | undefined
  const valid = (v: unknown, max: number): v is string => typeof v === 'string' && v.trim() !== '' && v.length <= max
  if (body === undefined || !valid(body.id, 64) || !valid(body.name, 40)) return null
  return { id: `demo-${body.id}`, name: body.name.trim() }
}

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1'])

/** The page (examples/public) at `/` and the built browser client (dist/client) at `/client/`. */
async function registerStatic (app: FastifyInstance): Promise<void> {
  // examples/server.ts and dist-examples/server.js both sit one level below the package root.
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
  await app.register(fastifyStatic, { root: resolve(root, 'examples/public'), prefix: '/' })
  await app.register(fastifyStatic, { root: resolve(root, 'dist/client'), prefix: '/client/', decorateReply: false })
}

export async function buildServer (db: Db): Promise<FastifyInstance> {
  const app = Fastify({ logger: { level: process.env.LOG_LEVEL ?? 'info' } })
  await app.register(s3dbRealtime, {
    database: db,
    path: '/ws',
    resources: { messages: true, users: { protected: PROTECTED.users } },
    // Demo sign-in for presence: POST /ws/ticket {id, name} -> one-time ticket for the socket.
    tickets: { route: { authenticate: demoUser } },
    // The live inspector at /realtime/inspector (docs/operations.md#inspector): users with role
    // 'admin', or anyone browsing from this machine (the demo has no operator accounts).
    inspector: { authorize: (request) => LOOPBACK.has(request.ip) }
  })
  registerRestRoutes(app, db)
  await registerStatic(app)
  return app
}

async function main (): Promise<void> {
  const db = await createDatabase()
  const app = await buildServer(db)
  const port = Number(process.env.PORT ?? 3000)
  const host = process.env.HOST ?? '0.0.0.0'
  // SIGTERM/SIGINT: stop accepting, close sockets with 1001, finish requests, close s3db, exit
  // (within SHUTDOWN_DELAY ms, default 10000).
  installGracefulShutdown(app, { database: db, delay: Number(process.env.SHUTDOWN_DELAY ?? 10_000) })
  await app.listen({ port, host })
  app.log.info(`s3db-realtime demo: http://localhost:${port}  (WebSocket at ws://localhost:${port}/ws)`)
}

if (process.argv[1] !== undefined && import.meta.url === new URL(`file://${resolve(process.argv[1])}`).href) {
  main().catch((error: unknown) => {
    console.error(error)
    process.exit(1)
  })
}
