import type { ResolvedResource } from '../access/resource.js'
import type { DatabaseLike } from '../types.js'
import { isPlainObject } from '../util/paths.js'
import { DEFAULTS } from './defaults.js'
import { resolveResource } from './resources.js'
import { fail, positiveInteger } from './validate.js'

export type LogLevel = 'silent' | 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace'
export const LOG_LEVELS: readonly LogLevel[] = ['silent', 'fatal', 'error', 'warn', 'info', 'debug', 'trace']

export interface ResolvedCoreOptions {
  readonly database: DatabaseLike
  readonly path: string
  readonly resources: ReadonlyMap<string, ResolvedResource>
  readonly heartbeatInterval: number
  readonly heartbeatTimeout: number
  readonly maxPayloadSize: number
  readonly logLevel: LogLevel | null
  readonly historySize: number
  readonly defaultListLimit: number
  readonly maxListLimit: number
  readonly maxSubscriptionsPerConnection: number
  readonly maxQueuedMessages: number
  readonly maxQueuedBytes: number
  readonly decorator: string
}

/** The top-level options this group resolves (the others belong to their groups). */
export const CORE_KEYS = [
  'database', 'path', 'resources', 'heartbeatInterval', 'heartbeatTimeout', 'maxPayloadSize',
  'logLevel', 'historySize', 'defaultListLimit', 'maxListLimit', 'maxSubscriptionsPerConnection', 'decorator',
  'maxQueuedMessages', 'maxQueuedBytes'
] as const

function resolveResources (input: unknown, database: DatabaseLike): Map<string, ResolvedResource> {
  const resourcesInput = input ?? DEFAULTS.core.resources
  if (!isPlainObject(resourcesInput)) fail('resources must be an object keyed by resource name')
  const resources = new Map<string, ResolvedResource>()
  for (const [name, config] of Object.entries(resourcesInput)) {
    const resolved = resolveResource(name, config, database)
    if (resolved !== null) resources.set(name, resolved)
  }
  return resources
}

/** The database, the route, the exposed resources and the per-socket limits. */
export function resolveCore (input: Record<string, unknown>): ResolvedCoreOptions {
  const database = input.database as DatabaseLike | undefined
  if (database === undefined || database === null || !isPlainObject(database.resources) && typeof database.resources !== 'object') {
    fail('database must be an s3db.js Database instance')
  }
  const path = input.path ?? DEFAULTS.core.path
  if (typeof path !== 'string' || !path.startsWith('/')) fail('path must be a string starting with "/"')
  const resources = resolveResources(input.resources, database)
  const logLevel = input.logLevel ?? DEFAULTS.core.logLevel
  if (logLevel !== null && !LOG_LEVELS.includes(logLevel as LogLevel)) fail(`logLevel must be one of ${LOG_LEVELS.join(', ')}`)
  const defaultListLimit = positiveInteger(input.defaultListLimit, 'defaultListLimit', DEFAULTS.core.defaultListLimit)
  const maxListLimit = positiveInteger(input.maxListLimit, 'maxListLimit', DEFAULTS.core.maxListLimit)
  if (defaultListLimit > maxListLimit) fail('defaultListLimit must not exceed maxListLimit')
  const decorator = input.decorator ?? DEFAULTS.core.decorator
  if (typeof decorator !== 'string' || !/^[A-Za-z_$][\w$]*$/.test(decorator)) fail('decorator must be a JavaScript identifier')
  const maxPayloadSize = positiveInteger(input.maxPayloadSize, 'maxPayloadSize', DEFAULTS.core.maxPayloadSize, 64)
  // A queue that could not hold one frame of the largest accepted size would close every sender.
  const maxQueuedBytes = positiveInteger(input.maxQueuedBytes, 'maxQueuedBytes', DEFAULTS.core.maxQueuedBytes.of(maxPayloadSize), maxPayloadSize)
  return Object.freeze({
    database,
    path,
    resources,
    heartbeatInterval: positiveInteger(input.heartbeatInterval, 'heartbeatInterval', DEFAULTS.core.heartbeatInterval),
    heartbeatTimeout: positiveInteger(input.heartbeatTimeout, 'heartbeatTimeout', DEFAULTS.core.heartbeatTimeout),
    maxPayloadSize,
    logLevel: logLevel as LogLevel | null,
    historySize: positiveInteger(input.historySize, 'historySize', DEFAULTS.core.historySize, 0),
    defaultListLimit,
    maxListLimit,
    maxSubscriptionsPerConnection: positiveInteger(input.maxSubscriptionsPerConnection, 'maxSubscriptionsPerConnection', DEFAULTS.core.maxSubscriptionsPerConnection),
    maxQueuedMessages: positiveInteger(input.maxQueuedMessages, 'maxQueuedMessages', DEFAULTS.core.maxQueuedMessages),
    maxQueuedBytes,
    decorator
  })
}
