import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import { ASYMMETRIC_ALGORITHMS, HMAC_ALGORITHMS } from '../util/jwt-keys.js'

/**
 * A default computed from other values (the WebSocket path, the payload size, the host).
 * `docs` is how the documentation writes it; test/contract/option-docs.test.ts holds the two
 * together.
 */
export interface Derived<A extends unknown[], T> {
  readonly docs: string
  readonly of: (...args: A) => T
}

function derived<A extends unknown[], T> (docs: string, of: (...args: A) => T): Derived<A, T> {
  return { docs, of }
}

/** `${path}/<leaf>` with exactly one slash between, as the ticket route has always been joined. */
function underPath (leaf: string): Derived<[wsPath: string], string> {
  return derived(`\${path}/${leaf}`, (wsPath: string) => wsPath.endsWith('/') ? `${wsPath}${leaf}` : `${wsPath}/${leaf}`)
}

type DeepReadonly<T> = T extends (...args: never[]) => unknown ? T
  : T extends object ? { readonly [K in keyof T]: DeepReadonly<T[K]> } : T

function deepFreeze<T> (value: T): DeepReadonly<T> {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner)
    Object.freeze(value)
  }
  return value as DeepReadonly<T>
}

/**
 * The default of every option, in one place: resolvers read them from here and nowhere else,
 * and the documentation's option tables and the `@default` tags of the option types are
 * checked against them (test/contract/option-docs.test.ts).
 *
 * Groups are named as the options are: `core` holds the top-level options (for a group option
 * such as `health`, whether it is on when omitted); every other group holds the defaults of the
 * keys of the option of the same name (`tickets.ttlMs` is the default of `tickets.ttlMs`).
 * `null` means "none": no limit, no route, no logger level of our own.
 */
export const DEFAULTS = deepFreeze({
  core: {
    path: '/ws',
    resources: {},
    heartbeatInterval: 30_000,
    heartbeatTimeout: 10_000,
    maxPayloadSize: 1_048_576,
    /** The app logger's level. */
    logLevel: null,
    historySize: 1000,
    defaultListLimit: 100,
    maxListLimit: 1000,
    maxSubscriptionsPerConnection: 100,
    maxQueuedMessages: 1024,
    maxQueuedBytes: derived('4 × maxPayloadSize', (maxPayloadSize: number) => 4 * maxPayloadSize),
    decorator: 'realtime',
    maxConnections: null,
    drainTimeout: 5000,
    nodeId: derived('hostname-pid-random', () => `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`),
    // Group options, when omitted: on or off. The Fastify plugin leaves the app's URL space to the
    // app (health, metrics, asyncapi off); WebSocketPlugin and the CLI turn health and metrics on.
    asyncapi: false,
    inspector: false,
    health: false,
    metrics: false,
    compression: false,
    connectionRateLimit: false,
    channels: true,
    backpressure: true,
    redis: null,
    bus: null,
    cors: null
  },
  resource: {
    /** Every role. */
    auth: null,
    protected: [],
    writeOnly: [],
    clientIds: false,
    events: ['insert', 'update', 'delete'],
    guard: {},
    /** Anyone. */
    publishAuth: null
  },
  auth: {
    required: false,
    jwt: null,
    authenticate: null,
    inBand: false,
    handshakeTimeout: 10_000,
    drivers: []
  },
  /** The `config` of `auth.drivers` entries (jwt and oidc). */
  authDriver: {
    clockTolerance: 0,
    /** With `secret`; with `publicKey` the key's own algorithm; with `jwksUri`/oidc every asymmetric one. */
    hmacAlgorithms: HMAC_ALGORITHMS,
    jwksAlgorithms: ASYMMETRIC_ALGORITHMS
  },
  tickets: {
    ttlMs: 30_000,
    maxOutstanding: 10_000,
    maxPerUser: 10,
    route: null,
    routePath: underPath('ticket')
  },
  cors: {
    enabled: true,
    origin: '*'
  },
  rateLimit: {
    enabled: false,
    windowMs: 60_000,
    maxRequests: 100,
    closeAfterWindows: 3
  },
  connectionRateLimit: {
    /** Once the group is given. */
    enabled: true,
    max: 60,
    timeWindow: 60_000
  },
  channels: {
    enabled: true,
    guards: {},
    maxMembers: 10_000,
    maxChannelsPerConnection: 100,
    presenceSummaryThreshold: 100,
    presenceSummaryInterval: 1000,
    maxUserInfoSize: 2048
  },
  redis: {
    prefix: 's3db-realtime',
    commandTimeout: 2000,
    presenceLease: 5000
  },
  health: {
    /** Once the group is given. */
    enabled: true,
    prefix: '',
    public: true,
    readiness: {
      checks: [],
      s3dbTimeout: 5000
    }
  },
  /** Each entry of `health.readiness.checks` (and `addReadinessCheck`). */
  readinessCheck: {
    timeout: 5000,
    optional: false
  },
  metrics: {
    /** Once the group is given. */
    enabled: true,
    path: '/metrics',
    prefix: 's3db_realtime_',
    route: true,
    public: false
  },
  inspector: {
    /** Once the group is given. */
    enabled: true,
    path: '/realtime/inspector',
    roles: ['admin'],
    authorize: null,
    interval: 1000,
    limit: 50
  },
  backpressure: {
    maxBufferedBytes: 4_194_304,
    policy: 'close'
  },
  compression: {
    threshold: 1024
  },
  asyncapi: {
    path: derived('${path}/asyncapi.json', (wsPath: string) => `${wsPath.replace(/\/+$/, '')}/asyncapi.json`)
  },
  /** `new WebSocketPlugin(options)`: the server it owns, and what differs from the plugin. */
  compat: {
    port: 3001,
    host: '0.0.0.0',
    startupBanner: true,
    path: '/',
    logLevel: 'info',
    health: true,
    metrics: true
  },
  /** `s3db-realtime` (the CLI): its config file keys and environment variables. */
  cli: {
    port: 3001,
    host: '0.0.0.0',
    path: '/ws',
    logLevel: 'info',
    jwtSecret: null,
    authRequired: false,
    createResources: [],
    database: {},
    options: {},
    shutdownDelay: 10_000
  }
} as const)

export type Defaults = typeof DEFAULTS
