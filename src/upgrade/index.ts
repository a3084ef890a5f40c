import type { FastifyBaseLogger, FastifyContextConfig, FastifyInstance, onRequestAsyncHookHandler } from 'fastify'
import fastifyCors from '@fastify/cors'
import type { Hub } from '../hub/hub.js'
import { MessageRateLimiter, resolveMessageRateLimit } from '../limits/message-rate.js'
import type { RealtimeOptions, ResolvedCoreOptions } from '../options.js'
import { registerAuthMessage } from '../protocol/handlers/auth.js'
import type { Dispatcher } from '../protocol/dispatcher.js'
import { resolveAuthOptions } from './auth-options.js'
import { authHook, verifyToken } from './authenticate.js'
import { FastifyJwtVerifier } from './fastify-jwt.js'
import { InBandGate } from './in-band.js'
import { exposeQueryTokenEarly } from './query-token.js'
import { connectionRateHook, resolveConnectionRateLimit } from './connection-rate.js'
import { originHook, resolveCorsOptions } from './origin.js'
import { installLogRedaction, upgradeLogSerializers } from './redact.js'
import { ExpiryWatch } from './session.js'
import { registerTicketRoute } from './ticket-route.js'
import { resolveTicketOptions, TicketStore } from './tickets.js'
import type { Bus } from '../bus/types.js'

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
  /** Registers the `auth` refresh message and the per-socket message rate limit. */
  registerMessages: (dispatcher: Dispatcher) => void
  /** Clustered: tickets issued on any instance can be redeemed on any other (once). */
  shareTickets: (bus: Bus) => void
}

/**
 * Everything that happens before a socket opens (auth, origin, connection rate) and the parts
 * of authentication that live on after it (expiry, refresh, tickets, message rate limit).
 * Every option group is validated here, at register, before anything is started.
 */
export async function setupUpgrade (
  fastify: FastifyInstance, raw: RealtimeOptions, core: ResolvedCoreOptions, hub: Hub, log: FastifyBaseLogger
): Promise<UpgradeSetup> {
  const auth = resolveAuthOptions(raw.auth, log)
  const tickets = resolveTicketOptions(raw.tickets, core.path)
  const cors = resolveCorsOptions(raw.cors)
  const connectionRate = resolveConnectionRateLimit(raw.connectionRateLimit)
  const messageRate = resolveMessageRateLimit(raw.rateLimit)

  // Credentials in query strings are scrubbed from every line the app logs, not only this route's.
  installLogRedaction(fastify.log)
  // Checked now, at register: a missing @fastify/jwt must not surface as 500s on the first upgrade.
  const jwt = auth.jwt === null ? null : new FastifyJwtVerifier(fastify, auth.jwt)
  const store = new TicketStore(tickets)
  hub.ticketIssuer = (user, options) => store.issue(user, options?.ttlMs)
  const expiry = new ExpiryWatch(hub)
  const limiter = messageRate.enabled ? new MessageRateLimiter(messageRate, hub) : null
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
    registerMessages (dispatcher) {
      registerAuthMessage(dispatcher, {
        verifyToken: jwt !== null
          ? async (token, connection) => await jwt.verifyToken(token, { ip: typeof connection.metadata.ip === 'string' ? connection.metadata.ip : null, log: connection.log })
          // Only auth.authenticate without drivers has nothing to check a token with.
          : auth.authenticate !== null && auth.drivers.length === 0 ? null : async (token) => await verifyToken(auth.drivers, token),
        redeemTicket: async (ticket) => await store.redeem(ticket),
        expiry,
        ...(gate !== null ? { authenticated: (connection) => { gate.authenticated(connection) } } : {})
      })
      // After the rate limiter: frames refused for want of auth still count against the limit.
      if (limiter !== null) dispatcher.addPreHandler(limiter.check)
      if (gate !== null) dispatcher.addPreHandler(gate.check)
    },
    shareTickets (bus) {
      store.share(bus, log)
    }
  }
}
