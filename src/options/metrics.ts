import type { onRequestHookHandler } from 'fastify'
import type { Registry } from 'prom-client'
import { DEFAULTS } from './defaults.js'
import { hooks, onOff, type OperationsHook } from './health.js'
import { fail, flag, onlyKeys, routePath } from './validate.js'

/**
 * `metrics` option. Off in the Fastify plugin unless given (`true` or an object); on by default
 * in `WebSocketPlugin` and the CLI server.
 */
export interface MetricsOptions {
  /** On once the group is given. @default true */
  enabled?: boolean
  /** The app's prom-client registry; a private one is created when omitted. */
  registry?: Registry
  /** @default '/metrics' */
  path?: string
  /** Prefix of every metric name. @default 's3db_realtime_' */
  prefix?: string
  /** Also serve the metrics route (false: only register the metrics on `registry`). @default true */
  route?: boolean
  /**
   * Mark the route `config: { public: true }` (an app-wide auth hook that honours it lets it
   * through: protect it with `onRequest` then). @default false
   */
  public?: boolean
  /** Hook(s) run before the metrics route, e.g. a bearer-token check for the scraper. */
  onRequest?: OperationsHook
}

export interface ResolvedMetrics {
  readonly registry: Registry | null
  readonly path: string
  readonly prefix: string
  readonly route: boolean
  readonly public: boolean
  readonly onRequest: readonly onRequestHookHandler[]
}

function isRegistry (value: unknown): value is Registry {
  const r = value as Partial<Registry> | null
  return typeof r === 'object' && r !== null && typeof r.registerMetric === 'function' && typeof r.metrics === 'function'
}

export function resolveMetrics (input: unknown): ResolvedMetrics | null {
  const value = onOff(input, 'metrics', DEFAULTS.core.metrics, DEFAULTS.metrics.enabled)
  if (value === false) return null
  const metrics = value === true ? {} : value
  onlyKeys(metrics, 'metrics', ['enabled', 'registry', 'path', 'prefix', 'route', 'public', 'onRequest'])
  if (metrics.registry !== undefined && !isRegistry(metrics.registry)) fail('metrics.registry must be a prom-client Registry')
  const prefix = metrics.prefix ?? DEFAULTS.metrics.prefix
  if (typeof prefix !== 'string' || !/^[a-zA-Z_:][a-zA-Z0-9_:]*$|^$/.test(prefix)) fail('metrics.prefix must be a valid Prometheus name prefix')
  if (metrics.route !== undefined && typeof metrics.route !== 'boolean') fail('metrics.route must be a boolean')
  const path = routePath(metrics.path, 'metrics.path', DEFAULTS.metrics.path)
  if (path === '') fail('metrics.path must not be empty')
  return {
    registry: (metrics.registry as Registry | undefined) ?? null,
    path,
    prefix,
    route: (metrics.route as boolean | undefined) ?? DEFAULTS.metrics.route,
    public: flag(metrics.public, 'metrics.public', DEFAULTS.metrics.public),
    onRequest: hooks(metrics.onRequest, 'metrics.onRequest')
  }
}
