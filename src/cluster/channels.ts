import type { FastifyBaseLogger } from 'fastify'
import { channelTypeOf } from '../channels/names.js'
import type { ChannelService } from '../channels/service.js'
import type { PresenceMember } from '../channels/types.js'
import { watchHealth, type Bus, type Unsubscribe } from '../bus/types.js'
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
  /** Heartbeat period of this node's presence lease, ms; a node silent for 3 leases is gone. */
  leaseMs: number
}

/**
 * Makes channels cluster-wide: every channel/presence push is delivered locally and repeated on
 * the other nodes (each delivers to its own sockets; the origin ignores its own copy), and the
 * presence store's ops travel on the bus with a lease heartbeat. Returns the stop function.
 */
export async function clusterChannels (
  service: ChannelService,
  store: ClusterPresenceStore,
  bus: Bus,
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
  unsubscribes.push(await bus.subscribe(PRESENCE_TOPIC, (envelope) => {
    if (envelope.origin === bus.nodeId) return
    const op = envelope.payload as PresenceOp
    if (op.op === 'state' && op.to !== bus.nodeId) return
    // A node we had dropped (or never met) is alive: ask everyone for their memberships again.
    const stranger = op.op === 'alive' && !store.knows(envelope.origin)
    store.receive(envelope.origin, op, Date.now())
    if (stranger) bus.publish(PRESENCE_TOPIC, { op: 'hello' }).catch(warn('presence hello failed'))
    // A node that just started asks for everyone's memberships.
    if (op.op === 'hello') bus.publish(PRESENCE_TOPIC, { op: 'state', to: envelope.origin, channels: store.snapshot() }).catch(warn('presence state reply failed'))
  }))

  service.push = (channel, message, exclude) => {
    const delivered = service.deliverLocal(channel, message, exclude)
    // Joins, leaves and counts are not forwarded: every node derives them from the replicated
    // presence ops (ClusterPresenceStore.receive), so two racing nodes cannot both announce, or
    // neither, and each socket gets one count per period.
    if (LOCAL_ONLY.has(message.type as string)) return delivered
    if (bus.healthy()) bus.publish(CHANNEL_TOPIC, { channel, message, exclude }).catch(warn('forwarding a channel message failed'))
    return delivered
  }
  const announce = (type: 'presence:member_joined' | 'presence:member_left') => (channel: string, member: PresenceMember): void => {
    if (channelTypeOf(channel) !== 'presence') return
    // Big channels get this node's periodic presence:count instead of per-member events.
    const size = store.memberCount(channel) + (type === 'presence:member_left' ? 1 : 0)
    if (size > service.options.presenceSummaryThreshold) {
      service.summarizer.record(channel, type === 'presence:member_joined' ? 'joined' : 'left')
      return
    }
    service.deliverLocal(channel, { type, channel, member, timestamp: new Date().toISOString() }, null)
  }
  store.onMemberJoined = announce('presence:member_joined')
  store.onMemberGone = announce('presence:member_left')

  const heartbeat = setInterval(() => {
    // While this node cannot reach the bus it hears nobody: that says nothing about the others.
    if (!bus.healthy()) return
    bus.publish(PRESENCE_TOPIC, { op: 'alive' }).catch(warn('presence heartbeat failed'))
    store.sweep(Date.now() - 3 * options.leaseMs)
  }, options.leaseMs)
  heartbeat.unref()
  const stopWatchingHealth = watchHealth(bus, (healthy) => {
    if (!healthy) return
    store.touchAll(Date.now())
    bus.publish(PRESENCE_TOPIC, { op: 'hello' }).catch(warn('presence hello failed'))
  })
  await bus.publish(PRESENCE_TOPIC, { op: 'hello' })

  return async () => {
    stopWatchingHealth() // the bus may outlive this app (caller-owned)
    clearInterval(heartbeat)
    if (bus.healthy()) await bus.publish(PRESENCE_TOPIC, { op: 'bye' }).catch(warn('presence goodbye failed'))
    for (const unsubscribe of unsubscribes.splice(0)) await unsubscribe().catch(warn('unsubscribe failed'))
  }
}
