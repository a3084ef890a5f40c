import type { FastifyInstance } from 'fastify'
import { realtimeParts, type RealtimeParts } from '../../src/realtime/realtime.js'

/**
 * The parts behind `app.realtime` (LocalHub, ChangeStream, channels, readiness …): tests look
 * at connections, counters and epochs that the public `RealtimeApi` deliberately leaves out.
 */
export function partsOf (app: FastifyInstance): RealtimeParts {
  return realtimeParts(app.realtime)
}
