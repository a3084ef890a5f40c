import type { CompiledFilter } from './access/filter.js'
import type { Bus } from './bus/types.js'
import type { RedisOption } from './cluster/options.js'
import { createProjector, type Projector } from './access/projection.js'
import type { ChannelsOptions } from './channels/options.js'
import { InvalidOptionError, UnknownResourceError } from './errors.js'
import type { BackpressureOptions, CompressionOptions, HealthOptions, MetricsOptions } from './observability/options.js'
import type { ChangeType, DatabaseLike, Filter, RealtimeUser, RecordData, ResourceLike } from './types.js'
import type { AuthOptions, ConnectionRateLimitOptions, CorsOptions, MessageRateLimitOptions, TicketOptions } from './upgrade/types.js'
import type { AsyncApiRouteOptions } from './protocol/asyncapi-route.js'
import { isPlainObject } from './util/paths.js'

/**
 * What a guard may answer: allow, deny, or (subscribe and list) allow with a forced filter.
 * Object values are checked at run time (anything but flat scalars denies), so the seed's
 * `{ userId: user?.id }` type-checks and denies an anonymous caller instead of widening.
 */
export type GuardResult = boolean | Filter | Record<string, unknown>
type MaybePromise<T> = T | Promise<T>

/** Row-level guards, as the seed documents them. `user` is null for anonymous clients. */
export interface ResourceGuards {
  subscribe?: (user: RealtimeUser | null, filter: Filter) => MaybePromise<GuardResult>
  list?: (user: RealtimeUser | null, ctx: { filter: Filter, partition?: string }) => MaybePromise<GuardResult>
  get?: (user: RealtimeUser | null, ctx: { id: string }) => MaybePromise<boolean>
  /** May set fields on `data` (for example a tenant id) before it is inserted. */
  create?: (user: RealtimeUser | null, data: RecordData) => MaybePromise<boolean>
  update?: (user: RealtimeUser | null, ctx: { id: string, data: RecordData }) => MaybePromise<boolean>
  delete?: (user: RealtimeUser | null, ctx: { id: string }) => MaybePromise<boolean>
}

/** Per-resource configuration: `true` enables with no restrictions, `false` disables. */
export interface ResourceOptions {
  /** Roles allowed to use this resource at all (every operation, events included). */
  auth?: string[]
  /**
   * Fields (dot paths, through arrays too) that are server-only: removed from every payload that
   * leaves the server, and a client write that sets or changes one is refused (FORBIDDEN).
   */
  protected?: string[]
  /**
   * Protected fields a client may write but never read back (a password set on sign-up).
   * They are protected whether or not `protected` lists them.
   */
  writeOnly?: string[]
  /**
   * Whether a caller whose view a `list` guard restricts may choose the id of a record it
   * inserts. Off by default: a refused or colliding id would tell it that a record it cannot
   * see exists. Unrestricted callers (guard answers true, or no guard) may always choose ids.
   * @default false
   */
  clientIds?: boolean
  /** Change events broadcast for this resource. @default ['insert','update','delete'] */
  events?: ChangeType[]
  guard?: ResourceGuards
  /** Who may `publish` to the channel named after this resource: roles, or a function. */
  publishAuth?: string[] | ((user: RealtimeUser | null, message: unknown) => MaybePromise<boolean>)
}
export type ResourceConfig = boolean | ResourceOptions

export type LogLevel = 'silent' | 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace'

