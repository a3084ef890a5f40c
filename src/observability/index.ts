import type { FastifyInstance } from 'fastify'
import type { SendHooks } from '../connection/connection.js'
import { InvalidOptionError } from '../errors.js'
import type { LocalHub } from '../hub/local-hub.js'
import type { ServerState } from '../hub/server-state.js'
import type { ReadinessRegistry } from './readiness.js'
import type { Dispatcher } from '../protocol/dispatcher.js'
import type { DatabaseLike } from '../types.js'
import { SendPolicy } from './backpressure.js'
import { healthEndpoints, registerHealthRoutes, s3dbCheck, websocketCheck } from './health.js'
import { drainConnections, installUpgradeGate } from './limits.js'
import { RealtimeMetrics, registerMetricsRoute } from './metrics.js'
import { DEFAULTS } from '../options/defaults.js'
import type { ResolvedOperations } from '../options/operations.js'
import { guardOperationRoutes } from './routes.js'

export type { ResolvedOperations } from '../options/operations.js'

/** Options for @fastify/websocket's ws server that come from this module (compression). */
export function websocketServerOptions (ops: ResolvedOperations): { perMessageDeflate: false | { threshold: number, serverNoContextTakeover: boolean } } {
  // ws honours `threshold` only with server_no_context_takeover negotiated; without it every
  // frame (even a 200-byte event) is compressed with a per-socket context kept alive.
  return { perMessageDeflate: ops.compression === null ? false : { threshold: ops.compression.threshold, serverNoContextTakeover: true } }
}

/** Compression needs the ws server's perMessageDeflate; an app-owned server must already have it. */
export function checkExistingWebsocketServer (fastify: FastifyInstance, ops: ResolvedOperations): void {
  if (ops.compression === null || !fastify.hasDecorator('websocketServer')) return
  const server = (fastify as FastifyInstance & { websocketServer: { options?: { perMessageDeflate?: unknown } } }).websocketServer
  if (server.options?.perMessageDeflate === false || server.options?.perMessageDeflate === undefined) {
    throw new InvalidOptionError('compression: @fastify/websocket was registered by the app without perMessageDeflate; enable it there (options.perMessageDeflate) or let s3db-realtime register @fastify/websocket')
  }
}

export interface Operations {
  /** Given to every connection (backpressure + metrics); null when both are off. */
  readonly sendHooks: SendHooks | null
  readonly metrics: RealtimeMetrics | null
  /** Closes every socket with 1001 and waits (at most drainTimeout) for them to go. */
  drain (): Promise<void>
  close (): void
}

/**
 * Health and metrics routes (only when the options ask for them: the host app owns its URL space),
 * readiness checks, the upgrade gate and the send policy.
 */
export function installOperations (
  fastify: FastifyInstance,
  deps: { hub: LocalHub, state: ServerState, readiness: ReadinessRegistry, dispatcher: Dispatcher, database: DatabaseLike, path: string, ops: ResolvedOperations }
): Operations {
  const { hub, state, readiness, dispatcher, database, path, ops } = deps
  // First: a clash with the app's routes fails register before anything is hooked.
  const routesAdded = guardOperationRoutes(fastify, ops)
  const rejected = installUpgradeGate(fastify, { hub, state, path, maxConnections: ops.maxConnections })

  const metrics = ops.metrics === null ? null : new RealtimeMetrics(ops.metrics, hub, rejected)
  if (metrics !== null) {
    dispatcher.addPreHandler(metrics.onReceived)
    if (ops.metrics?.route === true) registerMetricsRoute(fastify, metrics, ops.metrics)
  }
  const sendHooks = ops.backpressure === null && metrics === null ? null : new SendPolicy(ops.backpressure, hub, metrics?.onSent ?? null)

  readiness.add({ name: 's3db', check: s3dbCheck(database), timeout: ops.health?.s3dbTimeout ?? DEFAULTS.health.readiness.s3dbTimeout })
  readiness.add({ name: 'websocket', check: websocketCheck(hub, state, fastify) })
  if (ops.health !== null) {
    for (const check of ops.health.checks) readiness.add(check)
    const endpoints = healthEndpoints(ops.health, path, ops.metrics?.route === true ? ops.metrics.path : null)
    registerHealthRoutes(fastify, { hub, state, readiness, endpoints, options: ops.health })
  }
  routesAdded()

  return {
    sendHooks,
    metrics,
    drain: async () => { await drainConnections(hub, ops.drainTimeout) },
    close: () => { metrics?.unregister() }
  }
}
