import type { FastifyBaseLogger, FastifyInstance, onRequestAsyncHookHandler } from 'fastify'
import fastifyCors from '@fastify/cors'
import type { Hub } from '../hub/hub.js'
import { MessageRateLimiter, resolveMessageRateLimit } from '../limits/message-rate.js'
import type { RealtimeOptions, ResolvedCoreOptions } from '../options.js'
import { registerAuthMessage } from '../protocol/handlers/auth.js'
import type { Dispatcher } from '../protocol/dispatcher.js'
import { resolveAuthOptions } from './auth-options.js'
import { authHook } from './authenticate.js'
import { connectionRateHook, resolveConnectionRateLimit } from './connection-rate.js'
import { originHook, resolveCorsOptions } from './origin.js'
import { installLogRedaction, upgradeLogSerializers } from './redact.js'
import { ExpiryWatch } from './session.js'
import { registerTicketRoute } from './ticket-route.js'
import { resolveTicketOptions, TicketStore } from './tickets.js'
import type { Bus } from '../bus/types.js'

export interface UpgradeSetup {
  /** Spread into the WS route's options: rate limit ▸ origin ▸ auth, and redacted URL logging. */
  readonly routeOptions: {
    onRequest: onRequestAsyncHookHandler[]
    logSerializers: typeof upgradeLogSerializers
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
  const store = new TicketStore(tickets)
  hub.ticketIssuer = (user, options) => store.issue(user, options?.ttlMs)
  const expiry = new ExpiryWatch(hub)
  const limiter = messageRate.enabled ? new MessageRateLimiter(messageRate, hub) : null

  if (cors.explicit && cors.enabled && !fastify.hasPlugin('@fastify/cors')) {
    await fastify.register(fastifyCors, cors.fastifyCors)
  }
  const onRequest: onRequestAsyncHookHandler[] = []
  const rateHook = await connectionRateHook(fastify, connectionRate)
  if (rateHook !== null) onRequest.push(rateHook)
  if (cors.enabled) onRequest.push(originHook(cors))
  onRequest.push(authHook(auth, store))
  if (tickets.route !== null) registerTicketRoute(fastify, tickets.route, store)

  fastify.addHook('onClose', async () => {
    expiry.stop()
    store.clear()
  })
  return {
    routeOptions: { onRequest, logSerializers: upgradeLogSerializers },
    registerMessages (dispatcher) {
      registerAuthMessage(dispatcher, auth.drivers, expiry)
      if (limiter !== null) dispatcher.addPreHandler(limiter.check)
    },
    shareTickets (bus) {
      store.share(bus, log)
    }
  }
}
