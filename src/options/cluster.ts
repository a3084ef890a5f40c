import type { Cluster, Redis } from 'ioredis'
import type { Bus } from '../bus/types.js'
import { isPlainObject } from '../util/paths.js'
import { DEFAULTS } from './defaults.js'
import { fail, onlyKeys, positiveInteger } from './validate.js'

/** `redis` option: a URL, a caller-owned ioredis client (Redis or Cluster), or the object form. */
export type RedisOption = string | Redis | Cluster | {
  /** redis:// or rediss:// URL; the plugin creates and closes its connections. */
  url?: string
  /**
   * Seed nodes of a Redis Cluster (redis:// URLs); the plugin creates and closes its cluster
   * connections, and each resource's log lives on the shard its hash tag maps to.
   */
  nodes?: string[]
  /** Caller-owned ioredis client (Redis or Cluster) for commands (never closed by the plugin). */
  client?: Redis | Cluster
  /** Caller-owned client for SUBSCRIBE. Without it: a duplicate of `client`, closed by the plugin. */
  subscriber?: Redis | Cluster
  /** Prefix of every Redis key and channel. @default 's3db-realtime' */
  prefix?: string
  /** Per-command timeout on connections the plugin creates, ms. @default 2000 */
  commandTimeout?: number
  /** Presence lease of an instance, ms: members of an instance silent for 3 leases leave. @default 5000 */
  presenceLease?: number
}

export interface ClusterOptions {
  /** Redis for a multi-instance deployment. Mutually exclusive with `bus`. */
  redis?: RedisOption
  /** A ready-made Bus (for example a MemoryBus sharing a MemoryBroker); caller-owned. */
  bus?: Bus
  /** This instance's id on the bus. @default hostname-pid-random */
  nodeId?: string
}

/** The Redis connection to open (the cluster module builds the RedisBus from it). */
export interface RedisConnection {
  readonly url?: string
  readonly nodes?: string[]
  readonly client?: Redis | Cluster
  readonly subscriber?: Redis | Cluster
  readonly prefix: string
  readonly commandTimeout: number
}

/** What to join: the caller's bus, or a Redis bus the plugin opens (and closes). */
export type ClusterTransport =
  | { readonly kind: 'bus', readonly bus: Bus }
  | { readonly kind: 'redis', readonly redis: RedisConnection }

export interface ResolvedCluster {
  readonly nodeId: string
  readonly presenceLease: number
  readonly transport: ClusterTransport
}

export const CLUSTER_KEYS = ['redis', 'bus', 'nodeId'] as const

const BUS_METHODS = ['start', 'publish', 'subscribe', 'append', 'readLog', 'head', 'stash', 'take', 'rotateEpoch', 'healthy', 'onHealthChange', 'close'] as const
const REDIS_KEYS = ['url', 'nodes', 'client', 'subscriber', 'prefix', 'commandTimeout', 'presenceLease']

/** At most this many seed nodes (a cluster finds the rest itself). */
const MAX_SEED_NODES = 100

function isRedisClient (value: unknown): value is Redis | Cluster {
  return typeof value === 'object' && value !== null && typeof (value as Redis).duplicate === 'function' && typeof (value as Redis).evalsha === 'function'
}

