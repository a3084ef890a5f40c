import type { onRequestHookHandler } from 'fastify'
import type { Registry } from 'prom-client'
import { fail, positiveInteger } from '../options.js'
import { isPlainObject } from '../util/paths.js'
import { validateReadinessCheck, type ReadinessCheck } from './readiness.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * Set on s3db-realtime's health routes (true by default) and metrics route (false by
     * default): an app-wide auth hook can let them through with
     * `if (request.routeOptions.config.public === true) return`. Apps may use it on their own routes.
     */
    public?: boolean
    /** Which s3db-realtime operations route this is. */
    s3dbRealtime?: 'health' | 'metrics'
  }
}

/**
 * A route-level hook run before a health or metrics route (e.g. a bearer check for the
 * Prometheus scraper). Reply from it to refuse; return to let the request through.
 */
export type OperationsHook = onRequestHookHandler | onRequestHookHandler[]

/**
 * `health` option. Off in the Fastify plugin unless given (`true` or an object): the app's own
 * routes are its business. On by default in `WebSocketPlugin` and the CLI server.
 */
export interface HealthOptions {
  /** @default true when the group is given */
  enabled?: boolean
  /** Put before `/health`, e.g. '/ops' serves '/ops/health'. @default '' */
  prefix?: string
  /**
   * Mark the routes `config: { public: true }`, so an app-wide auth hook can let probes through
   * (`if (request.routeOptions.config.public === true) return`). @default true
   */
  public?: boolean
  /** Hook(s) run before each health route (the app's own hooks run first). */
  onRequest?: OperationsHook
  readiness?: {
    /** Extra checks run by `/health/ready`, after the built-in `s3db` and `websocket` checks. */
    checks?: ReadinessCheck[]
    /** Time the built-in `s3db` round trip may take, ms. @default 5000 */
    s3dbTimeout?: number
  }
}

/**
 * `metrics` option. Off in the Fastify plugin unless given (`true` or an object); on by default
 * in `WebSocketPlugin` and the CLI server.
 */
