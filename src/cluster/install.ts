import type { FastifyBaseLogger } from 'fastify'
import type { Stash } from '../bus/types.js'
import type { RawChange, Hub } from '../hub/hub.js'
import { ClusterCoordinator } from './coordinator.js'
import { APPEND_TIMEOUT } from './numbering.js'
import type { ResolvedCluster } from '../options/cluster.js'
import { openBus } from './open-bus.js'
import type { ChannelService } from '../channels/service.js'
import { clusterChannels, PRESENCE_TOPIC } from './channels.js'
import { ClusterPresenceStore } from './presence.js'

export interface ClusterHandle {
  /** Where the bridge sends s3db changes. */
  readonly sink: (change: RawChange) => void
  /** Clustered: resolves once the resource's changes captured so far are numbered (null alone). */
  readonly settled: ((resource: string) => Promise<void>) | null
  readonly coordinator: ClusterCoordinator | null
  /** Where tickets are kept so any instance can redeem them (null alone). */
  readonly stash: Stash | null
  /** The cluster-wide presence store to give the channels module (undefined: its default). */
  readonly presenceStore: ClusterPresenceStore | undefined
  /** Forwards channel pushes and presence through the bus (no-op alone). */
  attachChannels: (service: ChannelService) => Promise<void>
  close: () => Promise<void>
}

/** How long a hole in the seq order may stay open before it is read from the log, ms. */
const GAP_TIMEOUT = 500

/**
 * With `redis` or `bus`, joins the cluster before the bridge attaches (so the first change is
 * already numbered cluster-wide) and adds the `bus` readiness check. Without, the hub numbers
 * changes itself, exactly as on a single instance.
 */
export async function installCluster (hub: Hub, cluster: ResolvedCluster | null, log: FastifyBaseLogger): Promise<ClusterHandle> {
  if (cluster === null) {
    return { sink: (change) => { hub.publishChange(change) }, settled: null, coordinator: null, stash: null, presenceStore: undefined, attachChannels: async () => {}, close: async () => {} }
  }
  const resolved = { ...cluster, ...openBus(cluster, hub.options.historySize, log) }
  const { bus } = resolved
  const presenceStore = new ClusterPresenceStore((op) => {
    if (bus.healthy()) {
      bus.publish(PRESENCE_TOPIC, op).catch((error: unknown) => {
        hub.counters.busErrors++
        log.warn({ err: error }, 'realtime cluster: presence update not sent')
      })
    }
  })
  let stopChannels: (() => Promise<void>) | null = null
  const coordinator = new ClusterCoordinator(hub.local, hub.stream, resolved.bus, log.child({ nodeId: resolved.nodeId }), { appendTimeout: APPEND_TIMEOUT, gapTimeout: GAP_TIMEOUT })
  try {
    await resolved.bus.start()
    await coordinator.start()
  } catch (error) {
    if (resolved.ownsBus) await resolved.bus.close()
    throw error
  }
  hub.relay = (call) => { coordinator.send(call) }
  hub.historySource = coordinator
  hub.busHealthy = () => coordinator.healthy()
  hub.addReadinessCheck({
    name: 'bus',
    check: () => ({ healthy: coordinator.healthy(), kind: resolved.bus.kind, nodeId: resolved.nodeId, connected: resolved.bus.healthy() })
  })
  let closed = false
  return {
    sink: (change) => { coordinator.publishChange(change) },
    settled: async (resource) => { await coordinator.settled(resource) },
    coordinator,
    stash: bus,
    presenceStore,
    attachChannels: async (service) => {
      stopChannels = await clusterChannels(service, presenceStore, bus, log, { leaseMs: resolved.presenceLease })
    },
    close: async () => {
      if (closed) return
      closed = true
      hub.relay = null
      hub.historySource = null
      await stopChannels?.()
      await coordinator.close(!resolved.ownsBus)
      if (resolved.ownsBus) await resolved.bus.close()
    }
  }
}
