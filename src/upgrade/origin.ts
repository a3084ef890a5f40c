import type { FastifyReply, FastifyRequest } from 'fastify'
import type { ResolvedCors } from '../options/cors.js'

/** True when `origin` names the host the request was sent to: a same-origin page, never cross-site. */
function sameHost (origin: string, host: string): boolean {
  if (host === '') return false
  try {
    return new URL(origin).host === host.toLowerCase()
  } catch {
    return false // 'null' (sandboxed iframes, file://) or garbage: not our own page
  }
}

function varyHasOrigin (reply: FastifyReply): boolean {
  const vary = reply.getHeader('vary')
  return (Array.isArray(vary) ? vary.join(',') : String(vary ?? '')).toLowerCase().split(',').some((v) => v.trim() === 'origin')
}

/**
 * The app's own @fastify/cors decision, read off the reply. @fastify/cors keeps its options in a
 * closure (no decorator, no public accessor), but its global `onRequest` hook runs before this
 * route-level hook and writes its verdict as `Access-Control-Allow-Origin`: '*', the request's
 * origin (array, RegExp, `true`, function and callback forms, delegators, per-route
 * `config.cors`), or its fixed string. So every form the app can configure is honoured exactly
 * as its REST routes honour it, with no copy of @fastify/cors's matching rules to drift.
 * Same-origin pages pass, as they do for REST (browsers apply no CORS to them).
 */
function appCorsVerdict (request: FastifyRequest, reply: FastifyReply, origin: string): 'allow' | 'deny' | 'unknown' {
  if (sameHost(origin, request.host)) return 'allow'
  const allowed = reply.getHeader('access-control-allow-origin')
  if (allowed === '*' || allowed === origin) return 'allow'
  // Neither header means @fastify/cors has not run yet (its `hook` option is a later phase) or
  // its origin is `false` (CORS off): refuse cross-site either way, and say why once.
  return allowed === undefined && !varyHasOrigin(reply) ? 'unknown' : 'deny'
}

/**
 * Route hook for the upgrade: a browser always sends `Origin` on a WebSocket handshake, so a
 * disallowed one is a cross-site page trying to use the visitor's connection (CSWSH): 403
 * before any socket opens. Requests without `Origin` are non-browser clients and pass.
 * The plugin's `cors` option decides when given; otherwise the app's @fastify/cors does (when
 * the app registered it); otherwise every origin may connect.
 */
export function originHook (cors: ResolvedCors) {
  let warned = false
  return async function checkOrigin (request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const origin = request.headers.origin
    if (origin === undefined) return
    if (cors.explicit) {
      if (await cors.isAllowed(origin).catch(() => false)) return
    } else {
      // Looked up per request: the app may register @fastify/cors after this plugin.
      if (!request.server.hasPlugin('@fastify/cors')) return
      const verdict = appCorsVerdict(request, reply, origin)
      if (verdict === 'allow') return
      if (verdict === 'unknown' && !warned) {
        warned = true
        request.log.warn('realtime: the app\'s @fastify/cors set no Access-Control-Allow-Origin before the upgrade (its origin is false, or its `hook` is not onRequest): cross-origin upgrades are refused; give s3db-realtime its own cors.origin to choose')
      }
    }
    request.log.info({ origin: origin.slice(0, 200) }, 'realtime: upgrade refused, origin not allowed')
    await reply.code(403).send({ statusCode: 403, code: 'FORBIDDEN', error: 'Forbidden', message: 'Origin not allowed' })
  }
}
