import type { FastifyInstance } from 'fastify'
import type { ResolvedTickets } from '../options/tickets.js'
import { TicketNotSharedError, type TicketStore } from './tickets.js'
import { callAppAuthenticate, identify } from './user.js'

/**
 * The opt-in `POST <path>/ticket` route. Who may get a ticket is the app's decision
 * (`authenticate`); the answer is never cached because a ticket is a credential.
 */
export function registerTicketRoute (fastify: FastifyInstance, route: NonNullable<ResolvedTickets['route']>, store: TicketStore): void {
  fastify.post(route.path, async (request, reply) => {
    const user = await callAppAuthenticate(route.authenticate, request, reply)
    if (reply.sent) return reply
    if (user === null || user === undefined) {
      return await reply.code(401).send({ statusCode: 401, code: 'UNAUTHORIZED', error: 'Unauthorized', message: 'Authentication required' })
    }
    if (!identify(user).ok) {
      request.log.error('realtime: tickets.route.authenticate returned a user without an "id"')
      return await reply.code(500).send({ statusCode: 500, error: 'Internal Server Error', message: 'Authentication failed' })
    }
    let issued
    try {
      issued = await store.issueShared(user)
    } catch (error) {
      if (!(error instanceof TicketNotSharedError)) throw error
      request.log.warn({ err: error.cause }, 'realtime: ticket not stored for the cluster')
      return await reply.code(503).header('cache-control', 'no-store').send({ statusCode: 503, code: 'UNAVAILABLE', error: 'Service Unavailable', message: error.message })
    }
    return await reply.header('cache-control', 'no-store').send(issued)
  })
}
