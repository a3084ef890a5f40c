import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify'
import type { RealtimeUser } from '../types.js'
import type { UpgradeAuth } from './auth-drivers.js'
import type { FastifyJwtVerifier } from './fastify-jwt.js'
import type { TicketStore } from './tickets.js'
import type { AuthDriver, Verified } from './types.js'
import { callAppAuthenticate, identify, invalid } from './user.js'

const MAX_TOKEN_LENGTH = 8192

interface Credentials {
  token: string | null
  ticket: string | null
}

function single (value: unknown): string | null | false {
  if (value === undefined) return null
  // `?token=a&token=b` is ambiguous: refuse rather than pick one.
  if (typeof value !== 'string' || value === '' || value.length > MAX_TOKEN_LENGTH) return false
  return value
}

/** Token sources: `Authorization: Bearer`, `?token=`, one-time `?ticket=`. false = malformed. */
export function readCredentials (request: FastifyRequest): Credentials | false {
  const query = (request.query ?? {}) as Record<string, unknown>
  const ticket = single(query.ticket)
  let token = single(query.token)
  const header = request.headers.authorization
  if (header !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header)
    if (match === null) return false
    token = single(match[1])
  }
  if (ticket === false || token === false) return false
  return { token, ticket }
}

/**
 * The first driver that accepts the token decides. When none does, a driver that verified the
 * token but found no user id is the more useful answer than "invalid".
 */
export async function verifyToken (drivers: readonly AuthDriver[], token: string): Promise<Verified> {
  if (token.length === 0 || token.length > MAX_TOKEN_LENGTH) return invalid()
  let refused: Verified = invalid()
  for (const driver of drivers) {
    const result = await driver.verify(token)
    if (result.ok) return result
    if (result.reason === 'no-user-id') refused = result
  }
  return refused
}

/** A credential that verified but named nobody is a setup problem worth a warning (never the token). */
export function warnNoUserId (log: FastifyBaseLogger, result: Verified, source: string): void {
  if (result.ok || result.reason !== 'no-user-id') return
  log.warn({ source, claimNames: result.claimNames ?? [] }, 'realtime: credential verified but names no user (no "id" or "sub"); refused')
}

async function unauthorized (reply: FastifyReply, message: string): Promise<void> {
  await reply.code(401).header('www-authenticate', 'Bearer').send({ statusCode: 401, code: 'UNAUTHORIZED', error: 'Unauthorized', message })
}

/**
 * `?token=` on the WS route as the Bearer header @fastify/jwt reads (an Authorization header the
 * client sent wins). Ambiguous repeats are left alone: jwtVerify then finds no token.
 */
export function exposeQueryToken (headers: Record<string, string | string[] | undefined>, token: unknown): void {
  if (headers.authorization !== undefined) return
  const value = single(token)
  if (typeof value === 'string') headers.authorization = `Bearer ${value}`
}

type Outcome = Verified | null | 'replied'

/** Whoever the upgrade request proves to be, by the configured mode; null = no credential. */
async function authenticateRequest (
  request: FastifyRequest, reply: FastifyReply, auth: UpgradeAuth, jwt: FastifyJwtVerifier | null
): Promise<Outcome | false> {
  const query = (request.query ?? {}) as Record<string, unknown>
  if (jwt !== null) {
    exposeQueryToken(request.headers, query.token)
    return await jwt.verifyRequest(request)
  }
  if (auth.authenticate !== null) {
    const user = await callAppAuthenticate(auth.authenticate, request, reply)
    if (reply.sent) return 'replied'
    return user === null || user === undefined ? null : identify(user)
  }
  const credentials = readCredentials(request)
  if (credentials === false) return false
  return credentials.token === null ? null : await verifyToken(auth.drivers, credentials.token)
}

/**
 * Route hook for the upgrade. A presented credential must be valid even when auth is optional:
 * a client that sent a token expects to be that user, not silently anonymous. With `required`
 * and `inBand`, a request without any credential is let through anonymous: the socket must then
 * authenticate with its first message (see InBandGate).
 */
export function authHook (auth: UpgradeAuth, tickets: TicketStore, jwt: FastifyJwtVerifier | null) {
  return async function authenticate (request: FastifyRequest, reply: FastifyReply): Promise<void> {
    jwt?.capture(request)
    const ticket = single(((request.query ?? {}) as Record<string, unknown>).ticket)
    if (ticket === false) return await unauthorized(reply, 'Malformed credentials')
    let user: RealtimeUser | null = null
    if (ticket !== null) {
      user = await tickets.redeem(ticket)
      if (user === null) return await unauthorized(reply, 'Invalid, used or expired ticket')
    } else {
      const outcome = await authenticateRequest(request, reply, auth, jwt)
      if (outcome === 'replied') return
      if (outcome === false) return await unauthorized(reply, 'Malformed credentials')
      if (outcome !== null && !outcome.ok) {
        warnNoUserId(request.log, outcome, 'upgrade')
        return await unauthorized(reply, outcome.message)
      }
      user = outcome?.user ?? null
    }
    if (user === null && auth.required && !auth.inBand) return await unauthorized(reply, 'Authentication required')
    request.realtimeUser = user
  }
}
