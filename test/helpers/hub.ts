import type { FastifyInstance } from 'fastify'
import type { Hub } from '../../src/hub/hub.js'

/**
 * The hub behind `app.realtime`, internals included: tests look at connections, counters and
 * epochs that the public `RealtimeApi` type deliberately leaves out.
 */
export function hubOf (app: FastifyInstance): Hub {
  return app.realtime as unknown as Hub
}
