import type { KeyObject } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { RealtimeUser } from '../types.js'

type MaybePromise<T> = T | Promise<T>

/** `jwt` driver: exactly one of `secret` (HS*), `publicKey` (RS/PS/ES/EdDSA) or `jwksUri` (keys by `kid`). */
export interface JwtDriverConfig {
  /**
   * Shared secret for HS256/HS384/HS512 (a string, or a KeyObject of type 'secret'). Key material
   * (PEM, JWK, DER, OpenSSH, an asymmetric KeyObject) is refused: use `publicKey` for it.
   */
  secret?: string | KeyObject
  /** A static public key (PEM string or KeyObject) for RS/PS/ES/EdDSA tokens. */
  publicKey?: string | KeyObject
  /** JWKS endpoint: keys are fetched by `kid`, cached, and refetched at most every 30 s. */
  jwksUri?: string
  /** Required `iss` (mandatory with `jwksUri`). */
  issuer?: string
  /** Required `aud` (mandatory with `jwksUri`). */
  audience?: string | string[]
  /**
   * Accepted algorithms; a token whose header names another is refused before any key work.
   * @default ['HS256','HS384','HS512'] with secret; from the key with publicKey (RSA: RS256, EC:
   * ES256/384/512 by curve, Ed25519/Ed448: EdDSA); every RS/PS/ES/EdDSA with jwksUri.
   */
  algorithms?: string[]
  /** Clock skew tolerated on `exp`/`nbf`, ms. @default 0 */
  clockTolerance?: number
}

/** `oidc` driver: keys discovered from `${issuer}/.well-known/openid-configuration`. */
export interface OidcDriverConfig {
  issuer: string
  /** Expected audience (`aud`). */
  clientId: string
  /** @default every RS/PS/ES/EdDSA algorithm (never HS* or none) */
  algorithms?: string[]
  clockTolerance?: number
}

/** `apiKey` driver: key -> user. Keys are compared in constant time. */
export interface ApiKeyDriverConfig {
  keys: Record<string, Partial<RealtimeUser> & Record<string, unknown>>
}

export type AuthDriverOptions =
  | { driver: 'jwt', config: JwtDriverConfig }
  | { driver: 'oidc', config: OidcDriverConfig }
  | { driver: 'apiKey', config: ApiKeyDriverConfig }

/** `auth.jwt` as an object: which registration of the app's @fastify/jwt to use. */
export interface FastifyJwtAuthOptions {
  /** The `namespace` @fastify/jwt was registered with (its request method is then `${namespace}JwtVerify`). */
  namespace?: string
  /** The request method, when @fastify/jwt was registered with a custom `jwtVerify` name. @default 'jwtVerify' */
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

/** One-time connection tickets (`?ticket=`). */
export interface TicketOptions {
  /** Lifetime of a ticket, ms. @default 30000 */
  ttlMs?: number
  /** Outstanding (unused, unexpired) tickets kept at most per instance; the oldest are dropped. @default 10000 */
  maxOutstanding?: number
  /**
   * Outstanding tickets per user (by `user.id`) per instance; a new ticket evicts that user's own
   * oldest, never another user's. @default 10
   */
  maxPerUser?: number
  /** Opt-in REST route `POST <path>/ticket`. */
  route?: {
    /** @default `${path}/ticket` */
    path?: string
    /**
     * The app's own authentication for the route: return the user to issue a ticket for, or
     * null/undefined to refuse with 401 (it may also send its own reply).
     */
    authenticate: (request: FastifyRequest, reply: FastifyReply) => MaybePromise<RealtimeUser | null | undefined>
  }
}

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

/** Connection attempts per IP on the upgrade route (@fastify/rate-limit), 429 when exceeded. */
export interface ConnectionRateLimitOptions {
  /** @default true when the group is given */
  enabled?: boolean
  /** Upgrade requests per window and key. @default 60 */
  max?: number
  /** Window, ms. @default 60000 */
  timeWindow?: number
  /** An ioredis client to share counters between instances (caller-owned, never closed). */
  redis?: unknown
  /** Key of a client. @default request.ip */
  keyGenerator?: (request: FastifyRequest) => string | number | Promise<string | number>
}

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

/** What `issueTicket` returns. */
export interface IssuedTicket {
  ticket: string
  expiresAt: string
}

/**
 * The outcome of checking a credential. `no-user-id`: it verified but names nobody (no `id` or
 * `sub`), which is refused with a message saying so, not as an invalid token.
 */
export type Verified =
  | { readonly ok: true, readonly user: RealtimeUser }
  | { readonly ok: false, readonly reason: 'invalid' | 'no-user-id', readonly message: string, readonly claimNames?: readonly string[] }

/** A built-in token verifier. */
export interface AuthDriver {
  readonly name: string
  verify (token: string): Promise<Verified>
}
