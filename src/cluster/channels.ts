import type { FastifyBaseLogger } from 'fastify'
import type { ChannelService, ChannelTransport } from '../channels/service.js'
import { watchHealth, type BusHealth, type PubSub, type Unsubscribe } from '../bus/types.js'
import type { ClusterPresenceStore, PresenceOp } from './presence.js'

export const CHANNEL_TOPIC = 'channel'
const LOCAL_ONLY = new Set(['presence:member_joined', 'presence:member_left', 'presence:count'])
export const PRESENCE_TOPIC = 'presence'

interface ChannelPushPayload {
  channel: string
  message: Record<string, unknown>
  exclude: string | null
}

export interface ChannelClusterOptions {
  /**
   * Heartbeat period of this node's presence lease, ms; a node silent for 3 leases is gone. The
   * heartbeat also carries the version of this node's view: a node whose copy differs asks for
   * the full state, so copies converge within about one lease of two nodes hearing each other.
   */
  leaseMs: number
}

/** The bus roles channels use. */
export type ChannelBus = PubSub & BusHealth

/**
 * Repeats channel frames on the other nodes (each delivers to its own sockets; the origin
 * ignores its own copy). Joins, leaves and counts are not forwarded: every node derives them
 * from the replicated presence ops (ClusterPresenceStore), so two racing nodes cannot both
 * announce, or neither, and each socket gets one count per period.
 */
export function busChannelTransport (bus: ChannelBus, log: FastifyBaseLogger): ChannelTransport {
  return {
    forward (channel, message, exclude) {
      if (LOCAL_ONLY.has(message.type as string) || !bus.healthy()) return
      bus.publish(CHANNEL_TOPIC, { channel, message, exclude }).catch((error: unknown) => {
        log.warn({ err: error }, 'realtime cluster: forwarding a channel message failed')
      })
    }
  }
}

/**
 * The receiving side of cluster-wide channels: other nodes' channel frames are delivered to
 * this node's sockets, and the presence store's ops travel on the bus with a lease heartbeat.
 * Returns the stop function.
 */
export async function clusterChannels (
  service: ChannelService,
  store: ClusterPresenceStore,
  bus: ChannelBus,
  log: FastifyBaseLogger,
  options: ChannelClusterOptions
): Promise<() => Promise<void>> {
  const warn = (what: string) => (error: unknown): void => { log.warn({ err: error }, `realtime cluster: ${what}`) }
  const unsubscribes: Unsubscribe[] = []
  unsubscribes.push(await bus.subscribe(CHANNEL_TOPIC, (envelope) => {
    if (envelope.origin === bus.nodeId) return
    const { channel, message, exclude } = envelope.payload as ChannelPushPayload
    service.deliverLocal(channel, message, exclude)
  }))
  // When this node last heard its own presence messages come back: the bus was delivering then.
  let heardSelf = Date.now()
  unsubscribes.push(await bus.subscribe(PRESENCE_TOPIC, (envelope) => {
    if (envelope.origin === bus.nodeId) {
      heardSelf = Date.now()
      return
    }
    const op = envelope.payload as PresenceOp
    if (op.op === 'ask' && op.to !== bus.nodeId) return
    // Hellos, asks and stale copies are answered by the store through its send (the bus).
    store.receive(envelope.origin, op, Date.now())
  }))

  let lastBeat = Date.now()
  const heartbeat = setInterval(() => {
    const now = Date.now()
    // A tick this late means this process stood still (a pause, a blocked loop): it heard
    // nobody meanwhile, which says nothing about the others.
    const stalled = now - lastBeat > 2 * options.leaseMs
    lastBeat = now
    // While this node cannot reach the bus it hears nobody either.
    if (!bus.healthy()) return
    bus.publish(PRESENCE_TOPIC, store.alive()).catch(warn('presence heartbeat failed'))
    // Silence counts only while the bus demonstrably delivers: its own heartbeat (sent each
    // lease) came back. A frozen Redis keeps connections open and delivers nothing to anyone;
    // the leases of the others then run from the last moment this node heard itself.
    if (stalled) store.touchAll(now)
    else store.sweep(Math.min(now, heardSelf + options.leaseMs) - 3 * options.leaseMs)
  }, options.leaseMs)
  heartbeat.unref()
  const stopWatchingHealth = watchHealth(bus, (healthy) => {
    if (!healthy) return
    store.touchAll(Date.now())
    // Its view and "send me yours": both sides repair what was missed while cut off.
    bus.publish(PRESENCE_TOPIC, store.hello()).catch(warn('presence hello failed'))
  })
  await bus.publish(PRESENCE_TOPIC, store.hello())

  return async () => {
    stopWatchingHealth() // the bus may outlive this app (caller-owned)
    clearInterval(heartbeat)
    if (bus.healthy()) await bus.publish(PRESENCE_TOPIC, { op: 'bye' }).catch(warn('presence goodbye failed'))
    for (const unsubscribe of unsubscribes.splice(0)) await unsubscribe().catch(warn('unsubscribe failed'))
  }
}
