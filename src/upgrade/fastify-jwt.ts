import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { ResolvedFastifyJwt } from '../options/auth.js'
import { fail } from '../options/validate.js'
import type { Verified } from './types.js'
import { identify, invalid } from './user.js'

/** @fastify/jwt's request method, called with a request (or a stand-in) as `this`. */
type JwtVerifyMethod = (this: object) => Promise<unknown>

/** @fastify/jwt's "no token in this request" errors: anonymous, not invalid. */
const NO_CREDENTIAL_CODES = new Set([
  'FST_JWT_NO_AUTHORIZATION_IN_HEADER', 'FST_JWT_NO_AUTHORIZATION_IN_COOKIE', 'FST_JWT_BAD_COOKIE_REQUEST'
])

interface JwtDecorator {
  cookie?: { cookieName?: string }
}

function httpStatus (error: unknown): number | null {
  const status = (error as { statusCode?: unknown } | null)?.statusCode
  return typeof status === 'number' ? status : null
}

/**
 * Authenticates with the app's own @fastify/jwt, so its secret or key pair, JWKS callback,
 * `cookie`, `formatUser`, `trusted` and `decoratorName` all apply. The upgrade calls
 * `request.jwtVerify()` on the real request. An `auth` message calls the same method on a
 * stand-in request carrying the token (as Bearer header, `?token=` and cookie) so the result
 * matches the upgrade's, revocation included; callbacks that read other request fields see
 * only `headers.authorization`, `query.token`, `cookies`, `ip` and `log`.
 */
export class FastifyJwtVerifier {
  /** Taken from the first upgrade request (see capture). */
  private method: JwtVerifyMethod | null = null
  private readonly cookieName: string | null

  constructor (fastify: FastifyInstance, private readonly options: ResolvedFastifyJwt) {
    const jwt = (fastify as unknown as { jwt?: Record<string, unknown> }).jwt
    const decorator = (options.namespace === null ? jwt : jwt?.[options.namespace]) as JwtDecorator | undefined
    if (decorator === undefined || !fastify.hasRequestDecorator(options.method)) {
      const which = options.namespace === null ? '' : ` (namespace "${options.namespace}")`
      fail(`auth.jwt: @fastify/jwt${which} is not registered (no request.${options.method}()): register @fastify/jwt before s3db-realtime, or use auth.drivers`)
    }
    this.cookieName = typeof decorator.cookie?.cookieName === 'string' ? decorator.cookie.cookieName : null
  }

  /**
   * Keeps the decorator's function from a real request: every request of this instance shares
   * it, so `auth` messages (which always come after an upgrade) are verified exactly like the
   * upgrade, without reaching into Fastify's internals.
   */
  capture (request: FastifyRequest): void {
    if (this.method !== null) return
    const method = (request as unknown as Record<string, unknown>)[this.options.method]
    if (typeof method === 'function') this.method = method as JwtVerifyMethod
  }

  /** The upgrade: null when the request carries no token (anonymous unless required). */
  async verifyRequest (request: FastifyRequest): Promise<Verified | null> {
    this.capture(request)
    return await this.run(request)
  }

  /** An `auth` message's token. */
  async verifyToken (token: string, meta: { ip: string | null, log: unknown }): Promise<Verified> {
    const standIn = {
      headers: { authorization: `Bearer ${token}` },
      query: { token },
      cookies: this.cookieName === null ? {} : { [this.cookieName]: token },
      // The token arrives in clear: a signed-cookie setup has nothing to unsign.
      unsignCookie: (value: string) => ({ valid: true, renew: false, value }),
      ip: meta.ip,
      log: meta.log,
      realtime: true,
      // Called without a callback, @fastify/jwt re-enters through this name to make its promise.
      [this.options.method]: this.method
    }
    return await this.run(standIn) ?? invalid('No token')
  }

  private async run (request: object): Promise<Verified | null> {
    if (this.method === null) throw new Error(`request.${this.options.method} is not a function`)
    let result: unknown
    try {
      result = await this.method.call(request)
    } catch (error) {
      const code = (error as { code?: unknown } | null)?.code
      if (typeof code === 'string' && NO_CREDENTIAL_CODES.has(code)) return null
      // 400/401 are the token's fault, and so is every fast-jwt refusal @fastify/jwt passes
      // through unwrapped (a disallowed algorithm, a future nbf); anything else (a JWKS fetch
      // that failed) is the server's.
      const status = httpStatus(error)
      if (status === 400 || status === 401) return invalid((error as Error).message)
      if (typeof code === 'string' && code.startsWith('FAST_JWT_')) return invalid()
      throw error
    }
    return withTokenExpiry(identify(result), this.presentedToken(request))
  }

  /** The token @fastify/jwt looked at (its lookup order: Bearer header, then the cookie). */
  private presentedToken (request: object): string | null {
    const { headers, cookies } = request as { headers?: { authorization?: unknown }, cookies?: Record<string, unknown> }
    const header = headers?.authorization
    if (typeof header === 'string' && /^Bearer\s/i.test(header)) return header.split(' ')[1] ?? null
    const cookie = this.cookieName === null ? undefined : cookies?.[this.cookieName]
    return typeof cookie === 'string' ? cookie : null
  }

  get name (): string {
    return this.options.method
  }
}

/**
 * The session ends when the verified token does, whatever `formatUser` kept: most formatUser
 * functions drop `exp`, and a user without it would never be closed with 4001.
 */
function withTokenExpiry (verified: Verified, token: string | null): Verified {
  if (!verified.ok || token === null) return verified
  const exp = expOf(token)
  if (exp === null) return verified
  const own = verified.user.exp
  verified.user.exp = typeof own === 'number' && Number.isFinite(own) ? Math.min(own, exp) : exp
  return verified
}

function expOf (token: string): number | null {
  const payload = token.split('.')[1]
  if (payload === undefined) return null
  try {
    const exp = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp?: unknown }).exp
    return typeof exp === 'number' && Number.isFinite(exp) ? exp : null
  } catch {
    return null
  }
}
