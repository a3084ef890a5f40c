import type { FastifyReply, FastifyRequest } from 'fastify'
import { fail } from '../options.js'
import { isPlainObject } from '../util/paths.js'
import type { OriginMatcher } from './types.js'

export interface ResolvedCors {
  readonly enabled: boolean
  /** The user gave a `cors` group: register @fastify/cors for REST with these options. */
  readonly explicit: boolean
  readonly origin: OriginMatcher
  /** Options for @fastify/cors (origin adapted to its callback style). */
  readonly fastifyCors: Record<string, unknown>
  readonly isAllowed: (origin: string) => Promise<boolean>
}

function validOrigin (value: unknown): value is OriginMatcher {
  const single = (v: unknown): boolean => (typeof v === 'string' && v !== '') || v instanceof RegExp
  return single(value) || typeof value === 'function' || (Array.isArray(value) && value.length > 0 && value.every(single))
}

function matcher (origin: OriginMatcher): (value: string) => Promise<boolean> {
  if (typeof origin === 'function') return async (value) => (await origin(value)) === true
  const list = Array.isArray(origin) ? origin : [origin]
  return async (value) => list.some((entry) => entry === '*' || (typeof entry === 'string' ? entry === value : entry.test(value)))
}

/** Validates `cors`. Without the group, no CORS headers are added and every origin may connect. */
export function resolveCorsOptions (input: unknown): ResolvedCors {
  if (input === undefined) {
    return { enabled: true, explicit: false, origin: '*', fastifyCors: {}, isAllowed: async () => true }
  }
  if (!isPlainObject(input)) fail('cors must be an object { enabled?, origin?, ...@fastify/cors options }')
  const { enabled = true, origin = '*', ...rest } = input
  if (typeof enabled !== 'boolean') fail('cors.enabled must be a boolean')
  if (!validOrigin(origin)) fail('cors.origin must be "*", an origin string, a RegExp, an array of those, or a function (origin) => boolean')
  const isAllowed = matcher(origin)
  const forCors = typeof origin === 'function'
    ? (value: string | undefined, cb: (error: Error | null, allow: boolean) => void) => {
        if (value === undefined) { cb(null, true); return }
        isAllowed(value).then((ok) => { cb(null, ok) }, (error: Error) => { cb(error, false) })
      }
    : origin
  return { enabled, explicit: true, origin, fastifyCors: { ...rest, origin: forCors }, isAllowed: enabled ? isAllowed : async () => true }
}

/**
 * Route hook for the upgrade: a browser always sends `Origin` on a WebSocket handshake, so a
 * disallowed one is a cross-site page trying to use the visitor's connection (CSWSH): 403
 * before any socket opens. Requests without `Origin` are non-browser clients and pass.
 */
export function originHook (cors: ResolvedCors) {
  return async function checkOrigin (request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const origin = request.headers.origin
    if (origin === undefined || await cors.isAllowed(origin).catch(() => false)) return
    request.log.info({ origin: origin.slice(0, 200) }, 'realtime: upgrade refused, origin not allowed')
    await reply.code(403).send({ statusCode: 403, code: 'FORBIDDEN', error: 'Forbidden', message: 'Origin not allowed' })
  }
}
