import { isPlainObject } from '../util/paths.js'
import { DEFAULTS } from './defaults.js'
import { fail } from './validate.js'

type MaybePromise<T> = T | Promise<T>

export type OriginMatcher = string | RegExp | Array<string | RegExp> | ((origin: string) => MaybePromise<boolean>)

/** CORS for REST (through @fastify/cors) and the `Origin` check on the upgrade. */
export interface CorsOptions {
  /** @default true */
  enabled?: boolean
  /** Allowed origins. @default '*' */
  origin?: OriginMatcher
  /** Other @fastify/cors options (credentials, methods, …) passed through for REST routes. */
  [corsOption: string]: unknown
}

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

/**
 * Validates `cors`. Without the group the plugin adds no CORS headers, and the upgrade follows the
 * app's @fastify/cors when it has one (src/upgrade/origin.ts), else lets every origin connect.
 */
export function resolveCors (input: unknown): ResolvedCors {
  if (input === undefined) {
    return { enabled: DEFAULTS.cors.enabled, explicit: false, origin: DEFAULTS.cors.origin, fastifyCors: {}, isAllowed: async () => true }
  }
  if (!isPlainObject(input)) fail('cors must be an object { enabled?, origin?, ...@fastify/cors options }')
  const { enabled = DEFAULTS.cors.enabled, origin = DEFAULTS.cors.origin, ...rest } = input
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
