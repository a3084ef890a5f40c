import type { FastifyBaseLogger } from 'fastify'
import { ResourceBridge } from '../bridge/bridge.js'
import { CutOffError } from '../errors.js'
import { watchHealth, type BusLogger, type ChangeLog, type PubSub } from '../bus/types.js'
import type { RawChange } from '../hub/change-stream.js'
import { resolvePublisherOptions, type PublisherOptions } from '../options/publisher.js'
import type { DatabaseLike } from '../types.js'
import { CONTROL_TOPIC } from './coordinator.js'
import { NodeLiveness } from './liveness.js'
import { ChangeNumbering } from './numbering.js'
import { openBus } from './open-bus.js'

/** Pause before a failed loss announcement is tried again, ms. */
const ANNOUNCE_RETRY_MS = 1000

export interface Publisher {
  /** This worker's node id on the bus. */
  readonly nodeId: string
  /** Changes the bus could not take (they are announced to clients as a resync once it is back). */
  readonly dropped: number
  /** Detaches from the database and closes what it created. Idempotent. */
  close: () => Promise<void>
}

/**
 * For a process that writes to s3db without serving sockets (a worker, a cron job): forwards
 * its resource changes to the cluster, numbered like any instance's, so every server's clients
 * see them. Changes the bus cannot take are counted, and once it is back the epoch is rotated so
 * clients re-list instead of silently missing them. The worker takes part in liveness like an
 * instance: if it dies, or closes, before its drops are announced, the instances announce them.
 */
export async function attachPublisher (database: DatabaseLike, options: PublisherOptions): Promise<Publisher> {
  const { historySize, resources, cluster: resolved, log, drainTimeout } = resolvePublisherOptions(database, options)
  const cluster = openBus(resolved, historySize, log)
  const { bus } = cluster
  await bus.start()
  const liveness = new NodeLiveness(bus, { leaseMs: resolved.presenceLease, announceLoss: async () => { await announceResync(bus) }, log })
  try {
    await liveness.start()
  } catch (error) {
    if (cluster.ownsBus) await bus.close()
    throw error
  }

  let dropped = 0
  /** Drops already announced to the cluster (as an epoch rotation). */
  let announced = 0
  let announcing: Promise<void> | null = null
  let closed = false
  const announceOnce = async (): Promise<void> => {
    const upTo = dropped
    try {
      await announceResync(bus)
      announced = Math.max(announced, upTo)
    } catch (error) {
      log.warn({ err: error }, 'realtime publisher: could not announce lost changes; retrying')
    }
  }
  // Lost changes become a resync as soon as the bus can carry it: right away when it is
  // reachable (a drop can also happen with the connection up), else once it is back.
  const announceLoss = (): void => {
    if (announced === dropped || announcing !== null || closed || !bus.healthy()) return
    const upTo = dropped
    announcing = announceOnce().finally(() => {
      announcing = null
      // Drops that happened meanwhile go now; a failed announcement is tried again shortly.
      if (announced >= upTo) announceLoss()
      else setTimeout(announceLoss, ANNOUNCE_RETRY_MS).unref()
    })
  }
  const stopWatchingHealth = watchHealth(bus, (healthy) => { if (healthy) announceLoss() })
  const numbering = new ChangeNumbering(bus)
  const sink = (change: RawChange): void => {
    numbering.number(change).catch((error: unknown) => {
      dropped++
      log.warn({ err: error, resource: change.resource }, 'realtime publisher: the bus did not take a change')
      announceLoss()
    })
  }
  // The worker's writes resolve once numbered, like an instance's (see holdWritesUntilNumbered).
  // Cut off for 2 leases, the worker is about to be presumed dead and its writes announced as
  // lost: a write made from then on could never be announced, so it is refused instead.
  const admit = (): void => { if (liveness.deaf) throw new CutOffError() }
  const bridge = new ResourceBridge(resources, sink, bridgeLogger(log), async (resource) => { await numbering.settled(resource) }, admit)
  bridge.attach()

  let closing: Promise<void> | null = null
  const closeInOrder = async (): Promise<void> => {
    // Writes still running (the job called close() without awaiting one) land and are numbered
    // before the bridge lets go; a write still running after drainTimeout counts as a drop, so
    // its change is announced as a resync instead of being lost silently.
    const unannounced = await bridge.close(drainTimeout)
    if (unannounced > 0) {
      dropped += unannounced
      log.warn({ writes: unannounced }, 'realtime publisher: writes still running after drainTimeout; announced as a resync')
    }
    closed = true
    stopWatchingHealth()
    // Every change captured so far numbered or dropped, and the drops announced if the bus
    // can still carry it: only then does the worker say goodbye. Otherwise it leaves quietly
    // and the instances, missing it, announce the loss for it.
    await Promise.all([...resources.keys()].map(async (name) => { await numbering.settled(name) }))
    await announcing
    if (announced < dropped && bus.healthy()) await announceOnce()
    await liveness.close({ clean: announced >= dropped, unsubscribe: !cluster.ownsBus })
    if (cluster.ownsBus) await bus.close()
  }
  return {
    nodeId: bus.nodeId,
    get dropped () { return dropped },
    close: async () => {
      closing ??= closeInOrder()
      await closing
    }
  }
}

/** Starts a new epoch and tells every instance: each one's subscribers re-list. */
async function announceResync (bus: ChangeLog & PubSub): Promise<void> {
  await bus.rotateEpoch()
  await bus.publish(CONTROL_TOPIC, { kind: 'resync' })
}

/** The bridge logs through a Fastify logger; a worker may only have `warn`. */
function bridgeLogger (log: BusLogger): FastifyBaseLogger {
  const warn = (obj: object, msg: string): void => { log.warn(obj, msg) }
  const quiet = (): void => {}
  const logger = { level: 'warn', fatal: warn, error: warn, warn, info: quiet, debug: quiet, trace: quiet, silent: quiet, child: () => logger }
  return logger as unknown as FastifyBaseLogger
}
