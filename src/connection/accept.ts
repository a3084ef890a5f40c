import { randomUUID } from 'node:crypto'
import type { FastifyRequest } from 'fastify'
import type { WebSocket } from 'ws'
import { CloseCodes } from '../errors.js'
import type { Heartbeat } from './heartbeat.js'
import type { Hub } from '../hub/hub.js'
import type { Dispatcher } from '../protocol/dispatcher.js'
import type { RealtimeUser } from '../types.js'
import { Connection, type SendHooks } from './connection.js'

/**
 * Takes an upgraded socket into the hub. Listeners are attached synchronously, before anything
 * async, so frames sent right after open are never lost. Only plain values are kept from the
 * request (never the request object itself).
 */
export function acceptConnection (
  socket: WebSocket,
  request: FastifyRequest,
  deps: { hub: Hub, dispatcher: Dispatcher, heartbeat: Heartbeat, sendHooks?: SendHooks | null }
): Connection {
  const { hub, dispatcher, heartbeat } = deps
  const id = randomUUID()
  const user = (request as FastifyRequest & { realtimeUser?: RealtimeUser | null }).realtimeUser ?? null
  const connection = new Connection({
    id,
    socket,
    user,
    metadata: {
      ip: request.ip,
      userAgent: request.headers['user-agent'] ?? null,
      origin: request.headers.origin ?? null
    },
    log: hub.log.child({ clientId: id }),
    counters: hub.counters
  })
  connection.sendHooks = deps.sendHooks ?? null

  // A bare close() comes only from shutdown paths (e.g. @fastify/websocket's preClose): make
  // it say "going away" (1001) instead of "no status".
  const close = socket.close.bind(socket)
  socket.close = (code?: number, reason?: string | Buffer) => { close(code ?? CloseCodes.GOING_AWAY, reason ?? 'Server shutting down') }

  socket.on('message', (data, isBinary) => { dispatcher.handleFrame(connection, data, isBinary) })
  socket.on('close', (code, reason) => { hub.removeConnection(connection, code, reason.toString('utf8')) })
  socket.on('error', (error) => { connection.log.debug({ err: error }, 'realtime: socket error') })
  heartbeat.watch(connection)

  hub.addConnection(connection)
  connection.sendMessage({ type: 'connected', clientId: id, user, timestamp: connection.connectedAt.toISOString() })
  return connection
}
