import { isPlainObject } from '../util/paths.js'
import { DEFAULTS } from './defaults.js'
import { resolveHealth, type ResolvedHealth } from './health.js'
import { resolveMetrics, type ResolvedMetrics } from './metrics.js'
import { fail, onlyKeys, positiveInteger } from './validate.js'

export type { HealthOptions, OperationsHook, ReadinessAnswer, ReadinessCheck, ResolvedHealth } from './health.js'
export type { MetricsOptions, ResolvedMetrics } from './metrics.js'

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

export interface ResolvedOperations {
  readonly health: ResolvedHealth | null
  readonly metrics: ResolvedMetrics | null
  readonly backpressure: { readonly maxBufferedBytes: number, readonly policy: BackpressurePolicy } | null
  readonly maxConnections: number | null
  readonly compression: { readonly threshold: number } | null
  readonly drainTimeout: number
}

/** The top-level options this group resolves. */
export const OPERATIONS_KEYS = ['health', 'metrics', 'backpressure', 'maxConnections', 'compression', 'drainTimeout', 'limits'] as const

function resolveBackpressure (input: unknown): ResolvedOperations['backpressure'] {
  const given = input === undefined ? DEFAULTS.core.backpressure : input
  if (given === false) return null
  const value = given === true ? {} : given
  if (!isPlainObject(value)) fail('backpressure must be false or { maxBufferedBytes, policy }')
  onlyKeys(value, 'backpressure', ['maxBufferedBytes', 'policy'])
  const policy = value.policy ?? DEFAULTS.backpressure.policy
  if (policy !== 'drop' && policy !== 'close') fail('backpressure.policy must be "drop" or "close"')
  return { maxBufferedBytes: positiveInteger(value.maxBufferedBytes, 'backpressure.maxBufferedBytes', DEFAULTS.backpressure.maxBufferedBytes, 1024), policy }
}

function resolveCompression (input: unknown): ResolvedOperations['compression'] {
  const given = input === undefined ? DEFAULTS.core.compression : input
  if (given === false) return null
  if (given === true) return { threshold: DEFAULTS.compression.threshold }
  if (!isPlainObject(given)) fail('compression must be a boolean or { threshold }')
  onlyKeys(given, 'compression', ['threshold'])
  return { threshold: positiveInteger(given.threshold, 'compression.threshold', DEFAULTS.compression.threshold, 0) }
}

/** Health, metrics, backpressure, the connection limit, compression and the drain. */
export function resolveOperations (input: Record<string, unknown>): ResolvedOperations {
  if (input.limits !== undefined) {
    fail('limits is not an option group; use maxConnections, maxPayloadSize, maxSubscriptionsPerConnection, backpressure or channels.maxMembers')
  }
  const maxConnections = input.maxConnections === undefined || input.maxConnections === null
    ? DEFAULTS.core.maxConnections
    : positiveInteger(input.maxConnections, 'maxConnections', 0)
  return Object.freeze({
    health: resolveHealth(input.health),
    metrics: resolveMetrics(input.metrics),
    backpressure: resolveBackpressure(input.backpressure),
    maxConnections,
    compression: resolveCompression(input.compression),
    drainTimeout: positiveInteger(input.drainTimeout, 'drainTimeout', DEFAULTS.core.drainTimeout, 0)
  })
}
