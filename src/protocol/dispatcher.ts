import type { Static, TSchema } from '@sinclair/typebox'
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler'
import sjson from 'secure-json-parse'
import type { RawData } from 'ws'
import type { Connection } from '../connection/connection.js'
import { CloseCodes, ErrorCodes, ProtocolError } from '../errors.js'
import type { Hub } from '../hub/hub.js'
import type { ResolvedCoreOptions } from '../options.js'
import { isPlainObject } from '../util/paths.js'
import type { Handler, RequestContext, RequestId } from './context.js'
import { toProtocolError } from './errors.js'

interface Route {
  check: TypeCheck<TSchema>
  handler: Handler<any>
}

/** Runs before every handler (rate limits, …); throw a ProtocolError to refuse the message. */
export type PreHandler = (connection: Connection, type: string) => void

const MAX_DEPTH = 32

/** Depth of nested objects/arrays, iteratively (a hostile frame must not blow the stack). */
function tooDeep (value: unknown): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]]
  while (stack.length > 0) {
    const [current, depth] = stack.pop() as [unknown, number]
    if (current === null || typeof current !== 'object') continue
    if (depth >= MAX_DEPTH) return true
    for (const inner of Object.values(current)) if (inner !== null && typeof inner === 'object') stack.push([inner, depth + 1])
  }
  return false
}

function readRequestId (message: Record<string, unknown>): RequestId {
  const id = message.requestId
  return (typeof id === 'string' && id.length <= 128) || (typeof id === 'number' && Number.isFinite(id)) ? id : undefined
}

/**
 * The protocol as data: message type -> compiled schema + handler. Frames of one connection are
 * handled in order (a `subscribe` is in place before the `insert` sent after it).
 */
export class Dispatcher {
  private readonly routes = new Map<string, Route>()
  private readonly preHandlers: PreHandler[] = []
  private readonly queues = new WeakMap<Connection, Promise<void>>()
  /** Frames being handled, so shutdown can let in-flight requests finish and reply. */
  private readonly inFlight = new Set<Promise<void>>()

  constructor (private readonly hub: Hub, private readonly options: ResolvedCoreOptions) {}

  register<S extends TSchema> (type: string, schema: S, handler: Handler<Static<S>>): void {
    if (this.routes.has(type)) throw new Error(`message type "${type}" is already registered`)
    this.routes.set(type, { check: TypeCompiler.Compile(schema), handler })
  }

  addPreHandler (fn: PreHandler): void {
    this.preHandlers.push(fn)
  }

  get types (): string[] {
    return [...this.routes.keys()]
  }

  /** Entry point for every frame; never throws. */
  handleFrame (connection: Connection, data: RawData, _isBinary: boolean): void {
    this.hub.counters.messagesReceived++
    const size = Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : (data as Buffer | ArrayBuffer).byteLength
    if (size > this.options.maxPayloadSize) {
      connection.close(CloseCodes.MESSAGE_TOO_BIG, 'Message too big')
      return
    }
    // Binary frames carrying UTF-8 JSON are accepted too (some clients send Buffers).
    const text = Array.isArray(data)
      ? Buffer.concat(data).toString('utf8')
      : Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data).toString('utf8')
    const previous = this.queues.get(connection) ?? Promise.resolve()
    const next = previous.then(() => this.handleText(connection, text))
    this.queues.set(connection, next)
    this.inFlight.add(next)
    // Drop the settled tail so an idle connection keeps no promise (or WeakMap entry) alive.
    void next.then(() => {
      this.inFlight.delete(next)
      if (this.queues.get(connection) === next) this.queues.delete(connection)
    })
  }

  /** Resolves when the frames being handled now have been answered, or after `timeoutMs`. */
  async settle (timeoutMs: number): Promise<void> {
    if (this.inFlight.size === 0) return
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      Promise.allSettled([...this.inFlight]),
      new Promise<void>((resolve) => { timer = setTimeout(resolve, timeoutMs) })
    ])
    clearTimeout(timer)
  }

  private async handleText (connection: Connection, text: string): Promise<void> {
    if (connection.closed) return
    let parsed: unknown
    try {
      parsed = sjson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' })
    } catch (error) {
      const pollution = error instanceof SyntaxError && /prototype|constructor/i.test(error.message)
      this.sendError(connection, undefined, pollution
        ? new ProtocolError(ErrorCodes.INVALID_REQUEST, 'Message contains a forbidden key (__proto__ or constructor)')
        : new ProtocolError(ErrorCodes.INVALID_JSON, 'Message is not valid JSON'))
      return
    }
    if (!isPlainObject(parsed)) {
      this.sendError(connection, undefined, new ProtocolError(ErrorCodes.INVALID_REQUEST, 'Message must be a JSON object', { field: '/' }))
      return
    }
    const requestId = readRequestId(parsed)
    await this.dispatch(connection, parsed, requestId)
  }

  private async dispatch (connection: Connection, message: Record<string, unknown>, requestId: RequestId): Promise<void> {
    try {
      const type = message.type
      // Pre-handlers (rate limits, metrics) see every message, so junk cannot dodge a rate limit;
      // unregistered types are reported as 'unknown' to keep labels bounded.
      const label = typeof type === 'string' && this.routes.has(type) ? type : 'unknown'
      for (const pre of this.preHandlers) pre(connection, label)
      if (typeof type !== 'string') {
        throw new ProtocolError(ErrorCodes.INVALID_REQUEST, 'Message needs a string "type"', { field: '/type' })
      }
      const route = this.routes.get(type)
      if (route === undefined) {
        throw new ProtocolError(ErrorCodes.UNKNOWN_MESSAGE_TYPE, `Unknown message type "${type.slice(0, 64)}"`)
      }
      if (tooDeep(message)) throw new ProtocolError(ErrorCodes.INVALID_REQUEST, `Message is nested deeper than ${MAX_DEPTH} levels`)
      if (!route.check.Check(message)) {
        const first = route.check.Errors(message).First()
        throw new ProtocolError(ErrorCodes.INVALID_REQUEST, `Invalid "${type}" message: ${first?.message ?? 'schema mismatch'}`, {
          field: first?.path === '' ? '/' : first?.path,
          message: first?.message
        })
      }
      connection.log.debug({ type, requestId }, 'realtime: message')
      const ctx: RequestContext = {
        connection,
        hub: this.hub,
        options: this.options,
        requestId,
        log: connection.log,
        reply: (reply) => { connection.sendMessage(requestId === undefined ? reply : { ...reply, requestId }) }
      }
      await route.handler(ctx, message)
    } catch (error) {
      const { error: protocolError, internal } = toProtocolError(error)
      if (internal) connection.log.error({ err: error, type: String(message.type) }, 'realtime: handler failed')
      this.sendError(connection, requestId, protocolError)
    }
  }

  sendError (connection: Connection, requestId: RequestId, error: ProtocolError): void {
    this.hub.counters.errors++
    const reply: Record<string, unknown> = { type: 'error', code: error.code, message: error.message }
    if (requestId !== undefined) reply.requestId = requestId
    if (error.details !== undefined) reply.details = error.details
    connection.sendMessage(reply)
  }
}
