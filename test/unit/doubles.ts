import type { FastifyBaseLogger } from 'fastify'
import type { WebSocket } from 'ws'
import { compileFilter, type CompiledFilter } from '../../src/access/filter.js'
import { Connection } from '../../src/connection/connection.js'
import type { Subscription } from '../../src/connection/connection.js'
import type { ChangeType, Filter, RecordData, RealtimeUser, ResourceLike } from '../../src/types.js'
import { createProjector } from '../../src/access/projection.js'
import { protectedNames } from '../../src/access/protected-paths.js'
import type { ResolvedResource } from '../../src/access/resource.js'

/**
 * Test doubles for socket-free unit tests: the smallest real objects that satisfy what the
 * module under test uses. Nothing here stands in for s3db or Redis.
 */

/** A logger that keeps what was logged at warn and error (the levels library code reports at). */
export function recordingLog (): { log: FastifyBaseLogger, warnings: unknown[][], errors: unknown[][] } {
  const warnings: unknown[][] = []
  const errors: unknown[][] = []
  const ignore = (): void => {}
  const log: FastifyBaseLogger = {
    level: 'warn',
    fatal: ignore,
    error: (...args: unknown[]) => { errors.push(args) },
    warn: (...args: unknown[]) => { warnings.push(args) },
    info: ignore,
    debug: ignore,
    trace: ignore,
    silent: ignore,
    child: () => log
  }
  return { log, warnings, errors }
}

/**
 * The part of a ws WebSocket that Connection.send and Connection.close touch. Frames written
 * to the wire are kept in `frames`, in order.
 */
class RecordingSocket {
  readyState = 1 // OPEN
  bufferedAmount = 0
  readonly frames: string[] = []
  send (frame: string): void { this.frames.push(frame) }
  close (): void { this.readyState = 3 }
  terminate (): void { this.readyState = 3 }
  once (): this { return this }
}

/** A real Connection over a socket that records what it is sent. */
export function recordingConnection (id: string, user: RealtimeUser | null = null): { connection: Connection, frames: string[] } {
  const socket = new RecordingSocket()
  const connection = new Connection({
    id,
    socket: socket as unknown as WebSocket,
    user,
    metadata: {},
    log: recordingLog().log,
    counters: { messagesSent: 0 }
  })
  return { connection, frames: socket.frames }
}

/** A frame as the client reads it. */
export function parseFrames (frames: readonly string[]): Array<Record<string, unknown>> {
  return frames.map((frame) => JSON.parse(frame) as Record<string, unknown>)
}

let nextSubscription = 0

/** A subscription as the subscribe handler builds it (`filter` compiled from the client's unless given). */
export function subscription (
  connection: Connection,
  options: { resource?: string, filter?: Filter, compiled?: CompiledFilter, events?: readonly ChangeType[] } = {}
): Subscription {
  const clientFilter = options.filter ?? {}
  return {
    id: `sub-${++nextSubscription}`,
    connection,
    resource: options.resource ?? 'posts',
    clientFilter,
    filter: options.compiled ?? compileFilter(clientFilter),
    events: new Set(options.events ?? ['insert', 'update', 'delete']),
    matched: 0
  }
}

function unused (): never {
  throw new Error('not used by the module under test')
}

/** An s3db resource as far as schema-reading code sees it: its declared attributes. */
export function resourceWithAttributes (attributes: Record<string, unknown> | undefined, where: 'attributes' | 'config' = 'attributes'): ResourceLike {
  return {
    name: 'posts',
    ...(where === 'attributes' ? { attributes } : { config: { attributes } }),
    client: { listObjects: unused },
    on: unused,
    removeListener: unused,
    addHook: unused,
    get: unused,
    exists: unused,
    insert: unused,
    update: (_id: string, _data: RecordData) => unused(),
    delete: unused
  }
}

/** A resolved `posts` resource ({title}) with nothing protected: `guard` and `roles` as given. */
export function postsResource (guard: ResolvedResource['guard'] = {}, roles: string[] | null = null): ResolvedResource {
  return {
    name: 'posts',
    resource: resourceWithAttributes({ title: 'string' }),
    roles,
    protectedFields: [],
    protectedNames: protectedNames([], null),
    serverOnlyFields: [],
    encryptedFields: [],
    clientIds: false,
    events: new Set(['insert', 'update', 'delete']),
    guard,
    publishAuth: null,
    project: createProjector([])
  }
}
