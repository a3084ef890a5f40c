import type { FastifyBaseLogger } from 'fastify'
import type { Locks, Stash } from '../bus/types.js'
import { CutOffError } from '../errors.js'
import { localOnly, type ChannelService, type ChannelTransport } from '../channels/service.js'
import type { PresenceStore } from '../channels/presence-store.js'
import type { ChangeStream, RawChange } from '../hub/change-stream.js'
import type { LocalHub } from '../hub/local-hub.js'
import { noRelay, type Relay } from '../hub/relay.js'
import type { HistorySource } from '../hub/replay.js'
import type { PreHandler } from '../protocol/dispatcher.js'
import type { ReadinessRegistry } from '../observability/readiness.js'
import type { ResolvedCluster } from '../options/cluster.js'
import { busChannelTransport, clusterChannels, PRESENCE_TOPIC } from './channels.js'
import { ClusterCoordinator } from './coordinator.js'
import { NodeLiveness, WriteFence } from './liveness.js'
import { APPEND_TIMEOUT } from './numbering.js'
import { openBus } from './open-bus.js'
import { LocalRecordLocks, type RecordLocks } from '../records/record-locks.js'
import { busRecordLock, unsharedRecordLock } from './record-lock.js'
import { ClusterPresenceStore } from './presence.js'

/** What the cluster module is built on. */
export interface ClusterBase {
  readonly hub: LocalHub
  readonly stream: ChangeStream
  readonly readiness: ReadinessRegistry
  readonly historySize: number
}

/** What the cluster gives the other parts; alone, the single-instance equivalents. */
export interface ClusterHandle {
  /** Where the bridge sends s3db changes. */
  readonly sink: (change: RawChange) => void
  /** Clustered: resolves once the resource's changes captured so far are numbered (null alone). */
  readonly settled: ((resource: string) => Promise<void>) | null
  /**
   * Runs before every write to a realtime resource, whoever makes it (socket, REST route, job):
   * throws CutOffError while this instance is fenced off the cluster (null alone).
   */
  readonly admitWrite: (() => void) | null
  /** Repeats public-API calls and publishes on the other instances. */
  readonly relay: Relay
  /** Where `since` reads beyond this instance's memory (null alone). */
  readonly history: HistorySource | null
  /** False while the bus is unreachable or this instance is catching up (always true alone). */
  readonly busHealthy: () => boolean
  /** Where tickets are kept so any instance can redeem them (null alone). */
  readonly stash: Stash | null
  /** The channel service's membership store (undefined: its in-memory default). */
  readonly presenceStore: PresenceStore | undefined
  /** How channel frames reach the other instances. */
  readonly channelTransport: ChannelTransport
  /** Starts receiving other instances' channel frames and presence (no-op alone). */
  attachChannels: (service: ChannelService) => Promise<void>
  /** Socket writes to one record take turns: on this instance, and clustered across instances. */
  readonly recordLocks: RecordLocks
  /** For the dispatcher: refuses record writes while this instance is cut off from the cluster (none alone). */
  readonly preHandlers: readonly PreHandler[]
  /**
   * Some change of this instance may never be announced (a write still running when it closed):
   * it then leaves without a goodbye, and the others tell every client to re-list.
   */
  leaveUnannounced: () => void
  close: () => Promise<void>
}

/** How long a hole in the seq order may stay open before it is read from the log, ms. */
const GAP_TIMEOUT = 500

/**
 * With `redis` or `bus`, joins the cluster before the bridge attaches (so the first change is
 * already numbered cluster-wide) and adds the `bus` readiness check. Without, the change stream
 * numbers changes itself, exactly as on a single instance.
 */
export async function installCluster (base: ClusterBase, cluster: ResolvedCluster | null, log: FastifyBaseLogger): Promise<ClusterHandle> {
  const { hub, stream } = base
  if (cluster === null) {
    return {
      sink: (change) => { stream.publish(change) },
      settled: null,
      admitWrite: null,
      relay: noRelay,
      history: null,
      busHealthy: () => true,
      stash: null,
      presenceStore: undefined,
      channelTransport: localOnly,
      attachChannels: async () => {},
      recordLocks: new LocalRecordLocks(),
      preHandlers: [],
      leaveUnannounced: () => {},
      close: async () => {}
    }
  }
  const { bus, ownsBus } = openBus(cluster, base.historySize, log)
  const presenceStore = new ClusterPresenceStore((op) => {
    if (bus.healthy()) {
      bus.publish(PRESENCE_TOPIC, op).catch((error: unknown) => {
        hub.counters.busErrors++
        log.warn({ err: error }, 'realtime cluster: presence update not sent')
      })
    }
  })
  let stopChannels: (() => Promise<void>) | null = null
  const nodeLog = log.child({ nodeId: cluster.nodeId })
  const coordinator = new ClusterCoordinator(hub, stream, bus, nodeLog, { appendTimeout: APPEND_TIMEOUT, gapTimeout: GAP_TIMEOUT })
  const fence = new WriteFence(nodeLog)
  const liveness = new NodeLiveness(bus, {
    leaseMs: cluster.presenceLease,
    announceLoss: async () => { await coordinator.announceLoss() },
    onCheck: (deaf) => { fence.update(deaf, coordinator.healthy()) },
    log: nodeLog
  })
  try {
    await bus.start()
    await coordinator.start()
    await liveness.start()
  } catch (error) {
    await coordinator.close(!ownsBus).catch(() => {}) // already failing: the first error is the one to report
    if (ownsBus) await bus.close()
    throw error
  }
  const inStep = (): boolean => coordinator.healthy() && !fence.active
  if (!hasLocks(bus)) nodeLog.warn('realtime cluster: the bus has no lock(); socket writes to one record take turns per instance only, and conditional updates (ifVersion) are refused with UNAVAILABLE')
  base.readiness.add({
    name: 'bus',
    check: () => ({ healthy: inStep(), kind: bus.kind, nodeId: cluster.nodeId, connected: bus.healthy() })
  })
  let unannounced = false
  let closed = false
  return {
    sink: (change) => { coordinator.publishChange(change) },
    settled: async (resource) => { await coordinator.settled(resource) },
    admitWrite: () => { if (fence.active) throw new CutOffError() },
    relay: coordinator,
    history: coordinator,
    busHealthy: inStep,
    stash: bus,
    presenceStore,
    channelTransport: busChannelTransport(bus, log),
    attachChannels: async (service) => {
      stopChannels = await clusterChannels(service, presenceStore, bus, log, { leaseMs: cluster.presenceLease })
    },
    recordLocks: new LocalRecordLocks(hasLocks(bus) ? busRecordLock(bus, nodeLog) : unsharedRecordLock),
    preHandlers: [fence.preHandler],
    leaveUnannounced: () => { unannounced = true },
    close: async () => {
      if (closed) return
      closed = true
      await stopChannels?.()
      // Every change captured so far numbered (or delivered alone) before judging how this node
      // leaves: with nothing left unannounced it says goodbye, else the others announce the loss.
      await Promise.all([...hub.resources.keys()].map(async (name) => { await coordinator.settled(name) }))
      await liveness.close({ clean: !unannounced && coordinator.healthy(), unsubscribe: !ownsBus })
      await coordinator.close(!ownsBus)
      if (ownsBus) await bus.close()
    }
  }
}

/** Whether `bus` can lock records across instances (a caller's own Bus may not). */
function hasLocks<B extends Partial<Locks>> (bus: B): bus is B & Locks {
  return typeof bus.lock === 'function' && typeof bus.unlock === 'function'
}
