import type { FastifyInstance } from 'fastify'
import { CloseCodes } from '../errors.js'
import type { LocalHub } from '../hub/local-hub.js'
import type { ServerState } from '../hub/server-state.js'

export type RejectReason = 'max_connections' | 'shutting_down'

/** Upgrades refused, by reason (read by the metrics module). */
export type RejectionCounts = Record<RejectReason, number>

function isUpgrade (headers: Record<string, string | string[] | undefined>): boolean {
  const upgrade = headers.upgrade
  return typeof upgrade === 'string' && upgrade.toLowerCase() === 'websocket'
}

/**
 * Refuses WebSocket upgrades with 503 before the handshake (and before auth, which costs more)
 * when `maxConnections` sockets are open or the server is shutting down. Runs as the app's first
 * onRequest hook for the WS path only; every refusal is counted.
 */
export function installUpgradeGate (
  fastify: FastifyInstance,
  deps: { hub: LocalHub, state: ServerState, path: string, maxConnections: number | null }
): RejectionCounts {
  const { hub, state, path, maxConnections } = deps
  const rejected: RejectionCounts = { max_connections: 0, shutting_down: 0 }
  fastify.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.url !== path || !isUpgrade(request.headers)) return
    let reason: RejectReason | null = null
    if (!state.running) reason = 'shutting_down'
    else if (maxConnections !== null && hub.connections.size >= maxConnections) reason = 'max_connections'
    if (reason === null) return
    rejected[reason]++
    hub.counters.connectionsRejected++
    request.log.warn({ reason, connections: hub.connections.size }, 'realtime: upgrade refused')
    const message = reason === 'shutting_down' ? 'Server is shutting down' : 'Too many connections'
    return await reply.code(503).header('retry-after', '5').send({ statusCode: 503, error: 'Service Unavailable', message })
  })
  releaseRefusedUpgrades(fastify)
  return rejected
}

/**
 * An upgrade answered with a plain HTTP reply (401, 403, 500 …) left its socket with nobody to
 * read it: Node detached it from the HTTP server for the 'upgrade' event. @fastify/websocket
 * destroys it only when its own onRequest hook ran, and an app hook registered before it (an
 * app-wide auth hook, @fastify/cors's origin callback failing) ends the request first; the
 * socket then stays open until the client goes, and holds `app.close()` until then.
 * A hijacked (accepted) upgrade never reaches onResponse.
 */
function releaseRefusedUpgrades (fastify: FastifyInstance): void {
  fastify.addHook('onResponse', async (request, reply) => {
    const socket = reply.raw.socket
    // IncomingMessage.upgrade: Node delivered this request through the 'upgrade' event.
    if ((request.raw as { upgrade?: boolean }).upgrade === true && socket !== null && !socket.destroyed) socket.destroy()
  })
}

/**
 * Graceful close of every socket: 1001 with a reason, then wait for the closing handshakes.
 * A client that does not answer (it stopped reading) would hold shutdown for ws's 30 s close
 * timeout; after `timeout` ms the remaining sockets are terminated instead.
 */
export async function drainConnections (hub: LocalHub, timeout: number): Promise<void> {
  for (const connection of hub.connections.values()) connection.close(CloseCodes.GOING_AWAY, 'Server shutting down')
  if (hub.connections.size === 0) return
  await new Promise<void>((resolve) => {
    const done = (): void => {
      clearTimeout(timer)
      hub.signals.off('disconnected', onDisconnect)
      resolve()
    }
    const onDisconnect = (): void => { if (hub.connections.size === 0) done() }
    const timer = setTimeout(() => {
      for (const connection of hub.connections.values()) {
        connection.log.warn('realtime: socket did not close within drainTimeout; terminating')
        connection.socket.terminate()
      }
      done()
    }, timeout)
    hub.signals.on('disconnected', onDisconnect)
  })
}
