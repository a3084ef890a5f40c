import type { FastifyRequest } from 'fastify'
import { isPlainObject } from '../util/paths.js'
import { DEFAULTS } from './defaults.js'
import { fail, onlyKeys, positiveInteger } from './validate.js'

/** Messages per socket (the seed's `rateLimit`). */
export interface MessageRateLimitOptions {
  /** @default false */
  enabled?: boolean
  /** @default 60000 */
  windowMs?: number
  /** @default 100 */
  maxRequests?: number
  /** Close with 1008 after exceeding the limit in this many consecutive windows. @default 3 */
  closeAfterWindows?: number
}

/** Connection attempts per IP on the upgrade route (@fastify/rate-limit), 429 when exceeded. */
export interface ConnectionRateLimitOptions {
  /** On once the group is given. @default true */
  enabled?: boolean
  /** Upgrade requests per window and key. @default 60 */
  max?: number
  /** Window, ms. @default 60000 */
  timeWindow?: number
  /** An ioredis client to share counters between instances (caller-owned, never closed). */
  redis?: unknown
  /** Key of a client. Without it: request.ip. */
  keyGenerator?: (request: FastifyRequest) => string | number | Promise<string | number>
}

export interface ResolvedMessageRateLimit {
  readonly enabled: boolean
  readonly windowMs: number
  readonly maxRequests: number
  readonly closeAfterWindows: number
}

export interface ResolvedConnectionRateLimit {
  readonly enabled: boolean
  readonly max: number
  readonly timeWindow: number
  readonly redis: unknown
  readonly keyGenerator: ConnectionRateLimitOptions['keyGenerator'] | null
}

export function resolveMessageRateLimit (input: unknown): ResolvedMessageRateLimit {
  if (input === undefined) return { ...DEFAULTS.rateLimit }
  if (!isPlainObject(input)) fail('rateLimit must be an object { enabled?, windowMs?, maxRequests?, closeAfterWindows? }')
  onlyKeys(input, 'rateLimit', Object.keys(DEFAULTS.rateLimit))
  const enabled = input.enabled ?? DEFAULTS.rateLimit.enabled
  if (typeof enabled !== 'boolean') fail('rateLimit.enabled must be a boolean')
  return {
    enabled,
    windowMs: positiveInteger(input.windowMs, 'rateLimit.windowMs', DEFAULTS.rateLimit.windowMs),
    maxRequests: positiveInteger(input.maxRequests, 'rateLimit.maxRequests', DEFAULTS.rateLimit.maxRequests),
    closeAfterWindows: positiveInteger(input.closeAfterWindows, 'rateLimit.closeAfterWindows', DEFAULTS.rateLimit.closeAfterWindows)
  }
}

const CONNECTION_RATE_KEYS = ['enabled', 'max', 'timeWindow', 'redis', 'keyGenerator']

export function resolveConnectionRateLimit (input: unknown): ResolvedConnectionRateLimit {
  const defaults = DEFAULTS.connectionRateLimit
  const value = input === undefined ? DEFAULTS.core.connectionRateLimit : input
  if (value === false) return { enabled: false, max: defaults.max, timeWindow: defaults.timeWindow, redis: null, keyGenerator: null }
  if (!isPlainObject(value)) fail('connectionRateLimit must be an object { enabled?, max?, timeWindow?, redis?, keyGenerator? }')
  onlyKeys(value, 'connectionRateLimit', CONNECTION_RATE_KEYS)
  const enabled = value.enabled ?? defaults.enabled
  if (typeof enabled !== 'boolean') fail('connectionRateLimit.enabled must be a boolean')
  if (value.keyGenerator !== undefined && typeof value.keyGenerator !== 'function') fail('connectionRateLimit.keyGenerator must be a function')
  if (value.redis !== undefined && (value.redis === null || typeof value.redis !== 'object')) fail('connectionRateLimit.redis must be an ioredis client')
  return {
    enabled,
    max: positiveInteger(value.max, 'connectionRateLimit.max', defaults.max),
    timeWindow: positiveInteger(value.timeWindow, 'connectionRateLimit.timeWindow', defaults.timeWindow),
    redis: value.redis ?? null,
    keyGenerator: (value.keyGenerator as ResolvedConnectionRateLimit['keyGenerator']) ?? null
  }
}
