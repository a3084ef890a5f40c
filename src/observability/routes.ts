import type { FastifyInstance } from 'fastify'
import { InvalidOptionError } from '../errors.js'
import type { ResolvedOperations } from '../options/operations.js'

/** Each GET route this module adds, with the option that put it there (named in errors). */
export function operationRoutes (ops: ResolvedOperations): Array<{ path: string, option: string }> {
  const routes: Array<{ path: string, option: string }> = []
  if (ops.health !== null) {
    const base = `${ops.health.prefix}/health`
    const option = ops.health.prefix === '' ? 'health' : 'health.prefix'
    for (const path of [base, `${base}/live`, `${base}/ready`]) routes.push({ path, option })
  }
  if (ops.metrics?.route === true) routes.push({ path: ops.metrics.path, option: ops.metrics.path === '/metrics' ? 'metrics' : 'metrics.path' })
  return routes
}

function clash (url: string, option: string): Error {
  return new InvalidOptionError(
    `GET ${url} is served both by the app and by s3db-realtime's \`${option}\` option; ` +
    'move ours (health: { prefix: \'/realtime\' }, metrics: { path: \'/realtime/metrics\' }) or turn it off (health: false, metrics: false)'
  )
}

/**
 * Refuses, with a coded error naming the option, a health/metrics route the app already has
 * (instead of Fastify's FST_ERR_DUPLICATED_ROUTE that names neither the plugin nor the option),
 * and keeps refusing one the app adds later in the same boot. Call before adding our routes;
 * call the returned function once they are added.
 */
export function guardOperationRoutes (fastify: FastifyInstance, ops: ResolvedOperations): () => void {
  const routes = operationRoutes(ops).map(({ path, option }) => ({ url: fastify.prefix + path, option }))
  for (const { url, option } of routes) {
    if (fastify.hasRoute({ method: 'GET', url })) throw clash(url, option)
  }
  return () => {
    if (routes.length === 0) return
    fastify.addHook('onRoute', (route) => {
      const methods = Array.isArray(route.method) ? route.method : [route.method]
      if (!methods.includes('GET') || route.constraints !== undefined) return
      const taken = routes.find(({ url }) => url === route.url)
      if (taken !== undefined) throw clash(taken.url, taken.option)
    })
  }
}