export interface MetricsOptions {
  /** @default true when the group is given */
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

export type BackpressurePolicy = 'drop' | 'close'

/** `backpressure` option: what happens when a socket does not read fast enough. */
export interface BackpressureOptions {
  /** Bytes a socket may have queued (ws `bufferedAmount`) before the policy applies. @default 4194304 */
  maxBufferedBytes?: number
  /** 'close' closes with 1013; 'drop' drops frames and later sends RESYNC_REQUIRED. @default 'close' */
  policy?: BackpressurePolicy
}

/** `compression` option: permessage-deflate for frames of at least `threshold` bytes. */
export interface CompressionOptions {
  /** @default 1024 */
  threshold?: number
}

export interface ResolvedHealth {
  readonly prefix: string
  readonly public: boolean
  readonly onRequest: readonly onRequestHookHandler[]
  readonly checks: readonly ReadinessCheck[]
  readonly s3dbTimeout: number
}

export interface ResolvedMetrics {
  readonly registry: Registry | null
  readonly path: string
  readonly prefix: string
  readonly route: boolean
  readonly public: boolean
  readonly onRequest: readonly onRequestHookHandler[]
}

export interface ResolvedOperations {
  readonly health: ResolvedHealth | null
  readonly metrics: ResolvedMetrics | null
  readonly backpressure: { readonly maxBufferedBytes: number, readonly policy: BackpressurePolicy } | null
  readonly maxConnections: number | null
  readonly compression: { readonly threshold: number } | null
  readonly drainTimeout: number
}

function routePath (value: unknown, name: string, fallback: string): string {
  if (value === undefined) return fallback
  if (typeof value !== 'string' || (value !== '' && (!value.startsWith('/') || value.endsWith('/')))) {
    fail(`${name} must be a path starting with "/" and not ending with "/" (got ${JSON.stringify(value)})`)
  }
  return value
}

/** `undefined` is off: in the Fastify plugin these groups are opt-in (the compat server opts in). */
function onOff (value: unknown, name: string): boolean | Record<string, unknown> {
  if (value === true) return true
  if (value === undefined || value === false) return false
  if (!isPlainObject(value)) fail(`${name} must be a boolean or an object`)
  if (value.enabled !== undefined && typeof value.enabled !== 'boolean') fail(`${name}.enabled must be a boolean`)
  return value.enabled === false ? false : value
}

function onlyKeys (value: Record<string, unknown>, name: string, keys: readonly string[]): void {
  for (const key of Object.keys(value)) if (!keys.includes(key)) fail(`${name}.${key} is not a known option`)
}

function flag (value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') fail(`${name} must be a boolean`)
  return value
}

function hooks (value: unknown, name: string): onRequestHookHandler[] {
  if (value === undefined) return []
  const list = Array.isArray(value) ? value : [value]
  if (list.some((hook) => typeof hook !== 'function')) fail(`${name} must be a function (request, reply) or an array of them`)
  return list as onRequestHookHandler[]
}

function resolveHealth (input: unknown): ResolvedHealth | null {
  const value = onOff(input, 'health')
  if (value === false) return null
  const health = value === true ? {} : value
  onlyKeys(health, 'health', ['enabled', 'prefix', 'readiness', 'public', 'onRequest'])
  const readiness = health.readiness ?? {}
  if (!isPlainObject(readiness)) fail('health.readiness must be an object')
  onlyKeys(readiness, 'health.readiness', ['checks', 's3dbTimeout'])
  const checks = readiness.checks ?? []
  if (!Array.isArray(checks)) fail('health.readiness.checks must be an array of { name, check, timeout?, optional? }')
  const names = new Set(['s3db', 'websocket'])
  const resolved = checks.map((check, i) => validateReadinessCheck(check, `health.readiness.checks[${i}]`))
  for (const check of resolved) {
    if (names.has(check.name)) fail(`health.readiness.checks: duplicate check name "${check.name}"`)
    names.add(check.name)
  }
  return {
    prefix: routePath(health.prefix, 'health.prefix', ''),
    public: flag(health.public, 'health.public', true),
    onRequest: hooks(health.onRequest, 'health.onRequest'),
    checks: resolved,
    s3dbTimeout: positiveInteger(readiness.s3dbTimeout, 'health.readiness.s3dbTimeout', 5000)
  }
}

function isRegistry (value: unknown): value is Registry {
  const r = value as Partial<Registry> | null
  return typeof r === 'object' && r !== null && typeof r.registerMetric === 'function' && typeof r.metrics === 'function'
}

function resolveMetrics (input: unknown): ResolvedMetrics | null {
  const value = onOff(input, 'metrics')
  if (value === false) return null
  const metrics = value === true ? {} : value
  onlyKeys(metrics, 'metrics', ['enabled', 'registry', 'path', 'prefix', 'route', 'public', 'onRequest'])
  if (metrics.registry !== undefined && !isRegistry(metrics.registry)) fail('metrics.registry must be a prom-client Registry')
  const prefix = metrics.prefix ?? 's3db_realtime_'
  if (typeof prefix !== 'string' || !/^[a-zA-Z_:][a-zA-Z0-9_:]*$|^$/.test(prefix)) fail('metrics.prefix must be a valid Prometheus name prefix')
  if (metrics.route !== undefined && typeof metrics.route !== 'boolean') fail('metrics.route must be a boolean')
  const path = routePath(metrics.path, 'metrics.path', '/metrics')
  if (path === '') fail('metrics.path must not be empty')
  return {
    registry: (metrics.registry as Registry | undefined) ?? null,
    path,
    prefix,
    route: metrics.route !== false,
    public: flag(metrics.public, 'metrics.public', false),
    onRequest: hooks(metrics.onRequest, 'metrics.onRequest')
  }
}

function resolveBackpressure (input: unknown): ResolvedOperations['backpressure'] {
  if (input === false) return null
  const value = input === undefined || input === true ? {} : input
  if (!isPlainObject(value)) fail('backpressure must be false or { maxBufferedBytes, policy }')
  onlyKeys(value, 'backpressure', ['maxBufferedBytes', 'policy'])
  const policy = value.policy ?? 'close'
  if (policy !== 'drop' && policy !== 'close') fail('backpressure.policy must be "drop" or "close"')
  return { maxBufferedBytes: positiveInteger(value.maxBufferedBytes, 'backpressure.maxBufferedBytes', 4 * 1024 * 1024, 1024), policy }
}

function resolveCompression (input: unknown): ResolvedOperations['compression'] {
  if (input === undefined || input === false) return null
  if (input === true) return { threshold: 1024 }
  if (!isPlainObject(input)) fail('compression must be a boolean or { threshold }')
  onlyKeys(input, 'compression', ['threshold'])
  return { threshold: positiveInteger(input.threshold, 'compression.threshold', 1024, 0) }
}

/** Resolves the option groups this module owns; throws InvalidOptionError on bad input. */
export function resolveOperationsOptions (input: Record<string, unknown>): ResolvedOperations {
  if (input.limits !== undefined) {
    fail('limits is not an option group; use maxConnections, maxPayloadSize, maxSubscriptionsPerConnection, backpressure or channels.maxMembers')
  }
  const maxConnections = input.maxConnections === undefined || input.maxConnections === null
    ? null
    : positiveInteger(input.maxConnections, 'maxConnections', 0)
  return Object.freeze({
    health: resolveHealth(input.health),
    metrics: resolveMetrics(input.metrics),
    backpressure: resolveBackpressure(input.backpressure),
    maxConnections,
    compression: resolveCompression(input.compression),
    drainTimeout: positiveInteger(input.drainTimeout, 'drainTimeout', 5000, 0)
  })
}
