import type { FastifyRequest, preHandlerAsyncHookHandler } from 'fastify'
import type { IncomingMessage } from 'node:http'
import { hasAnyRole } from '../access/access.js'
import type { Connection } from '../connection/connection.js'
import { ErrorCodes, ProtocolError } from '../errors.js'
import type { LocalHub } from '../hub/local-hub.js'
import type { ResolvedInspector } from '../options/inspector.js'
import type { InspectorPort } from '../protocol/inspector-port.js'
import { encode, errorFrame, inspectorFrame } from '../wire/frames.js'
import type { Inspector } from './inspector.js'
import type { InspectorHistory } from './inspector-history.js'

/** Sockets watching at once, per instance: each push is built once, but sent to each. */
export const MAX_INSPECTORS = 16

/**
 * The inspector's feed: who may watch, the sockets watching, and the one timer that samples
 * the counters for the charts and pushes the picture. Built only when the `inspector` option
 * is on; with no socket watching, a tick reads a few integers and sends nothing.
 */
export class InspectorFeed implements InspectorPort {
  private readonly watchers = new Set<Connection>()
  /** Sockets whose upgrade `authorize` allowed (`?inspector=1`). */
  private readonly granted = new WeakSet<Connection>()
  /** Upgrade requests `authorize` allowed, until their socket is accepted. */
  private readonly grantedUpgrades = new WeakSet<IncomingMessage>()
  private timer: NodeJS.Timeout | null = null

  constructor (
    private readonly inspector: Inspector,
    private readonly history: InspectorHistory,
    hub: LocalHub,
    private readonly options: ResolvedInspector
  ) {
    hub.signals.on('disconnected', (connection) => { this.watchers.delete(connection) })
  }

  start (): void {
    if (this.timer !== null) return
    this.history.sample()
    this.timer = setInterval(() => { this.tick() }, this.options.interval)
    this.timer.unref()
  }

  close (): void {
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
    this.watchers.clear()
  }

  get watching (): number {
    return this.watchers.size
  }

  /**
   * For the WS route (preHandler, after authentication): runs `authorize` on upgrades that ask
   * for the inspector, and remembers the ones it allows. A refusal does not refuse the socket,
   * it only withholds the inspector; `authorize` may still reply itself to refuse the upgrade.
   */
  upgradeHook (): preHandlerAsyncHookHandler | null {
    const authorize = this.options.authorize
    if (authorize === null) return null
    return async (request, reply) => {
      const query = request.query as Record<string, unknown> | undefined
      if (query?.inspector === undefined) return
      let allowed = false
      try {
        allowed = await authorize(request, reply) === true
      } catch (error) {
        request.log.warn({ err: error }, 'realtime: inspector.authorize threw; the inspector is withheld')
      }
      if (allowed) this.grantedUpgrades.add(request.raw)
    }
  }

  /** Called with each accepted socket: carries an `authorize` grant from its upgrade over. */
  admit (request: FastifyRequest, connection: Connection): void {
    if (this.grantedUpgrades.delete(request.raw)) this.granted.add(connection)
  }

  /** The role, or a grant from the upgrade; checked again on every push (a refresh may drop the role). */
  mayInspect (connection: Connection): boolean {
    return this.granted.has(connection) || (this.options.roles.length > 0 && hasAnyRole(connection.user, this.options.roles))
  }

  watch (connection: Connection): Record<string, unknown> {
    if (!this.mayInspect(connection)) throw new ProtocolError(ErrorCodes.FORBIDDEN, 'The inspector is not allowed for this socket')
    if (!this.watchers.has(connection) && this.watchers.size >= MAX_INSPECTORS) {
      throw new ProtocolError(ErrorCodes.LIMIT_EXCEEDED, `At most ${MAX_INSPECTORS} sockets may inspect at once`)
    }
    this.watchers.add(connection)
    // Rates need two samples: a socket that asks right after start still gets a point.
    if (Date.now() - this.history.lastAt >= 250) this.history.sample()
    return this.inspector.snapshot({ fullHistory: true, inspectors: this.watchers.size }) as unknown as Record<string, unknown>
  }

  private tick (): void {
    this.history.sample()
    if (this.watchers.size === 0) return
    let frame: string | null = null
    for (const connection of [...this.watchers]) {
      if (connection.closed) {
        this.watchers.delete(connection)
        continue
      }
      if (!this.mayInspect(connection)) {
        this.watchers.delete(connection)
        connection.sendFrame(errorFrame(new ProtocolError(ErrorCodes.FORBIDDEN, 'The inspector is no longer allowed for this socket')))
        continue
      }
      // Built and encoded once per tick, whatever the number of watchers.
      frame ??= encode(inspectorFrame(this.inspector.snapshot({ fullHistory: false, inspectors: this.watchers.size }) as unknown as Record<string, unknown>))
      connection.send(frame)
    }
  }
}
