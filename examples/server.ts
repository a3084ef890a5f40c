/**
 * Demo server for `npm start`: Fastify on one port with REST routes under /api, the realtime
 * WebSocket at /ws, the live inspector at /realtime/inspector and a page at /, backed by an
 * embedded s3db (memory://, or file://$DATA_DIR so data survives restarts). Who may see and do
 * what (personas, team guards, protected fields) is in demo-access.ts.
 */
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import fastifyStatic from '@fastify/static'
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import { Database } from 's3db.js'
import s3dbRealtime, { installGracefulShutdown } from 's3db-realtime'
import { CHANNEL_GUARDS, createTasks, PERSONAS, personaUser, TASKS_CONFIG } from './demo-access.js'

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
  await createTasks(db)
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
 * Demo sign-in: the page names a persona (`{persona: 'bob'}`) and gets a one-time ticket for that
 * persona's user, whose role and teams come from PERSONAS. A real app would look at its own
 * session or OAuth token here; what matters is that the role is decided on the server.
 */
function demoUser (request: FastifyRequest): ReturnType<typeof personaUser> {
  const body = request.body as { persona?: unknown } | undefined
  return personaUser(body?.persona)
}

/**
 * Routes only the demo page needs: the personas to pick from, and a button that makes the
 * server push RESYNC_REQUIRED to one connection, the notice it sends after dropping frames for a
 * slow reader (backpressure policy 'drop'), so the page can show the client resuming.
 */
function registerDemoRoutes (app: FastifyInstance): void {
  app.get('/api/personas', async () => PERSONAS)
  app.post<{ Body: { clientId?: unknown } }>('/api/demo/resync', async (request, reply) => {
    const clientId = request.body?.clientId
    if (typeof clientId !== 'string' || clientId.length > 100) return await reply.code(400).send({ error: 'clientId required' })
    const sent = app.realtime.sendToClient(clientId, {
      type: 'error',
      code: 'RESYNC_REQUIRED',
      message: 'Demo: the server cannot prove this connection missed nothing (as after dropping frames for a slow reader); resume or list again',
      details: { reason: 'demo' }
    })
    return await reply.code(sent ? 202 : 404).send({ sent })
  })
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
    resources: { messages: true, users: { protected: PROTECTED.users }, tasks: TASKS_CONFIG },
    // Demo sign-in: POST /ws/ticket {persona} -> one-time ticket for that persona's user.
    tickets: { route: { authenticate: demoUser } },
    channels: { guards: CHANNEL_GUARDS },
    // The live inspector at /realtime/inspector (docs/operations.md#inspector): users with role
    // 'admin', or anyone browsing from this machine (the demo has no operator accounts).
    inspector: { authorize: (request) => LOOPBACK.has(request.ip) }
  })
  registerRestRoutes(app, db)
  registerDemoRoutes(app)
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
