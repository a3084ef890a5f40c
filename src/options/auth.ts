import type { FastifyReply, FastifyRequest } from 'fastify'
import type { RealtimeUser } from '../types.js'
import { isPlainObject } from '../util/paths.js'
import { resolveDriverList, type AuthDriverOptions, type AuthDriverSpec } from './auth-drivers.js'
import { DEFAULTS } from './defaults.js'
import { fail, nonEmptyString, onlyKeys, positiveInteger } from './validate.js'

export type { AuthDriverOptions, AuthDriverSpec, ApiKeyDriverConfig, ClaimChecks, JwtDriverConfig, OidcDriverConfig } from './auth-drivers.js'

type MaybePromise<T> = T | Promise<T>

/** `auth.jwt` as an object: which registration of the app's @fastify/jwt to use. */
export interface FastifyJwtAuthOptions {
  /** The `namespace` @fastify/jwt was registered with (its request method is then `${namespace}JwtVerify`). */
  namespace?: string
  /** The request method, when @fastify/jwt was registered with a custom `jwtVerify` name. Without it: 'jwtVerify' (or `${namespace}JwtVerify`). */
  jwtVerify?: string
}

export interface AuthOptions {
  /**
   * Refuse (401 before the handshake) connections without a valid credential. With `inBand`,
   * a socket without one is accepted for `handshakeTimeout` to authenticate with an `auth`
   * message. @default false
   */
  required?: boolean
  /**
   * `'fastify'`: authenticate with the app's own @fastify/jwt (`request.jwtVerify()`: its secret
   * or key pair, JWKS callback, `cookie`, `formatUser`, `trusted`, `decoratorName` all apply).
   * `?token=` on the WS route is read as a Bearer header; `auth` messages are verified the same
   * way. @fastify/jwt must be registered before this plugin.
   */
  jwt?: 'fastify' | FastifyJwtAuthOptions
  /**
   * The app's own check for the upgrade (session cookie, @fastify/auth strategy, custom header):
   * return the user, or null/undefined for anonymous (401 when `required`). It may also reply
   * itself (e.g. 403). `auth` messages are refused unless `drivers` are given to verify them.
   */
  authenticate?: (request: FastifyRequest, reply: FastifyReply) => MaybePromise<RealtimeUser | null | undefined>
  /**
   * With `required`: accept a socket without credentials and let it authenticate with its first
   * message (`{type:'auth', token}` or `{type:'auth', ticket}`), the browser path that keeps
   * tokens out of URLs. Until then every other message but `ping` gets UNAUTHORIZED.
   * @default false
   */
  inBand?: boolean
  /** With `inBand`: ms an unauthenticated socket has to authenticate before it is closed with 1008. @default 10000 */
  handshakeTimeout?: number
  /** Built-in token verifiers, tried in order; the first that accepts the token wins. @default [] */
  drivers?: AuthDriverOptions[]
}

/** `auth.jwt`: which request method of the app's @fastify/jwt verifies tokens. */
export interface ResolvedFastifyJwt {
  /** The request method: `jwtVerify`, `${namespace}JwtVerify`, or the app's own name. */
  readonly method: string
  readonly namespace: string | null
}

export interface ResolvedAuth {
  readonly required: boolean
  /** What to build, in the order given (src/upgrade/auth-drivers.ts builds them). */
  readonly drivers: readonly AuthDriverSpec[]
  /** The app's @fastify/jwt (`auth.jwt`), checked against the instance in setupUpgrade. */
  readonly jwt: ResolvedFastifyJwt | null
  readonly authenticate: NonNullable<AuthOptions['authenticate']> | null
  /** `required` sockets without credentials may authenticate with their first message. */
  readonly inBand: boolean
  readonly handshakeTimeout: number
}

function fastifyJwtOption (value: unknown): ResolvedFastifyJwt | null {
  if (value === undefined || value === false) return DEFAULTS.auth.jwt
  if (value === 'fastify' || value === true) return { method: 'jwtVerify', namespace: null }
  if (!isPlainObject(value)) fail('auth.jwt must be \'fastify\' or { namespace?, jwtVerify? } (the app\'s @fastify/jwt)')
  onlyKeys(value, 'auth.jwt', ['namespace', 'jwtVerify'], 'option', true)
  const namespace = value.namespace === undefined ? null : nonEmptyString(value.namespace, 'auth.jwt.namespace')
  const method = value.jwtVerify === undefined
    ? namespace === null ? 'jwtVerify' : `${namespace}JwtVerify`
    : nonEmptyString(value.jwtVerify, 'auth.jwt.jwtVerify')
  return { method, namespace }
}

const AUTH_KEYS = Object.keys(DEFAULTS.auth)

/** Validates `auth` and describes its drivers, in the order given. */
export function resolveAuth (input: unknown): ResolvedAuth {
  const none: ResolvedAuth = { ...DEFAULTS.auth, drivers: [] }
  if (input === undefined) return none
  if (!isPlainObject(input)) fail('auth must be an object { required?, jwt?, authenticate?, inBand?, handshakeTimeout?, drivers? }')
  onlyKeys(input, 'auth', AUTH_KEYS, 'option', true)
  const required = input.required ?? DEFAULTS.auth.required
  if (typeof required !== 'boolean') fail('auth.required must be a boolean')
  const jwt = fastifyJwtOption(input.jwt)
  const authenticate = input.authenticate ?? DEFAULTS.auth.authenticate
  if (authenticate !== null && typeof authenticate !== 'function') fail('auth.authenticate must be a function (request, reply) => user | null')
  const drivers = resolveDriverList(input)
  // One source of truth per credential: two verifiers for the same token would disagree on users.
  if (jwt !== null && authenticate !== null) fail('auth.jwt and auth.authenticate are alternatives: give one')
  if (jwt !== null && drivers.length > 0) fail('auth.jwt and auth.drivers both verify tokens: give one (auth.jwt uses the app\'s @fastify/jwt)')
  const inBand = input.inBand ?? DEFAULTS.auth.inBand
  if (typeof inBand !== 'boolean') fail('auth.inBand must be a boolean')
  if (input.handshakeTimeout !== undefined && !inBand) fail('auth.handshakeTimeout only applies with auth.inBand: true')
  const handshakeTimeout = positiveInteger(input.handshakeTimeout, 'auth.handshakeTimeout', DEFAULTS.auth.handshakeTimeout)
  return { required, drivers, jwt, authenticate: authenticate as ResolvedAuth['authenticate'], inBand, handshakeTimeout }
}
