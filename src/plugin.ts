import type { FastifyInstance, FastifyPluginAsync } from 'fastify'
import websocket from '@fastify/websocket'
import type { AddressInfo } from 'node:net'
import { ResourceBridge } from './bridge/bridge.js'
import { acceptConnection } from './realtime/accept.js'
import { Heartbeat } from './connection/heartbeat.js'
import { CloseCodes } from './errors.js'
import { LocalHub } from './hub/local-hub.js'
import { ChangeStream } from './hub/change-stream.js'
import { ServerState } from './hub/server-state.js'
import { ReadinessRegistry } from './observability/readiness.js'
import { ChannelService } from './channels/service.js'
import { Realtime } from './realtime/realtime.js'
import type { RealtimeEvents } from './realtime/api.js'
import { Signals } from './util/signals.js'
import { resolveOptions, type RealtimeOptions } from './options/index.js'
import { fail } from './options/validate.js'
import { Dispatcher } from './protocol/dispatcher.js'
import { MESSAGES } from './protocol/messages.js'
import { installAsyncApi } from './protocol/asyncapi-route.js'
import { checkExistingWebsocketServer, installOperations, websocketServerOptions } from './observability/index.js'
import { installInspector } from './observability/inspector-install.js'
import { setupUpgrade } from './upgrade/index.js'
import { installCluster } from './cluster/install.js'
import './api.js' // declares app.realtime and request.realtimeUser on Fastify's types

/**
 * Wires the rooms of docs/architecture.md bottom-up: options -> local hub and change stream ->
 * upgrade -> cluster -> channels -> protocol -> operations -> the WS route, the bridge from s3db
 * events into the change stream, and last the `Realtime` façade. Shutdown is ordered and idempotent.
 */
