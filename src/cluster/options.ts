import { hostname } from 'node:os'
import { randomUUID } from 'node:crypto'
import type { Redis } from 'ioredis'
import { RedisBus } from '../bus/redis.js'
import type { Bus, BusLogger } from '../bus/types.js'
import { fail, positiveInteger } from '../options.js'
import { isPlainObject } from '../util/paths.js'

/** `redis` option: a URL, a caller-owned ioredis client, or the object form. */
export type RedisOption = string | Redis | {
  /** redis:// or rediss:// URL; the plugin creates and closes its connections. */
  url?: string
  /** Caller-owned ioredis client for commands (never closed by the plugin). */
  client?: Redis
  /** Caller-owned client for SUBSCRIBE. @default a duplicate of `client`, closed by the plugin */
  subscriber?: Redis
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
  /** This instance's id on the bus. @default `${hostname}-${pid}-${random}` */
  nodeId?: string
}

export interface ResolvedCluster {
  readonly bus: Bus
  /** True when the plugin created the bus (it then closes it at shutdown). */
  readonly ownsBus: boolean
  readonly nodeId: string
  readonly presenceLease: number
}

const DEFAULT_LEASE = 5000
const BUS_METHODS = ['start', 'publish', 'subscribe', 'append', 'readLog', 'head', 'stash', 'take', 'rotateEpoch', 'healthy', 'onHealthChange', 'close'] as const

function isRedisClient (value: unknown): value is Redis {
  return typeof value === 'object' && value !== null && typeof (value as Redis).duplicate === 'function' && typeof (value as Redis).evalsha === 'function'
}

function isBus (value: unknown): value is Bus {
  return typeof value === 'object' && value !== null && typeof (value as Bus).nodeId === 'string' &&
    BUS_METHODS.every((m) => typeof (value as unknown as Record<string, unknown>)[m] === 'function')
}

function validUrl (url: unknown, name: string): string {
  if (typeof url !== 'string' || !/^rediss?:\/\//.test(url)) fail(`${name} must be a redis:// or rediss:// URL`)
  return url
}

export function defaultNodeId (): string {
  return `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`
}

/** Resolves `redis` / `bus` / `nodeId`; null when the instance runs alone. */
export function resolveCluster (input: ClusterOptions, historySize: number, log: BusLogger): ResolvedCluster | null {
  const { redis, bus } = input
  const nodeId = input.nodeId ?? defaultNodeId()
  if (typeof nodeId !== 'string' || nodeId === '' || nodeId.length > 128) fail('nodeId must be a non-empty string of at most 128 characters')
  if (redis !== undefined && bus !== undefined) fail('give either redis or bus, not both')
  if (bus !== undefined) {
    if (!isBus(bus)) fail(`bus must implement ${BUS_METHODS.join(', ')} and have a nodeId`)
    if (input.nodeId !== undefined && input.nodeId !== bus.nodeId) fail('nodeId differs from bus.nodeId; set it on the bus')
    return { bus, ownsBus: false, nodeId: bus.nodeId, presenceLease: DEFAULT_LEASE }
  }
  if (redis === undefined) return null
  const common = { nodeId, historySize, log }
  if (typeof redis === 'string') return { bus: new RedisBus({ ...common, url: validUrl(redis, 'redis') }), ownsBus: true, nodeId, presenceLease: DEFAULT_LEASE }
  if (isRedisClient(redis)) return { bus: new RedisBus({ ...common, client: redis }), ownsBus: true, nodeId, presenceLease: DEFAULT_LEASE }
  if (!isPlainObject(redis)) fail('redis must be a URL, an ioredis client, or { url | client, subscriber?, prefix?, commandTimeout? }')
  for (const key of Object.keys(redis)) {
    if (!['url', 'client', 'subscriber', 'prefix', 'commandTimeout', 'presenceLease'].includes(key)) fail(`redis.${key} is not a known option`)
  }
  const options = redis as Exclude<RedisOption, string | Redis>
  if ((options.url === undefined) === (options.client === undefined)) fail('redis needs exactly one of url or client')
  if (options.client !== undefined && !isRedisClient(options.client)) fail('redis.client must be an ioredis client')
  if (options.subscriber !== undefined && !isRedisClient(options.subscriber)) fail('redis.subscriber must be an ioredis client')
  if (options.prefix !== undefined && (typeof options.prefix !== 'string' || options.prefix === '' || options.prefix.length > 100)) {
    fail('redis.prefix must be a non-empty string of at most 100 characters')
  }
  const commandTimeout = positiveInteger(options.commandTimeout, 'redis.commandTimeout', 2000)
  const presenceLease = positiveInteger(options.presenceLease, 'redis.presenceLease', DEFAULT_LEASE, 100)
  return {
    bus: new RedisBus({
      ...common,
      commandTimeout,
      ...(options.url !== undefined ? { url: validUrl(options.url, 'redis.url') } : {}),
      ...(options.client !== undefined ? { client: options.client } : {}),
      ...(options.subscriber !== undefined ? { subscriber: options.subscriber } : {}),
      ...(options.prefix !== undefined ? { prefix: options.prefix } : {})
    }),
    ownsBus: true,
    nodeId,
    presenceLease
  }
}
