import type { IncomingMessage } from 'node:http'
import type { FastifyInstance } from 'fastify'
import { exposeQueryToken } from './authenticate.js'

/**
 * With `auth.jwt`, makes `?token=` on the WS route an `Authorization: Bearer` header before
 * Fastify routes the upgrade, so every hook sees it: an app-wide `onRequest` calling
 * `request.jwtVerify()` runs before any hook this plugin can add (hooks run in registration
 * order, app-level before route-level), and would otherwise refuse the upgrade with
 * FST_JWT_NO_AUTHORIZATION_IN_HEADER. A listener prepended to the server's 'upgrade' event
 * runs before @fastify/websocket hands the request to Fastify. Only the WS path is touched,
 * and a header the client sent wins.
 *
 * Removed at preClose, before @fastify/websocket's own listener goes: a server left with only
 * this listener would keep new upgrade sockets open instead of letting Node destroy them.
 */
export function exposeQueryTokenEarly (fastify: FastifyInstance, path: string): void {
  const listener = (request: IncomingMessage): void => {
    const url = request.url ?? ''
    const query = url.indexOf('?')
    if (query === -1 || url.slice(0, query) !== path) return
    const tokens = new URLSearchParams(url.slice(query + 1)).getAll('token')
    // Repeated tokens are ambiguous: left alone, they are refused like any malformed credential.
    if (tokens.length === 1) exposeQueryToken(request.headers, tokens[0])
  }
  fastify.server.prependListener('upgrade', listener)
  fastify.addHook('preClose', async () => { fastify.server.removeListener('upgrade', listener) })
  // A register that fails later never reaches preClose; onClose still runs.
  fastify.addHook('onClose', async () => { fastify.server.removeListener('upgrade', listener) })
}