export const realtimePlugin: FastifyPluginAsync<RealtimeOptions> = async (fastify: FastifyInstance, rawOptions) => {
  // Every option, validated once (src/options): each module below gets its resolved group.
  const resolved = resolveOptions(rawOptions)
  const options = resolved.core
  const ops = resolved.operations
  installAsyncApi(fastify, resolved.asyncapi, options.path) // opt-in GET of the AsyncAPI document
  const log = fastify.log.child({ plugin: 's3db-realtime' }, options.logLevel === null ? {} : { level: options.logLevel })
  const hub = new LocalHub(options.resources, log)
  const stream = new ChangeStream(hub, options.resources.keys(), options.historySize)
  const state = new ServerState()
  const readiness = new ReadinessRegistry()
  // The application's events; a listener that throws is logged and counted, never rethrown.
  const events = new Signals<RealtimeEvents>((error, event) => {
    hub.counters.errors++
    log.error({ err: error, event }, 'realtime: an event listener threw')
  })
  // Auth, origin and connection-rate hooks for the upgrade; what `auth` messages are checked
  // with, and the message rate limit.
  const upgrade = await setupUpgrade(fastify, resolved, hub, log)
  const channelOptions = resolved.channels
  // With `redis`/`bus`, changes are numbered cluster-wide before delivery, and channel pushes
  // and presence are shared through the bus (src/cluster).
  checkExistingWebsocketServer(fastify, ops) // validation first: nothing below has to be undone
  const cluster = await installCluster({ hub, stream, readiness, historySize: options.historySize }, resolved.cluster, log)
  // Hooked at once, so a register that fails further down still closes the bus it opened.
  fastify.addHook('onClose', async () => { await cluster.close() })
  if (cluster.stash !== null) upgrade.shareTickets(cluster.stash)
  const channels = new ChannelService({ options: channelOptions, store: cluster.presenceStore, transport: cluster.channelTransport, events })
  hub.signals.on('disconnected', (connection) => { channels.disconnect(connection.id) })
  await cluster.attachChannels(channels)
  // `app.realtime.inspect()` always; the page route, the `inspect` message and its timer only
  // with the `inspector` option (src/observability/inspector-install.ts).
  const inspector = installInspector(fastify, { hub, stream, state, channels, busHealthy: cluster.busHealthy, nodeId: resolved.cluster?.nodeId ?? null, path: options.path }, resolved.inspector)
  // The protocol as data (src/protocol/messages.ts): handlers reach what they need through ctx.services.
  const dispatcher = new Dispatcher(hub, options, {
    messages: MESSAGES,
    services: { channels, auth: upgrade.auth, stream, history: cluster.history, relay: cluster.relay, locks: cluster.recordLocks, inspector: inspector.feed, messageRate: upgrade.messageRate },
    preHandlers: [...upgrade.preHandlers, ...cluster.preHandlers],
    disabled: [...(channelOptions.enabled ? [] : ['channels'] as const), ...(inspector.feed === null ? ['inspector'] as const : [])]
  })
  const heartbeat = new Heartbeat(() => hub.connections.values(), options.heartbeatInterval, options.heartbeatTimeout, (connection) => {
    connection.log.debug('realtime: no pong within heartbeatTimeout; terminating')
    connection.socket.terminate()
  })
  const bridge = new ResourceBridge(options.resources, cluster.sink, log, cluster.settled, cluster.admitWrite)
  const realtime = new Realtime({ options, hub, stream, state, events, relay: cluster.relay, channels, tickets: upgrade.tickets, readiness, busHealthy: cluster.busHealthy, inspect: inspector.inspect })

  // Shutdown, in this order: stop taking upgrades and frames; let the frames already running
  // reply and every write running on the resources (any caller's) land and be numbered; close
  // the sockets (1001); detach the bridge last, once no write runs (onClose below), so whatever
  // lands during the close is still announced; then the bus closes (the onClose hook added
  // first: Fastify runs onClose hooks last-added first). Waiting for frames and writes spends
  // one drainTimeout between them; the closing handshakes get their own.
  let waitBudget = ops.drainTimeout
  const waitAtMost = async (wait: (ms: number) => Promise<unknown>): Promise<void> => {
    const start = Date.now()
    await wait(waitBudget)
    waitBudget = Math.max(0, waitBudget - (Date.now() - start))
  }
  // Added before @fastify/websocket registers its own preClose (which closes every socket), so
  // requests already in flight finish and reply before their sockets go.
  let wired = false // false while register is still running (or failed part-way)
  fastify.addHook('preClose', async () => {
    if (!wired) return
    // Stop accepting upgrades first (as @fastify/websocket's own preClose would): with no
    // 'upgrade' listener Node destroys new upgrade sockets instead of leaving them open. Only the
    // listener our own @fastify/websocket added: the app's (another ws server) are not ours.
    closing = true
    state.running = false
    for (const listener of ownUpgradeListeners) fastify.server.removeListener('upgrade', listener)
    dispatcher.stop()
    await waitAtMost(async (ms) => { await dispatcher.settle(ms) })
    // Writes of the app's other code too (REST routes, jobs): their changes reach this
    // instance's sockets before the 1001, and the other instances through the bus.
    await waitAtMost(async (ms) => { await bridge.settle(ms) })
    closeSockets()
    await operations.drain()
  })

  let closing = false
  let ownUpgradeListeners: Array<(...args: unknown[]) => void> = []
  if (!fastify.hasDecorator('websocketServer')) {
    const before = new Set(fastify.server.listeners('upgrade'))
    await fastify.register(websocket, { options: { maxPayload: options.maxPayloadSize, ...websocketServerOptions(ops) } })
    ownUpgradeListeners = fastify.server.listeners('upgrade').filter((listener) => !before.has(listener)) as Array<(...args: unknown[]) => void>
  }
  // A second endpoint with the same decorator would fail with Fastify's FST_ERR_DEC_ALREADY_PRESENT,
  // which does not say which option to change.
  if (fastify.hasDecorator(options.decorator)) fail(`decorator "${options.decorator}" is already taken: give the second endpoint its own \`decorator\``)
  fastify.decorate(options.decorator, realtime)
  // Health/metrics routes, readiness checks, maxConnections gate, backpressure (src/observability).
  const operations = installOperations(fastify, { hub, state, readiness, dispatcher, database: options.database, path: options.path, ops })
  if (!fastify.hasRequestDecorator('realtimeUser')) fastify.decorateRequest('realtimeUser', null)

  const inspectorHook = inspector.upgradeHook === null ? {} : { preHandler: inspector.upgradeHook }
  fastify.get(options.path, { websocket: true, ...upgrade.routeOptions, ...inspectorHook }, (socket, request) => {
    // An app that registered @fastify/websocket itself keeps its upgrade listener until its own
    // preClose: a socket that still gets through while we shut down is turned away.
    if (closing) { socket.close(CloseCodes.GOING_AWAY, 'Server shutting down'); return }
    inspector.admit(request, acceptConnection(socket, request, { hub, dispatcher, heartbeat, sendHooks: operations.sendHooks }))
  })

  bridge.attach()
  heartbeat.start()
  inspector.start()
  state.start()
  wired = true

  fastify.addHook('onListen', async () => {
    const address = fastify.server.address() as AddressInfo | string | null
    if (address !== null && typeof address === 'object') {
      state.port = address.port
      state.host = address.address
    }
    // Both carry the bound port, so they fire once the server listens (the seed's payload).
    events.emit('plugin.started', { port: state.port, host: state.host })
    events.emit('server.started', { port: state.port, host: state.host })
  })

  let socketsClosed = false
  const closeSockets = (): void => {
    if (socketsClosed) return
    socketsClosed = true
    state.running = false
    heartbeat.stop()
    inspector.close()
    channels.close()
    for (const connection of hub.connections.values()) connection.close(CloseCodes.GOING_AWAY, 'Server shutting down')
  }
  fastify.addHook('onClose', async () => {
    closeSockets()
    // The HTTP server is closed, but the app's other code may still write (its own onClose
    // hooks run before this one when added after the plugin): captured and numbered until none
    // runs, then detached while the bus is still open.
    let unannounced = 0
    await waitAtMost(async (ms) => { unannounced = await bridge.close(ms) })
    if (unannounced > 0) {
      // Their changes may land after the bus is gone. Clustered, this instance leaves without a
      // goodbye, so the others tell every client to re-list once they miss it.
      hub.counters.errors++
      log.warn({ writes: unannounced }, 'realtime: writes still running on the resources after drainTimeout; their changes will not be announced (clustered: every client is told to re-list)')
      cluster.leaveUnannounced()
    }
    operations.close()
    events.emit('server.stopped')
  })
}
