import type { FastifyInstance, onRequestAsyncHookHandler } from 'fastify'
import rateLimit from '@fastify/rate-limit'
import { fail, positiveInteger } from '../options.js'
import { isPlainObject } from '../util/paths.js'
import type { ConnectionRateLimitOptions } from './types.js'

export interface ResolvedConnectionRateLimit {
  readonly enabled: boolean
  readonly max: number
  readonly timeWindow: number
  readonly redis: unknown
  readonly keyGenerator: ConnectionRateLimitOptions['keyGenerator'] | null
}

const KEYS = ['enabled', 'max', 'timeWindow', 'redis', 'keyGenerator']

export function resolveConnectionRateLimit (input: unknown): ResolvedConnectionRateLimit {
  if (input === undefined || input === false) return { enabled: false, max: 60, timeWindow: 60_000, redis: null, keyGenerator: null }
  if (!isPlainObject(input)) fail('connectionRateLimit must be an object { enabled?, max?, timeWindow?, redis?, keyGenerator? }')
  for (const key of Object.keys(input)) if (!KEYS.includes(key)) fail(`connectionRateLimit.${key} is not a known option`)
  const enabled = input.enabled ?? true
  if (typeof enabled !== 'boolean') fail('connectionRateLimit.enabled must be a boolean')
  if (input.keyGenerator !== undefined && typeof input.keyGenerator !== 'function') fail('connectionRateLimit.keyGenerator must be a function')
  if (input.redis !== undefined && (input.redis === null || typeof input.redis !== 'object')) fail('connectionRateLimit.redis must be an ioredis client')
  return {
    enabled,
    max: positiveInteger(input.max, 'connectionRateLimit.max', 60),
    timeWindow: positiveInteger(input.timeWindow, 'connectionRateLimit.timeWindow', 60_000),
    redis: input.redis ?? null,
    keyGenerator: (input.keyGenerator as ResolvedConnectionRateLimit['keyGenerator']) ?? null
  }
}

/**
 * An onRequest hook limiting upgrade attempts per key (IP by default) through
 * @fastify/rate-limit: 429 before the handshake. Registers @fastify/rate-limit with
 * `global: false` when the app has not, so no other route is affected.
 */
export async function connectionRateHook (fastify: FastifyInstance, options: ResolvedConnectionRateLimit): Promise<onRequestAsyncHookHandler | null> {
  if (!options.enabled) return null
  if (!fastify.hasDecorator('rateLimit')) {
    await fastify.register(rateLimit, { global: false, ...(options.redis !== null ? { redis: options.redis as never } : {}) })
  }
  // Same (request, reply) signature as an onRequest hook; it runs first on the upgrade route.
  return fastify.rateLimit({
    max: options.max,
    timeWindow: options.timeWindow,
    ...(options.keyGenerator !== null ? { keyGenerator: options.keyGenerator } : {})
  }) as unknown as onRequestAsyncHookHandler
}
