import { EventEmitter } from 'node:events'
import createError from '@fastify/error'
import Fastify, { type FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { DEFAULTS } from '../options/defaults.js'
import { fail } from '../options/validate.js'
import type { RealtimeApi, RealtimeEvents } from '../api.js'
import type { ClientView, HubMetrics } from '../hub/local-hub.js'
import type { ServerInfo } from '../hub/server-state.js'
import type { ClientInfo } from '../connection/connection.js'
import type { RealtimeOptions } from '../options/realtime-options.js'
import type { DatabaseLike, RealtimeUser } from '../types.js'
import type { IssuedTicket } from '../upgrade/types.js'
import type { ChannelInfo, ChannelStats, ChannelSummary, ChannelType, PresenceMember } from '../channels/types.js'
import { realtimePlugin } from '../plugin.js'

/** The seed's constructor options: the plugin's options plus the server it owns. */
export interface WebSocketPluginOptions extends Omit<RealtimeOptions, 'database' | 'path'> {
  /** Port of the server this plugin starts (0 picks a free one). @default 3001 */
  port?: number
  /** Bind address. @default '0.0.0.0' */
  host?: string
  /** Log "WebSocket server running at ws://…" on start. @default true */
  startupBanner?: boolean
  /** WebSocket route on that server. @default '/' (so ws://host:port works) */
  path?: string
}

interface Emitter {
  on?: (event: string, listener: () => void) => unknown
  removeListener?: (event: string, listener: () => void) => unknown
}

/** A hub method called while the plugin has no server (before start, or after stop). */
export const NotRunningError = createError<[string]>(
  'S3DB_REALTIME_NOT_RUNNING',
  'WebSocketPlugin is not running: %s needs its server (await db.usePlugin(plugin) first, or wait for \'plugin.started\')',
  500
)

const ZERO_METRICS: Readonly<HubMetrics> = Object.freeze({
  connections: 0, activeConnections: 0, disconnections: 0, messagesReceived: 0, messagesSent: 0, broadcasts: 0,
  events: 0, errors: 0, subscriptions: 0, messagesDropped: 0, slowConsumerCloses: 0, connectionsRejected: 0, busErrors: 0
})

const FORWARDED: Array<keyof RealtimeEvents> = ['server.started', 'server.stopped', 'client.connected', 'client.disconnected', 'channel.joined', 'channel.left']

/**
 * The seed's API, unchanged: an s3db.js plugin (`await db.usePlugin(plugin)`) that starts its own
 * Fastify server with the realtime route, health routes and the same methods and events.
 */
export class WebSocketPlugin extends EventEmitter {
  // Optional, not `string | null`: s3db's Plugin type (what `db.usePlugin` takes) declares `instanceName?: string`.
  instanceName?: string
  private readonly options: WebSocketPluginOptions
  private database: DatabaseLike | null = null
  private app: FastifyInstance | null = null
  /** Set while start() waits for configured resources to be created. */
  private cancelWait: (() => void) | null = null

  constructor (options: WebSocketPluginOptions = {}) {
    super()
    const { port = DEFAULTS.compat.port, host = DEFAULTS.compat.host, startupBanner = DEFAULTS.compat.startupBanner } = options
    if (!Number.isInteger(port) || port < 0 || port > 65535) fail('port must be an integer from 0 to 65535')
    if (typeof host !== 'string' || host === '') fail('host must be a non-empty string')
    if (typeof startupBanner !== 'boolean') fail('startupBanner must be a boolean')
    this.options = { ...options, port, host, startupBanner }
  }

  setInstanceName (name: string): void {
    this.instanceName = name
  }

  /** Called by `db.usePlugin()`. */
  async install (database: DatabaseLike): Promise<void> {
    this.database = database
  }

  /**
   * Called by `db.usePlugin()` once the database is connected. A plugin given to
   * `new Database({ plugins: [...] })` starts before the app creates its resources: then the
   * server starts as soon as the last configured resource exists.
   */
  async start (): Promise<void> {
    if (this.app !== null || this.cancelWait !== null) return
    if (this.database === null) fail('WebSocketPlugin.start() called before install(database)')
    const database = this.database as DatabaseLike & Emitter
    // Only a constructor-given plugin starts before the database is connected (and before the
    // app could create its resources): wait for them then. Under `db.usePlugin` on a connected
    // database a missing resource is a mistake: listen() throws UNKNOWN_RESOURCE naming it.
    const connected = typeof database.isConnected === 'function' && database.isConnected()
    if (!connected && this.missingResources().length > 0 && typeof database.on === 'function') {
      const onCreated = (): void => {
        if (this.missingResources().length > 0) return
        this.cancelWait?.()
        this.listen().catch((error: unknown) => { this.report(error) })
      }
      database.on('db:resource-created', onCreated)
      this.cancelWait = () => {
        this.cancelWait = null
        database.removeListener?.('db:resource-created', onCreated)
      }
      return
    }
    await this.listen()
  }

  private missingResources (): string[] {
    const resources = this.database?.resources ?? {}
    return Object.entries(this.options.resources ?? {})
      .filter(([name, config]) => config !== false && resources[name] === undefined)
      .map(([name]) => name)
  }

  /** Errors with nobody to return them to: an 'error' listener if there is one, else a warning. */
  private report (error: unknown): void {
    if (this.listenerCount('error') > 0) this.emit('error', error)
    else process.emitWarning(`s3db-realtime WebSocketPlugin: ${error instanceof Error ? error.message : String(error)}`)
  }

  private async listen (): Promise<void> {
    if (this.database === null) return
    const { port, host, startupBanner, logLevel, path = DEFAULTS.compat.path, ...rest } = this.options
    const app: FastifyInstance = Fastify({ logger: { level: logLevel ?? DEFAULTS.compat.logLevel } })
    try {
      // Registered through fastify-plugin so `realtime` is visible on this app.
      await app.register(fp(realtimePlugin, { name: 's3db-realtime', fastify: '5.x' }), {
        ...rest,
        // This server is ours alone, so the seed's probes and metrics stay on by default.
        health: rest.health ?? DEFAULTS.compat.health,
        metrics: rest.metrics ?? DEFAULTS.compat.metrics,
        ...(logLevel !== undefined ? { logLevel } : {}),
        database: this.database,
        path
      })
      for (const event of FORWARDED) app.realtime.on(event, (...args: unknown[]) => this.emit(event, ...args))
      await app.listen({ port: port as number, host: host as string })
    } catch (error) {
      await app.close()
      throw error
    }
    this.app = app
    // s3db stops only constructor-given plugins on disconnect; one added with usePlugin() would
    // keep its server (and the process) alive after `db.disconnect()` without this.
    const events = this.database as { once?: (event: string, fn: () => void) => unknown }
    events.once?.('disconnected', () => { void this.stop().catch((error: unknown) => { this.report(error) }) })
    const info = app.realtime.getServerInfo()
    if (startupBanner === true) app.log.info(`WebSocket server running at ws://${host as string}:${info.port ?? port as number}${path === '/' ? '' : path}`)
    this.emit('plugin.started', { port: info.port, host })
  }

  async stop (): Promise<void> {
    this.cancelWait?.()
    const app = this.app
    if (app === null) return
    this.app = null
    await app.close()
  }

  async uninstall (): Promise<void> {
    await this.stop()
  }

  /** The Fastify instance this plugin runs (null before start). */
  get server (): FastifyInstance | null {
    return this.app
  }

  /** The running server's hub; `method` names the caller in the NOT_RUNNING error. */
  private hub (method: string): RealtimeApi {
    if (this.app === null) throw new NotRunningError(method)
    return this.app.realtime
  }

  getServerInfo (): ServerInfo {
    if (this.app === null) {
      return { isRunning: false, port: this.options.port ?? DEFAULTS.compat.port, host: this.options.host ?? DEFAULTS.compat.host, path: this.options.path ?? DEFAULTS.compat.path, clients: 0, subscriptions: 0, resources: [], startedAt: null, uptime: 0, epoch: '' }
    }
    return this.hub('getServerInfo').getServerInfo()
  }

  getClients (): ClientInfo[] { return this.app === null ? [] : this.hub('getClients').getClients() }
  broadcast (message: object, filter?: (client: ClientView) => boolean): number { return this.hub('broadcast').broadcast(message, filter) }
  sendToClient (clientId: string, message: object): boolean { return this.hub('sendToClient').sendToClient(clientId, message) }
  broadcastToResource (resource: string, message: object): number { return this.hub('broadcastToResource').broadcastToResource(resource, message) }
  /** Zeros while not running, like getServerInfo()/getClients(): a dashboard may poll early. */
  getMetrics (): HubMetrics { return this.app === null ? { ...ZERO_METRICS } : this.hub('getMetrics').getMetrics() }
  issueTicket (user: RealtimeUser, options?: { ttlMs?: number }): IssuedTicket { return this.hub('issueTicket').issueTicket(user, options) }
  disconnectUser (userId: string, reason?: string): number { return this.hub('disconnectUser').disconnectUser(userId, reason) }
  getChannel (name: string): ChannelInfo | null { return this.app === null ? null : this.hub('getChannel').getChannel(name) }
  listChannels (filter?: { type?: ChannelType, prefix?: string }): ChannelSummary[] { return this.app === null ? [] : this.hub('listChannels').listChannels(filter) }
  getChannelMembers (name: string): PresenceMember[] { return this.app === null ? [] : this.hub('getChannelMembers').getChannelMembers(name) }
  broadcastToChannel (name: string, message: Record<string, unknown>, excludeClientId?: string | null): number { return this.hub('broadcastToChannel').broadcastToChannel(name, message, excludeClientId ?? null) }
  getChannelStats (): ChannelStats { return this.hub('getChannelStats').getChannelStats() }
  /** `app.realtime` of the server this plugin runs, for anything not mirrored here. */
  get realtime (): RealtimeApi { return this.hub('realtime') }
}
