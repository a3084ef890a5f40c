import type { FastifyInstance } from 'fastify'
import type { LocalHub } from '../hub/local-hub.js'
import type { ServerState } from '../hub/server-state.js'
import type { DatabaseLike } from '../types.js'
import type { ResolvedHealth } from '../options/operations.js'
import type { ReadinessAnswer, ReadinessRegistry } from './readiness.js'

interface ListingClient {
  listObjects (params: { prefix?: string, maxKeys?: number }): Promise<unknown>
}

function clientOf (database: DatabaseLike): ListingClient | null {
  const client = (database as DatabaseLike & { client?: Partial<ListingClient> }).client
  return client !== undefined && client !== null && typeof client.listObjects === 'function' ? client as ListingClient : null
}

/**
 * `s3db`: a real round trip to the bucket (a one-key listing of s3db.json), so a reachable-but-broken
 * bucket (wrong credentials, missing bucket) reports unhealthy, not just a dropped connection.
 */
export function s3dbCheck (database: DatabaseLike): () => Promise<ReadinessAnswer> {
  return async () => {
    const resources = Object.keys(database.resources ?? {}).length
    if (typeof database.isConnected === 'function' && !database.isConnected()) {
      return { healthy: false, connected: false, resources, error: 'database is not connected' }
    }
    const client = clientOf(database)
    if (client === null) return { healthy: false, connected: true, resources, error: 'database has no storage client' }
    try {
      // Narrow to s3db's own metadata object: cheap on big buckets, and it exists once connected.
      await client.listObjects({ prefix: 's3db.json', maxKeys: 1 })
    } catch (error) {
      // s3db wraps S3 failures ("Unknown error in listObjects"); the cause is what operators need.
      const cause = (error as { original?: { name?: string, message?: string } }).original
      const detail = cause === undefined ? '' : `: ${cause.name ?? 'Error'}: ${cause.message ?? ''}`
      return { healthy: false, connected: true, resources, error: `${error instanceof Error ? error.message : String(error)}${detail}` }
    }
    return { healthy: true, connected: true, resources }
  }
}

/** `websocket`: the hub accepts connections and the HTTP server is listening. */
export function websocketCheck (hub: LocalHub, state: ServerState, fastify: FastifyInstance): () => ReadinessAnswer {
  return () => {
    const clients = hub.connections.size
    const subscriptions = hub.subscriptionCount
    const listening = fastify.server.listening
    if (!state.running) return { healthy: false, clients, subscriptions, error: 'shutting down' }
    if (!listening) return { healthy: false, clients, subscriptions, error: 'server is not listening' }
    return { healthy: true, clients, subscriptions }
  }
}

export interface HealthEndpoints {
  health: string
  liveness: string
  readiness: string
  websocket: string
  metrics?: string
}

export function healthEndpoints (options: ResolvedHealth, wsPath: string, metricsPath: string | null): HealthEndpoints {
  const base = `${options.prefix}/health`
  const endpoints: HealthEndpoints = { health: base, liveness: `${base}/live`, readiness: `${base}/ready`, websocket: wsPath }
  if (metricsPath !== null) endpoints.metrics = metricsPath
  return endpoints
}

/** GET <prefix>/health, /health/live and /health/ready (503 with per-check detail when not ready). */
export function registerHealthRoutes (
  fastify: FastifyInstance,
  deps: { hub: LocalHub, state: ServerState, readiness: ReadinessRegistry, endpoints: HealthEndpoints, options: ResolvedHealth }
): void {
  const { hub, state, readiness, endpoints, options } = deps
  // Probes are polled every few seconds; keep them out of the info-level request log.
  // `config.public` lets an app-wide auth hook skip them (probes carry no credentials).
  const routeOptions = {
    logLevel: 'warn' as const,
    config: { public: options.public, s3dbRealtime: 'health' as const },
    ...(options.onRequest.length > 0 ? { onRequest: [...options.onRequest] } : {})
  }

  fastify.get(endpoints.health, routeOptions, async (_request, reply) => {
    return await reply.header('cache-control', 'no-store').send({
      status: state.running ? 'ok' : 'shutting_down',
      uptime: state.uptime,
      timestamp: new Date().toISOString(),
      connections: hub.connections.size,
      subscriptions: hub.subscriptionCount,
      resources: [...hub.resources.keys()],
      endpoints
    })
  })

  fastify.get(endpoints.liveness, routeOptions, async (_request, reply) => {
    return await reply.header('cache-control', 'no-store').send({ status: 'alive', timestamp: new Date().toISOString() })
  })

  fastify.get(endpoints.readiness, routeOptions, async (_request, reply) => {
    const report = await readiness.run()
    if (!report.ready) {
      const failed = Object.entries(report.checks).filter(([, c]) => c.status !== 'healthy' && !c.optional).map(([name]) => name)
      hub.log.warn({ failed }, 'realtime: readiness check failed')
    }
    return await reply.code(report.ready ? 200 : 503).header('cache-control', 'no-store').send({
      status: report.ready ? 'healthy' : 'unhealthy',
      ready: report.ready,
      timestamp: new Date().toISOString(),
      uptime: state.uptime,
      checks: report.checks
    })
  })
}
