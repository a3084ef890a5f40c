import type { Static, TSchema } from '@sinclair/typebox'
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler'
import sjson from 'secure-json-parse'
import type { RawData } from 'ws'
import type { Connection } from '../connection/connection.js'
import { CloseCodes, ErrorCodes, ProtocolError } from '../errors.js'
import type { LocalHub } from '../hub/local-hub.js'
import type { ResolvedCoreOptions } from '../options/core.js'
import { isPlainObject } from '../util/paths.js'
import { errorFrame, withRequestId } from '../wire/frames.js'
import { closeIfExpired, type Handler, type RequestContext, type RequestId, type Services } from './context.js'
import { toProtocolError } from './errors.js'
import { refusalsFor, type Feature, type MessageTable } from './messages.js'

interface Route {
  check: TypeCheck<TSchema>
  handler: Handler<any>
}

/**
 * Runs for every frame before anything answers it (rate limits, metrics, …); throw a
 * ProtocolError to refuse it. `type` is the message's registered type, 'unknown' for any other
 * type, or 'invalid' for a frame that is not a JSON object (or holds a forbidden key).
 */
export type PreHandler = (connection: Connection, type: string) => void

/** What the Dispatcher is built with besides the hub and the options. */
export interface DispatcherSetup {
  /** Message type -> schema, handler, feature (src/protocol/messages.ts). */
  readonly messages: MessageTable
  /** Handed to every handler as `ctx.services`. */
  readonly services: Services
  /** Run first for every frame, in this order (the message rate limit, then the in-band gate). */
  readonly preHandlers?: readonly PreHandler[]
  /** Features the options turned off: their messages are refused after `preHandlers`, before validation. */
  readonly disabled?: readonly Feature[]
}

/** Frames of one connection accepted but not yet handled to the end (see handleFrame). */
interface InputQueue {
  tail: Promise<void>
  frames: number
  bytes: number
}

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

/** A frame refused before dispatch, with the requestId to echo when it could be read safely. */
class RefusedFrame {
  constructor (readonly error: ProtocolError, readonly requestId: RequestId) {}
}

/**
 * The requestId of a frame refused for a forbidden key: parsed again with those keys removed
 * (never merged anywhere), so the client can match the error to its request.
 */
function requestIdDespiteForbiddenKey (text: string): RequestId {
  try {
    const stripped: unknown = sjson.parse(text, undefined, { protoAction: 'remove', constructorAction: 'remove' })
    return isPlainObject(stripped) ? readRequestId(stripped) : undefined
  } catch {
    return undefined
  }
}

/** The frame as a JSON object, or why it is refused. */
function parseFrame (text: string): Record<string, unknown> | RefusedFrame {
  let parsed: unknown
  try {
    parsed = sjson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' })
  } catch (error) {
    const pollution = error instanceof SyntaxError && /prototype|constructor/i.test(error.message)
    return pollution
      ? new RefusedFrame(new ProtocolError(ErrorCodes.INVALID_REQUEST, 'Message contains a forbidden key (__proto__ or constructor)'), requestIdDespiteForbiddenKey(text))
      : new RefusedFrame(new ProtocolError(ErrorCodes.INVALID_JSON, 'Message is not valid JSON'), undefined)
  }
  if (!isPlainObject(parsed)) return new RefusedFrame(new ProtocolError(ErrorCodes.INVALID_REQUEST, 'Message must be a JSON object', { field: '/' }), undefined)
  return parsed
}

function readRequestId (message: Record<string, unknown>): RequestId {
  const id = message.requestId
  return (typeof id === 'string' && id.length <= 128) || (typeof id === 'number' && Number.isFinite(id)) ? id : undefined
}

/**
 * Runs the message table: message type -> compiled schema + handler. Frames of one connection are
 * handled in order (a `subscribe` is in place before the `insert` sent after it), through an
 * input queue bounded in frames and bytes: a client that sends faster than its handlers finish
 * (a slow guard, a slow store) is closed with 1013 instead of growing the heap.
 */
export class Dispatcher {
  private readonly routes = new Map<string, Route>()
  private readonly preHandlers: PreHandler[] = []
  /** Only connections with frames pending have an entry: an idle socket costs nothing here. */
  private readonly queues = new WeakMap<Connection, InputQueue>()
  /** Frames being handled, so shutdown can let in-flight requests finish and reply. */
  private readonly inFlight = new Set<Promise<void>>()
  /** Set by `stop`: the server is shutting down and runs no frame any more. */
  private stopped = false

  private readonly services: Services

