import { randomUUID } from 'node:crypto'
import type { FastifyRequest } from 'fastify'
import type { RawData, WebSocket } from 'ws'
import { CloseCodes } from '../errors.js'
import type { Heartbeat } from '../connection/heartbeat.js'
import type { LocalHub } from '../hub/local-hub.js'
import type { Dispatcher } from '../protocol/dispatcher.js'
import type { RealtimeUser } from '../types.js'
import { Connection, type SendHooks } from '../connection/connection.js'
import { connectionOf, tagSocket } from '../connection/tag.js'
import { connectedFrame } from '../wire/frames.js'

type UpgradedTcpSocket = { _httpMessage?: { detachSocket?: (socket: unknown) => void } | null }

/**
 * @fastify/websocket leaves two things behind after the handshake: the upgrade's ServerResponse
 * (holding the IncomingMessage, headers and token) on the TCP socket, and an 'error' listener
 * closing over the Fastify request and reply. Together they cost ~3 KB per idle connection
 * (bench/, heap snapshots), so release both; our own 'error' listener is attached right after.
 */
function releaseUpgradeObjects (socket: WebSocket): void {
  for (const listener of socket.listeners('error')) socket.off('error', listener as (error: Error) => void)
  const tcp = (socket as WebSocket & { _socket?: UpgradedTcpSocket })._socket
  tcp?._httpMessage?.detachSocket?.(tcp)
}

// ws closes on its own (an oversized frame: 1009) without a reason: "Server shutting down"
// belongs to 1001 only, or a client would take a refused frame for a restart.
const DEFAULT_REASONS: Record<number, string> = {
  [CloseCodes.GOING_AWAY]: 'Server shutting down',
  [CloseCodes.MESSAGE_TOO_BIG]: 'Message too big'
}

function closeGoingAway (this: WebSocket, code?: number, reason?: string | Buffer): void {
  const finalCode = code ?? CloseCodes.GOING_AWAY
  ;(Object.getPrototypeOf(this) as WebSocket).close.call(this, finalCode, reason ?? DEFAULT_REASONS[finalCode] ?? '')
}

interface SocketHandlers {
  message: (this: WebSocket, data: RawData, isBinary: boolean) => void
  close: (this: WebSocket, code: number, reason: Buffer) => void
  error: (this: WebSocket, error: Error) => void
}

/** One set of listener functions per plugin instance (ws calls them with `this` = socket). */
const handlersByDispatcher = new WeakMap<Dispatcher, SocketHandlers>()
function handlersFor (hub: LocalHub, dispatcher: Dispatcher): SocketHandlers {
  let handlers = handlersByDispatcher.get(dispatcher)
  if (handlers === undefined) {
    handlers = {
      message (data, isBinary) {
        const connection = connectionOf(this)
        if (connection !== undefined) dispatcher.handleFrame(connection, data, isBinary)
      },
      close (code, reason) {
        const connection = connectionOf(this)
        if (connection !== undefined) hub.removeConnection(connection, code, reason.toString('utf8'))
      },
      error (error) {
        const connection = connectionOf(this)
        if (connection === undefined) return
        connection.log.debug({ err: error }, 'realtime: socket error')
        // For a bad frame ws has already started its own close (1002, 1007, 1009…): marking the
        // connection closed stops handling its queued frames and bounds the handshake wait.
        // An error on a socket that is still open leaves it to the peer (and the heartbeat).
        if (this.readyState !== this.OPEN) connection.close(CloseCodes.POLICY_VIOLATION, 'Socket error')
      }
    }
    handlersByDispatcher.set(dispatcher, handlers)
  }
  return handlers
}

/**
 * Takes an upgraded socket into the hub. Listeners are attached synchronously, before anything
 * async, so frames sent right after open are never lost. Only plain values are kept from the
 * request (never the request object itself).
 */
export function acceptConnection (
  socket: WebSocket,
  request: FastifyRequest,
  deps: { hub: LocalHub, dispatcher: Dispatcher, heartbeat: Heartbeat, sendHooks?: SendHooks | null }
): Connection {
  const { hub, dispatcher, heartbeat } = deps
  releaseUpgradeObjects(socket)
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
  socket.close = closeGoingAway

  // Shared listeners find the connection through the socket: no closures per connection.
  tagSocket(socket, connection)
  const handlers = handlersFor(hub, dispatcher)
  socket.on('message', handlers.message)
  socket.on('close', handlers.close)
  socket.on('error', handlers.error)
  heartbeat.watch(connection)

  hub.addConnection(connection)
  connection.sendFrame(connectedFrame(id, user, connection.connectedAt))
  return connection
}
