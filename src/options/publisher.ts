import type { ResolvedResource } from '../access/resource.js'
import { silentLogger, type BusLogger } from '../bus/types.js'
import type { DatabaseLike } from '../types.js'
import { resolveCluster, type ClusterOptions, type ResolvedCluster } from './cluster.js'
import { resolveCore } from './core.js'
import { DEFAULTS } from './defaults.js'
import { fail, positiveInteger } from './validate.js'

/** `attachPublisher(database, options)`: a worker that writes to s3db without serving sockets. */
export interface PublisherOptions extends ClusterOptions {
  /** Resources whose changes are forwarded. Without it: every resource of the database. */
  resources?: string[]
  /** Entries kept per resource in the Redis stream; use the servers' `historySize`. @default 1000 */
  historySize?: number
  /** Where failures are reported (a pino/Fastify logger fits). Without it: silent. */
  log?: BusLogger
  /**
   * Longest wait in `close()` for writes still running on the resources to land and be numbered,
   * ms. Writes still running after it are announced as lost (a resync). @default 5000
   */
  drainTimeout?: number
}

export interface ResolvedPublisher {
  readonly historySize: number
  readonly resources: ReadonlyMap<string, ResolvedResource>
  readonly cluster: ResolvedCluster
  readonly log: BusLogger
  readonly drainTimeout: number
}

export function resolvePublisherOptions (database: DatabaseLike, options: PublisherOptions): ResolvedPublisher {
  if (options === null || typeof options !== 'object') fail('attachPublisher needs options with redis or bus')
  const historySize = positiveInteger(options.historySize, 'historySize', DEFAULTS.core.historySize, 0)
  const log = options.log ?? silentLogger
  const drainTimeout = positiveInteger(options.drainTimeout, 'drainTimeout', DEFAULTS.core.drainTimeout, 0)
  const names = options.resources ?? Object.keys(database.resources)
  if (!Array.isArray(names) || names.some((n) => typeof n !== 'string')) fail('resources must be an array of resource names')
  const core = resolveCore({ database, resources: Object.fromEntries(names.map((n) => [n, true])) })
  const { redis, bus, nodeId } = options
  const cluster = resolveCluster({ ...(redis !== undefined ? { redis } : {}), ...(bus !== undefined ? { bus } : {}), ...(nodeId !== undefined ? { nodeId } : {}) })
  if (cluster === null) fail('attachPublisher needs redis or bus')
  return { historySize, resources: core.resources, cluster, log, drainTimeout }
}
