import type { Bus } from '../bus/types.js'
import type { DatabaseLike } from '../types.js'
import type { AsyncApiRouteOptions } from './asyncapi.js'
import type { AuthOptions } from './auth.js'
import type { ChannelsOptions } from './channels.js'
import type { RedisOption } from './cluster.js'
import type { CorsOptions } from './cors.js'
import type { HealthOptions } from './health.js'
import type { InspectorOptions } from './inspector.js'
import type { MetricsOptions } from './metrics.js'
import type { BackpressureOptions, CompressionOptions } from './operations.js'
import type { ConnectionRateLimitOptions, MessageRateLimitOptions } from './rate-limits.js'
import type { LogLevel } from './core.js'
import type { ResourceConfig } from './resources.js'
import type { TicketOptions } from './tickets.js'

/** Every option of `app.register(s3dbRealtime, options)`; defaults are in src/options/defaults.ts. */
export interface RealtimeOptions {
  /** The connected s3db.js Database whose resources are exposed. */
  database: DatabaseLike
  /** WebSocket route. @default '/ws' */
  path?: string
  /** @default {} */
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
  // Option groups: each is typed and resolved in its own file of src/options/.
  /** Upgrade authentication (auth.ts). Without it: anonymous clients, no drivers. */
  auth?: AuthOptions
  /** Messages per socket (rate-limits.ts). Off unless `enabled`. */
  rateLimit?: MessageRateLimitOptions
  /** CORS for REST and the upgrade's Origin check (cors.ts). Without it: the app's @fastify/cors decides. @default none */
  cors?: CorsOptions
  /** Channels and presence (channels.ts). @default true */
  channels?: boolean | ChannelsOptions
  /** GET /health, /health/live, /health/ready (health.ts). @default false (on in WebSocketPlugin and the CLI) */
  health?: boolean | HealthOptions
  /** GET /metrics in Prometheus text (metrics.ts). @default false (on in WebSocketPlugin and the CLI) */
  metrics?: boolean | MetricsOptions
  /** A ready-made Bus (e.g. a MemoryBus on a shared MemoryBroker); caller-owned (cluster.ts). @default none */
  bus?: Bus
  /** Redis for several instances: a URL, an ioredis client, or { url | client, subscriber?, prefix?, commandTimeout?, presenceLease? } (cluster.ts). @default none */
  redis?: RedisOption
  /** Per-socket send limit (operations.ts). `false` disables. @default true */
  backpressure?: boolean | BackpressureOptions
  /** Open sockets at most; further upgrades get 503. @default unlimited */
  maxConnections?: number | null
  /** permessage-deflate for frames of at least `threshold` bytes. @default false */
  compression?: boolean | CompressionOptions
  /** On close, ms to wait for sockets to finish the 1001 close handshake before terminating them. @default 5000 */
  drainTimeout?: number
  /** Not an option group: refused with a message naming the options that replace it. */
  limits?: unknown
  /** One-time connection tickets (tickets.ts). No route unless `route` is given. */
  tickets?: TicketOptions
  /** Upgrade attempts per IP (rate-limits.ts). @default false */
  connectionRateLimit?: ConnectionRateLimitOptions | false
  /** This instance's id on the bus. @default hostname-pid-random */
  nodeId?: string
  /**
   * Name of the Fastify decorator that carries the API, so two realtime endpoints (different
   * `path`s) can live in one app. @default 'realtime'
   */
  decorator?: string
  /** GET route serving the protocol's AsyncAPI document (asyncapi.ts). `true`: `${path}/asyncapi.json`. @default false */
  asyncapi?: boolean | AsyncApiRouteOptions
  /** The live inspector page and the `inspect` message (inspector.ts). @default false */
  inspector?: boolean | InspectorOptions
}
