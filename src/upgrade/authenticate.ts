import type { FastifyReply, FastifyRequest } from 'fastify'
import type { RealtimeUser } from '../types.js'
import type { ResolvedAuth } from './auth-options.js'
import type { TicketStore } from './tickets.js'
import type { AuthDriver } from './types.js'

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

/** The first driver that accepts the token decides; null when none does. */
export async function verifyToken (drivers: readonly AuthDriver[], token: string): Promise<RealtimeUser | null> {
  if (token.length === 0 || token.length > MAX_TOKEN_LENGTH) return null
  for (const driver of drivers) {
    const user = await driver.verify(token)
    if (user !== null) return user
  }
  return null
}

async function unauthorized (reply: FastifyReply, message: string): Promise<void> {
  await reply.code(401).header('www-authenticate', 'Bearer').send({ statusCode: 401, code: 'UNAUTHORIZED', error: 'Unauthorized', message })
}

/**
 * Route hook for the upgrade. A presented credential must be valid even when auth is optional:
 * a client that sent a token expects to be that user, not silently anonymous.
 */
export function authHook (auth: ResolvedAuth, tickets: TicketStore) {
  return async function authenticate (request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const credentials = readCredentials(request)
    if (credentials === false) return await unauthorized(reply, 'Malformed credentials')
    let user: RealtimeUser | null = null
    if (credentials.ticket !== null) {
      user = await tickets.redeem(credentials.ticket)
      if (user === null) return await unauthorized(reply, 'Invalid, used or expired ticket')
    } else if (credentials.token !== null) {
      user = await verifyToken(auth.drivers, credentials.token)
      if (user === null) return await unauthorized(reply, 'Invalid or expired token')
    } else if (auth.required) {
      return await unauthorized(reply, 'Authentication required')
    }
    request.realtimeUser = user
  }
}