function seedNodes (nodes: unknown): string[] {
  if (!Array.isArray(nodes) || nodes.length === 0 || nodes.length > MAX_SEED_NODES) fail(`redis.nodes must be a non-empty array of at most ${MAX_SEED_NODES} redis:// URLs`)
  // rediss:// is refused: ioredis does not take TLS from a cluster seed URL (pass your own Cluster as client).
  return nodes.map((node, i) => {
    if (typeof node !== 'string' || !/^redis:\/\/[^/?#]+$/.test(node)) fail(`redis.nodes[${i}] must be a redis://host:port URL (for TLS, pass your own ioredis Cluster as redis.client)`)
    return node
  })
}

function isBus (value: unknown): value is Bus {
  return typeof value === 'object' && value !== null && typeof (value as Bus).nodeId === 'string' &&
    BUS_METHODS.every((m) => typeof (value as unknown as Record<string, unknown>)[m] === 'function')
}

function validUrl (url: unknown, name: string): string {
  if (typeof url !== 'string' || !/^rediss?:\/\//.test(url)) fail(`${name} must be a redis:// or rediss:// URL`)
  return url
}

function redisConnection (redis: unknown): { connection: RedisConnection, presenceLease: number } {
  const defaults = DEFAULTS.redis
  const plain = { prefix: defaults.prefix, commandTimeout: defaults.commandTimeout }
  if (typeof redis === 'string') return { connection: { ...plain, url: validUrl(redis, 'redis') }, presenceLease: defaults.presenceLease }
  if (isRedisClient(redis)) return { connection: { ...plain, client: redis }, presenceLease: defaults.presenceLease }
  if (!isPlainObject(redis)) fail('redis must be a URL, an ioredis client, or { url | nodes | client, subscriber?, prefix?, commandTimeout? }')
  onlyKeys(redis, 'redis', REDIS_KEYS)
  if ([redis.url, redis.nodes, redis.client].filter((given) => given !== undefined).length !== 1) fail('redis needs exactly one of url, nodes or client')
  if (redis.client !== undefined && !isRedisClient(redis.client)) fail('redis.client must be an ioredis client')
  if (redis.subscriber !== undefined && !isRedisClient(redis.subscriber)) fail('redis.subscriber must be an ioredis client')
  if (redis.subscriber !== undefined) {
    const clustered = redis.nodes !== undefined || (redis.client as Redis | Cluster | undefined)?.isCluster === true
    if ((redis.subscriber as Redis | Cluster).isCluster !== clustered) fail('redis.subscriber must be a Cluster exactly when the commands go to a Redis Cluster')
  }
  if (redis.prefix !== undefined && (typeof redis.prefix !== 'string' || redis.prefix === '' || redis.prefix.length > 100)) {
    fail('redis.prefix must be a non-empty string of at most 100 characters')
  }
  const commandTimeout = positiveInteger(redis.commandTimeout, 'redis.commandTimeout', defaults.commandTimeout)
  const presenceLease = positiveInteger(redis.presenceLease, 'redis.presenceLease', defaults.presenceLease, 100)
  return {
    connection: {
      prefix: (redis.prefix as string | undefined) ?? defaults.prefix,
      commandTimeout,
      ...(redis.url !== undefined ? { url: validUrl(redis.url, 'redis.url') } : {}),
      ...(redis.nodes !== undefined ? { nodes: seedNodes(redis.nodes) } : {}),
      ...(redis.client !== undefined ? { client: redis.client as Redis | Cluster } : {}),
      ...(redis.subscriber !== undefined ? { subscriber: redis.subscriber as Redis | Cluster } : {})
    },
    presenceLease
  }
}

/** Resolves `redis` / `bus` / `nodeId`; null when the instance runs alone. */
export function resolveCluster (input: Record<string, unknown>): ResolvedCluster | null {
  const { redis, bus } = input
  const nodeId = input.nodeId ?? DEFAULTS.core.nodeId.of()
  if (typeof nodeId !== 'string' || nodeId === '' || nodeId.length > 128) fail('nodeId must be a non-empty string of at most 128 characters')
  if (redis !== undefined && bus !== undefined) fail('give either redis or bus, not both')
  if (bus !== undefined) {
    if (!isBus(bus)) fail(`bus must implement ${BUS_METHODS.join(', ')} and have a nodeId`)
    if (input.nodeId !== undefined && input.nodeId !== bus.nodeId) fail('nodeId differs from bus.nodeId; set it on the bus')
    return { nodeId: bus.nodeId, presenceLease: DEFAULTS.redis.presenceLease, transport: { kind: 'bus', bus } }
  }
  if (redis === undefined) return null
  const { connection, presenceLease } = redisConnection(redis)
  return { nodeId, presenceLease, transport: { kind: 'redis', redis: connection } }
}
