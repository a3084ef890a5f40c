import type { FastifyBaseLogger, FastifyContextConfig, FastifyInstance, onRequestAsyncHookHandler } from 'fastify'
import fastifyCors from '@fastify/cors'
import type { LocalHub } from '../hub/local-hub.js'
import type { RealtimeUser } from '../types.js'
import type { IssuedTicket } from './types.js'
import { MessageRateLimiter } from '../limits/message-rate.js'
import type { ResolvedOptions } from '../options/index.js'
import type { Connection } from '../connection/connection.js'
import { buildAuth } from './auth-drivers.js'
import { authHook, verifyToken } from './authenticate.js'
import { FastifyJwtVerifier } from './fastify-jwt.js'
import { InBandGate } from './in-band.js'
import { AuthFailures, type AuthServices } from './message-auth.js'
import { exposeQueryTokenEarly } from './query-token.js'
import { connectionRateHook } from './connection-rate.js'
import { originHook } from './origin.js'
import { installLogRedaction, upgradeLogSerializers } from './redact.js'
import { ExpiryWatch } from './session.js'
import { registerTicketRoute } from './ticket-route.js'
import { TicketStore } from './tickets.js'
import type { Stash } from '../bus/types.js'

// Untyped on purpose (like the health routes' flags): no augmentation of the app's FastifyContextConfig.
const WS_ROUTE_CONFIG = { websocket: true } as FastifyContextConfig

export interface UpgradeSetup {
  /** Spread into the WS route's options: rate limit ▸ origin ▸ auth, and redacted URL logging. */
  readonly routeOptions: {
    onRequest: onRequestAsyncHookHandler[]
    logSerializers: typeof upgradeLogSerializers
    /**
     * `request.routeOptions.config.websocket` is true on the WS route, so an app-wide auth hook
     * can skip it: `if (request.routeOptions.config.websocket) return`.
     */
    config: FastifyContextConfig
  }
  /** What the `auth` message handler checks credentials with (`ctx.services.auth`). */
  readonly auth: AuthServices
  /**
   * Dispatcher pre-handlers, in order: the per-socket message rate limit, then the in-band gate
   * (frames refused for want of auth still count against the limit).
   */
  readonly preHandlers: ReadonlyArray<(connection: Connection, type: string) => void>
  /** Charges one more request to a socket's message rate (batch items); null when `rateLimit` is off. */
  readonly messageRate: ((connection: Connection) => void) | null
  /** Clustered: tickets issued on any instance can be redeemed on any other (once). */
  shareTickets: (bus: Stash) => void
  /** Issues `?ticket=` tickets (`app.realtime.issueTicket`). */
  readonly tickets: { issue: (user: RealtimeUser, ttlMs?: number) => IssuedTicket }
}

/** The option groups the upgrade uses, resolved by src/options. */
export type UpgradeOptions = Pick<ResolvedOptions, 'core' | 'auth' | 'tickets' | 'cors' | 'connectionRateLimit' | 'rateLimit'>

/**
 * Everything that happens before a socket opens (auth, origin, connection rate) and the parts
 * of authentication that live on after it (expiry, refresh, tickets, message rate limit).
 * The options were validated at register (src/options); the auth drivers are built here.
 */
export async function setupUpgrade (
  fastify: FastifyInstance, options: UpgradeOptions, hub: LocalHub, log: FastifyBaseLogger
): Promise<UpgradeSetup> {
  const { core, tickets, cors, connectionRateLimit: connectionRate, rateLimit: messageRate } = options
  const auth = buildAuth(options.auth, log)

  // Credentials in query strings are scrubbed from every line the app logs, not only this route's.
  installLogRedaction(fastify.log)
  // Checked now, at register: a missing @fastify/jwt must not surface as 500s on the first upgrade.
  const jwt = auth.jwt === null ? null : new FastifyJwtVerifier(fastify, auth.jwt)
  const store = new TicketStore(tickets)
  const expiry = new ExpiryWatch(hub)
  const limiter = messageRate.enabled ? new MessageRateLimiter(messageRate) : null
  if (limiter !== null) hub.signals.on('disconnected', (connection) => { limiter.forget(connection.id) })
  const gate = auth.required && auth.inBand ? new InBandGate(hub, auth.handshakeTimeout) : null
  // An app-wide hook calling request.jwtVerify() runs before any route hook: the query token
  // must be a header before Fastify sees the request at all.
  if (jwt !== null) exposeQueryTokenEarly(fastify, `${fastify.prefix}${core.path}`)

  if (cors.explicit && cors.enabled && !fastify.hasPlugin('@fastify/cors')) {
    await fastify.register(fastifyCors, cors.fastifyCors)
  }
  const onRequest: onRequestAsyncHookHandler[] = []
  const rateHook = await connectionRateHook(fastify, connectionRate)
  if (rateHook !== null) onRequest.push(rateHook)
  if (cors.enabled) onRequest.push(originHook(cors))
  onRequest.push(authHook(auth, store, jwt))
  if (tickets.route !== null) registerTicketRoute(fastify, tickets.route, store)

  fastify.addHook('onClose', async () => {
    expiry.stop()
    gate?.stop()
    store.clear()
  })
  return {
    routeOptions: { onRequest, logSerializers: upgradeLogSerializers, config: WS_ROUTE_CONFIG },
    tickets: { issue: (user, ttlMs) => store.issue(user, ttlMs) },
    auth: {
      verifyToken: jwt !== null
        ? async (token, connection) => await jwt.verifyToken(token, { ip: typeof connection.metadata.ip === 'string' ? connection.metadata.ip : null, log: connection.log })
        // Only auth.authenticate without drivers has nothing to check a token with.
        : auth.authenticate !== null && auth.drivers.length === 0 ? null : async (token) => await verifyToken(auth.drivers, token),
      redeemTicket: async (ticket) => await store.redeem(ticket),
      expiry,
      gate,
      failures: new AuthFailures()
    },
    preHandlers: [...(limiter !== null ? [limiter.check] : []), ...(gate !== null ? [gate.check] : [])],
    messageRate: limiter === null ? null : limiter.check,
    shareTickets (bus) {
      store.share(bus, log)
    }
  }
}
