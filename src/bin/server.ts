import Fastify, { type FastifyInstance } from 'fastify'
import { Database } from 's3db.js'
import { installGracefulShutdown } from '../observability/shutdown.js'
import { realtimePlugin } from '../plugin.js'
import fp from 'fastify-plugin'
import type { DatabaseLike } from '../types.js'
import type { CliConfig } from './config.js'

type Db = InstanceType<typeof Database>

export interface RunningServer {
  app: FastifyInstance
  db: Db
  url: string
}

/** Connects s3db, creates the configured resources that are missing, and starts the server. */
export async function startServer (config: CliConfig): Promise<RunningServer> {
  // exitOnSignal: false — s3db otherwise calls process.exit(0) on SIGTERM, cutting the drain short.
  const db = new Database({ logLevel: 'silent', exitOnSignal: false, ...config.database, connectionString: config.connectionString } as ConstructorParameters<typeof Database>[0])
  await db.connect()
  const existing = db.resources as Record<string, unknown>
  for (const definition of config.createResources) {
    if (existing[definition.name] === undefined) await db.createResource(definition as Parameters<Db['createResource']>[0])
  }
  const app = Fastify({ logger: { level: config.logLevel } })
  const auth = config.jwtSecret === null
    ? (config.authRequired ? { required: true } : undefined)
    : { required: config.authRequired, drivers: [{ driver: 'jwt', config: { secret: config.jwtSecret } }] }
  try {
    await app.register(fp(realtimePlugin, { name: 's3db-realtime', fastify: '5.x' }), {
      ...config.options,
      // A server of its own: health and metrics on unless the config turns them off.
      health: config.options.health ?? true,
      metrics: config.options.metrics ?? true,
      ...(auth === undefined ? {} : { auth }),
      database: db as unknown as DatabaseLike,
      path: config.path,
      resources: config.resources
    } as Parameters<typeof realtimePlugin>[1])
    await app.listen({ port: config.port, host: config.host })
  } catch (error) {
    await app.close()
    await db.disconnect()
    throw error
  }
  const { port } = app.server.address() as { port: number }
  return { app, db, url: `ws://${config.host}:${port}${config.path}` }
}

/** Graceful drain on SIGTERM/SIGINT, bounded by `delay` (see observability/shutdown.ts). */
export function installShutdown (server: RunningServer, delay: number): void {
  installGracefulShutdown(server.app, { database: server.db, delay })
}