export interface RealtimeOptions {
  /** The connected s3db.js Database whose resources are exposed. */
  database: DatabaseLike
  /** WebSocket route. @default '/ws' */
  path?: string
  resources?: Record<string, ResourceConfig>
  /** Interval between server pings, ms. @default 30000 */
  heartbeatInterval?: number
  /** Time a socket has to answer a ping before it is terminated, ms. @default 10000 */
  heartbeatTimeout?: number
  /** Largest accepted frame, bytes; bigger frames close the socket with 1009. @default 1048576 */
  maxPayloadSize?: number
  /** Level of the plugin's child logger. @default the app logger's level */
  logLevel?: LogLevel
  /** Events kept per resource for `subscribe {since}` resume. @default 1000 */
  historySize?: number
  /** Records per `list` page when the request gives no limit. @default 100 */
  defaultListLimit?: number
  /** Largest `limit` a `list` may ask for. @default 1000 */
  maxListLimit?: number
  /** Subscriptions one socket may hold. @default 100 */
  maxSubscriptionsPerConnection?: number
  /** Frames of one socket waiting for (or in) their handler; one more closes it with 1013. @default 1024 */
  maxQueuedMessages?: number
  /** Bytes of those frames (at least maxPayloadSize); one more frame's worth closes with 1013. @default 4 × maxPayloadSize */
  maxQueuedBytes?: number
  // Option groups resolved by their own modules; each module documents and validates its group.
  /** Upgrade authentication (src/upgrade). @default { required: false, drivers: [] } */
  auth?: AuthOptions
  /** Messages per socket (src/limits/message-rate.ts). @default { enabled: false, windowMs: 60000, maxRequests: 100 } */
  rateLimit?: MessageRateLimitOptions
  /** CORS for REST and the upgrade's Origin check (src/upgrade/origin.ts). @default origin '*' */
  cors?: CorsOptions
  /** Channels and presence (src/channels/options.ts). @default { enabled: true } */
  channels?: boolean | ChannelsOptions
  /** GET /health, /health/live, /health/ready (src/observability/health.ts). @default off in the plugin (on in WebSocketPlugin and the CLI) */
  health?: boolean | HealthOptions
  /** GET /metrics in Prometheus text (src/observability/metrics.ts). @default off in the plugin (on in WebSocketPlugin and the CLI) */
  metrics?: boolean | MetricsOptions
  /** A ready-made Bus (e.g. a MemoryBus on a shared MemoryBroker); caller-owned (src/cluster/options.ts). */
  bus?: Bus
  /** Redis for several instances: a URL, an ioredis client, or { url | client, subscriber?, prefix?, commandTimeout? } (src/cluster/options.ts). */
  redis?: RedisOption
  /** Per-socket send limit (src/observability/backpressure.ts). `false` disables. @default { maxBufferedBytes: 4194304, policy: 'close' } */
  backpressure?: boolean | BackpressureOptions
  /** Open sockets at most; further upgrades get 503. @default unlimited */
  maxConnections?: number | null
  /** permessage-deflate for frames of at least `threshold` bytes. @default false */
  compression?: boolean | CompressionOptions
  /** On close, ms to wait for sockets to finish the 1001 close handshake before terminating them. @default 5000 */
  drainTimeout?: number
  limits?: unknown
  /** One-time connection tickets (src/upgrade/tickets.ts). @default { ttlMs: 30000 }, no route */
  tickets?: TicketOptions
  /** Upgrade attempts per IP (src/upgrade/connection-rate.ts). @default off */
  connectionRateLimit?: ConnectionRateLimitOptions | false
  /** This instance's id on the bus. @default `${hostname}-${pid}-${random}` */
  nodeId?: string
  /**
   * Name of the Fastify decorator that carries the API, so two realtime endpoints (different
   * `path`s) can live in one app. @default 'realtime'
   */
  decorator?: string
  /** GET route serving the protocol's AsyncAPI document (src/protocol/asyncapi-route.ts). @default off; `true`: `${path}/asyncapi.json` */
  asyncapi?: boolean | AsyncApiRouteOptions
}

export interface ResolvedResource {
  readonly name: string
  readonly resource: ResourceLike
  readonly roles: readonly string[] | null
  /** Everything projected away: `protected` plus `writeOnly`. */
  readonly protectedFields: readonly string[]
  /** Protected fields clients may not write: `protected` minus `writeOnly`. */
  readonly serverOnlyFields: readonly string[]
  readonly clientIds: boolean
  readonly events: ReadonlySet<ChangeType>
  readonly guard: ResourceGuards
  readonly publishAuth: ResourceOptions['publishAuth'] | null
  readonly project: Projector
}

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

const CHANGE_TYPES: readonly ChangeType[] = ['insert', 'update', 'delete']
const LOG_LEVELS: readonly LogLevel[] = ['silent', 'fatal', 'error', 'warn', 'info', 'debug', 'trace']
const GUARD_NAMES = ['subscribe', 'list', 'get', 'create', 'update', 'delete'] as const
const RESOURCE_KEYS = new Set(['auth', 'protected', 'writeOnly', 'clientIds', 'events', 'guard', 'publishAuth'])

export function fail (message: string): never {
  throw new InvalidOptionError(message)
}

export function positiveInteger (value: unknown, name: string, fallback: number, min = 1): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    fail(`${name} must be an integer >= ${min} (got ${JSON.stringify(value)})`)
  }
  return value
}

export function stringList (value: unknown, name: string): string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v === '')) {
    fail(`${name} must be an array of non-empty strings`)
  }
  return [...value] as string[]
}

