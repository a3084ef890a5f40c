import type { RealtimeApi } from './realtime/api.js'
import type { RealtimeUser } from './types.js'

export type { RealtimeApi, RealtimeEvents } from './realtime/api.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The s3db-realtime API: broadcast, getClients, getMetrics, events … (docs/api.md). */
    realtime: RealtimeApi
  }
  interface FastifyRequest {
    /** Set by the upgrade's auth hook; null for anonymous clients. */
    realtimeUser: RealtimeUser | null
  }
}
