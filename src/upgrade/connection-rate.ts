import type { FastifyInstance, onRequestAsyncHookHandler } from 'fastify'
import rateLimit from '@fastify/rate-limit'
import type { ResolvedConnectionRateLimit } from '../options/rate-limits.js'

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