function resolveResource (name: string, config: unknown, database: DatabaseLike): ResolvedResource | null {
  if (config === false) return null
  if (config !== true && !isPlainObject(config)) {
    fail(`resources.${name} must be true, false or an object with auth/protected/writeOnly/clientIds/events/guard/publishAuth`)
  }
  const resource = database.resources[name]
  if (resource === undefined) throw new UnknownResourceError(name)
  const options: ResourceOptions = config === true ? {} : config as ResourceOptions
  for (const key of Object.keys(options)) {
    if (!RESOURCE_KEYS.has(key)) fail(`resources.${name}.${key} is not a known resource option`)
  }
  const roles = options.auth === undefined ? null : stringList(options.auth, `resources.${name}.auth`)
  const serverOnlyFields = options.protected === undefined ? [] : stringList(options.protected, `resources.${name}.protected`)
  const writeOnly = options.writeOnly === undefined ? [] : stringList(options.writeOnly, `resources.${name}.writeOnly`)
  const protectedFields = [...new Set([...serverOnlyFields, ...writeOnly])]
  const clientIds = options.clientIds ?? false
  if (typeof clientIds !== 'boolean') fail(`resources.${name}.clientIds must be a boolean`)
  const events = options.events === undefined ? [...CHANGE_TYPES] : stringList(options.events, `resources.${name}.events`)
  for (const event of events) {
    if (!CHANGE_TYPES.includes(event as ChangeType)) fail(`resources.${name}.events: unknown event "${event}"`)
  }
  const guard = options.guard ?? {}
  if (!isPlainObject(guard)) fail(`resources.${name}.guard must be an object of functions`)
  for (const [key, fn] of Object.entries(guard)) {
    if (!(GUARD_NAMES as readonly string[]).includes(key)) fail(`resources.${name}.guard.${key} is not a known guard`)
    if (typeof fn !== 'function') fail(`resources.${name}.guard.${key} must be a function`)
  }
  const publishAuth = options.publishAuth ?? null
  if (publishAuth !== null && typeof publishAuth !== 'function') stringList(publishAuth, `resources.${name}.publishAuth`)
  return {
    name,
    resource,
    roles,
    protectedFields,
    serverOnlyFields: serverOnlyFields.filter((path) => !writeOnly.includes(path)),
    clientIds,
    events: new Set(events as ChangeType[]),
    guard: guard as ResourceGuards,
    publishAuth,
    project: createProjector(protectedFields)
  }
}

/** Option keys this module resolves; other modules register theirs with `knownOptionGroups`. */
const CORE_KEYS = new Set([
  'database', 'path', 'resources', 'heartbeatInterval', 'heartbeatTimeout', 'maxPayloadSize',
  'logLevel', 'historySize', 'defaultListLimit', 'maxListLimit', 'maxSubscriptionsPerConnection', 'decorator',
  'maxQueuedMessages', 'maxQueuedBytes'
])

/** Option groups owned by feature modules (auth, channels, …); each validates its own group. */
export const knownOptionGroups = new Set<string>([
  'auth', 'rateLimit', 'cors', 'channels', 'health', 'metrics', 'bus', 'redis', 'backpressure',
  'maxConnections', 'compression', 'limits', 'tickets', 'connectionRateLimit', 'nodeId', 'drainTimeout', 'asyncapi'
])

export function resolveCoreOptions (input: unknown): ResolvedCoreOptions {
  if (!isPlainObject(input)) fail('options must be an object')
  for (const key of Object.keys(input)) {
    if (!CORE_KEYS.has(key) && !knownOptionGroups.has(key)) fail(`unknown option "${key}"`)
  }
  const database = input.database as DatabaseLike | undefined
  if (database === undefined || database === null || !isPlainObject(database.resources) && typeof database.resources !== 'object') {
    fail('database must be an s3db.js Database instance')
  }
  const path = input.path ?? '/ws'
  if (typeof path !== 'string' || !path.startsWith('/')) fail('path must be a string starting with "/"')
  const resourcesInput = input.resources ?? {}
  if (!isPlainObject(resourcesInput)) fail('resources must be an object keyed by resource name')
  const resources = new Map<string, ResolvedResource>()
  for (const [name, config] of Object.entries(resourcesInput)) {
    const resolved = resolveResource(name, config, database)
    if (resolved !== null) resources.set(name, resolved)
  }
  const logLevel = input.logLevel ?? null
  if (logLevel !== null && !LOG_LEVELS.includes(logLevel as LogLevel)) fail(`logLevel must be one of ${LOG_LEVELS.join(', ')}`)
  const defaultListLimit = positiveInteger(input.defaultListLimit, 'defaultListLimit', 100)
  const maxListLimit = positiveInteger(input.maxListLimit, 'maxListLimit', 1000)
  if (defaultListLimit > maxListLimit) fail('defaultListLimit must not exceed maxListLimit')
  const decorator = input.decorator ?? 'realtime'
  if (typeof decorator !== 'string' || !/^[A-Za-z_$][\w$]*$/.test(decorator)) fail('decorator must be a JavaScript identifier')
  const maxPayloadSize = positiveInteger(input.maxPayloadSize, 'maxPayloadSize', 1024 * 1024, 64)
  // A queue that could not hold one frame of the largest accepted size would close every sender.
  const maxQueuedBytes = positiveInteger(input.maxQueuedBytes, 'maxQueuedBytes', 4 * maxPayloadSize, maxPayloadSize)
  return Object.freeze({
    database,
    path,
    resources,
    heartbeatInterval: positiveInteger(input.heartbeatInterval, 'heartbeatInterval', 30_000),
    heartbeatTimeout: positiveInteger(input.heartbeatTimeout, 'heartbeatTimeout', 10_000),
    maxPayloadSize,
    logLevel: logLevel as LogLevel | null,
    historySize: positiveInteger(input.historySize, 'historySize', 1000, 0),
    defaultListLimit,
    maxListLimit,
    maxSubscriptionsPerConnection: positiveInteger(input.maxSubscriptionsPerConnection, 'maxSubscriptionsPerConnection', 100),
    maxQueuedMessages: positiveInteger(input.maxQueuedMessages, 'maxQueuedMessages', 1024),
    maxQueuedBytes,
    decorator
  })
}

export type { CompiledFilter }