  constructor (private readonly hub: LocalHub, private readonly options: ResolvedCoreOptions, setup: DispatcherSetup) {
    this.services = setup.services
    for (const [type, spec] of Object.entries(setup.messages)) this.register(type, spec.schema, spec.handler)
    this.preHandlers.push(...(setup.preHandlers ?? []))
    const refusals = refusalsFor(setup.messages, setup.disabled ?? [])
    if (refusals.size > 0) {
      this.preHandlers.push((_connection, type) => {
        const refuse = refusals.get(type)
        if (refuse !== undefined) throw refuse()
      })
    }
  }

  /** Compiles one row of the table (called by the constructor for each). */
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
    // The server has decided to close this socket (or every socket: `stop`): nothing it sends
    // from now on is handled, even while a peer that does not read keeps the socket half-open.
    if (connection.closed || this.stopped) return
    this.hub.counters.messagesReceived++
    const size = Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : (data as Buffer | ArrayBuffer).byteLength
    if (size > this.options.maxPayloadSize) {
      connection.close(CloseCodes.MESSAGE_TOO_BIG, 'Message too big')
      return
    }
    let queue = this.queues.get(connection)
    if (queue === undefined) {
      queue = { tail: Promise.resolve(), frames: 0, bytes: 0 }
      this.queues.set(connection, queue)
    }
    if (queue.frames >= this.options.maxQueuedMessages || queue.bytes + size > this.options.maxQueuedBytes) {
      connection.log.warn({ frames: queue.frames, bytes: queue.bytes }, 'realtime: input queue full; closing with 1013')
      connection.close(CloseCodes.TRY_AGAIN_LATER, 'Too many queued messages')
      return
    }
    // Binary frames carrying UTF-8 JSON are accepted too (some clients send Buffers).
    const text = Array.isArray(data)
      ? Buffer.concat(data).toString('utf8')
      : Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data).toString('utf8')
    this.enqueue(connection, queue, text, size)
  }

  /** Chains the frame behind the connection's earlier ones; it leaves the count once answered. */
  private enqueue (connection: Connection, queue: InputQueue, text: string, size: number): void {
    queue.frames++
    queue.bytes += size
    const next = queue.tail
      .then(async () => { await this.handleText(connection, text) })
      .catch((error: unknown) => { connection.log.error({ err: error }, 'realtime: frame handling failed') })
    queue.tail = next
    this.inFlight.add(next)
    void next.then(() => {
      this.inFlight.delete(next)
      queue.frames--
      queue.bytes -= size
      // Drop the settled tail so an idle connection keeps no promise (or WeakMap entry) alive.
      if (queue.tail === next) this.queues.delete(connection)
    })
  }

  /**
   * Shutdown, first step: no frame runs from now on, whether it arrives later or waits in a
   * connection's queue; the frames already running finish and reply (see `settle`). Otherwise
   * a write started by a late frame could land after the bridge has detached, and its change
   * would never be announced. The client gets no answer to those frames (they did nothing);
   * its socket closes with 1001 once the writes already running are announced.
   */
  stop (): void {
    this.stopped = true
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
    // Checked as each frame starts, so frames queued before a close (or `stop`) are dropped too.
    if (connection.closed || this.stopped) return
    if (closeIfExpired(connection)) return
    await this.dispatch(connection, parseFrame(text))
  }

  private async dispatch (connection: Connection, parsed: Record<string, unknown> | RefusedFrame): Promise<void> {
    const message = parsed instanceof RefusedFrame ? null : parsed
    const requestId = parsed instanceof RefusedFrame ? parsed.requestId : readRequestId(parsed)
    try {
      const type = message?.type
      // Pre-handlers (rate limits, metrics) see every frame, junk and unparsable ones included,
      // so nothing dodges a rate limit; unregistered types are reported as 'unknown' to keep
      // labels bounded.
      const label = message === null ? 'invalid' : typeof type === 'string' && this.routes.has(type) ? type : 'unknown'
      for (const pre of this.preHandlers) pre(connection, label)
      if (message === null) throw (parsed as RefusedFrame).error
      const route = this.route(message, type)
      connection.log.debug({ type, requestId }, 'realtime: message')
      const ctx: RequestContext = {
        connection,
        hub: this.hub,
        options: this.options,
        requestId,
        log: connection.log,
        services: this.services,
        reply: (frame) => { connection.sendFrame(withRequestId(frame, requestId)) }
      }
      await route.handler(ctx, message)
    } catch (error) {
      const { error: protocolError, internal } = toProtocolError(error)
      if (internal) connection.log.error({ err: error, type: String(message?.type) }, 'realtime: handler failed')
      this.sendError(connection, requestId, protocolError)
    }
  }

  /** The message's route once its type is known and its schema holds; otherwise throws the reply. */
  private route (message: Record<string, unknown>, type: unknown): Route {
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
    return route
  }

  sendError (connection: Connection, requestId: RequestId, error: ProtocolError): void {
    this.hub.counters.errors++
    connection.sendFrame(errorFrame(error, requestId))
  }
}
