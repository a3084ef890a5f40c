import { randomBytes } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { fail } from '../options/validate.js'
import type { ResolvedInspector } from '../options/inspector.js'
import { inspectorPage } from './inspector-page.js'

/**
 * GET <inspector.path>: the inspector page. It holds no data (that comes over the socket, to
 * sockets allowed to inspect), so without `authorize` it is open; with it, a request it does
 * not allow gets 403 (or whatever `authorize` replied itself). Strict headers: no framing, no
 * referrer, only its own nonce'd script and same-origin connections.
 */
export function registerInspectorRoute (fastify: FastifyInstance, options: ResolvedInspector, wsPath: string): void {
  const url = fastify.prefix + options.path
  if (fastify.hasRoute({ method: 'GET', url })) fail(`inspector.path "${url}" is already a route of the app: choose another inspector.path`)
  const config = { wsPath: fastify.prefix + wsPath, interval: options.interval }
  fastify.get(options.path, { logLevel: 'warn' }, async (request, reply) => {
    if (options.authorize !== null) {
      let allowed = false
      try {
        allowed = await options.authorize(request, reply) === true
      } catch (error) {
        request.log.warn({ err: error }, 'realtime: inspector.authorize threw; refused')
      }
      if (reply.sent) return reply
      if (!allowed) {
        return await reply.code(403).header('cache-control', 'no-store')
          .send({ statusCode: 403, code: 'FORBIDDEN', error: 'Forbidden', message: 'Not allowed to open the inspector' })
      }
    }
    const nonce = randomBytes(16).toString('base64')
    return await reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .header('x-frame-options', 'DENY')
      .header('referrer-policy', 'no-referrer')
      .header('x-content-type-options', 'nosniff')
      .header('content-security-policy', `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'`)
      .send(inspectorPage(config, nonce))
  })
}
