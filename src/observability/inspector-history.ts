import type { LocalHub } from '../hub/local-hub.js'

/** Samples kept for the charts: 5 minutes at the default 1 s interval. */
export const HISTORY_SAMPLES = 300

/** The hub's running totals at one moment (what a sample reads: integers, nothing else). */
interface Totals {
  readonly at: number
  readonly connections: number
  readonly subscriptions: number
  readonly received: number
  readonly sent: number
  readonly events: number
  readonly deliveries: number
  readonly dropped: number
  readonly slowConsumerCloses: number
}

/** One point of the charts: gauges as they were, counters as per-second rates since the previous point. */
export interface InspectorPoint {
  /** Epoch ms. */
  at: number
  connections: number
  subscriptions: number
  /** Client messages received per second. */
  received: number
  /** Frames written per second. */
  sent: number
  /** Changes fanned out per second. */
  events: number
  /** Event frames delivered per second. */
  deliveries: number
  /** Frames dropped by backpressure per second. */
  dropped: number
  /** Sockets closed as slow consumers per second. */
  slowConsumerCloses: number
}

function perSecond (now: number, before: number, seconds: number): number {
  return Math.round((Math.max(0, now - before) / seconds) * 100) / 100
}

/**
 * The last HISTORY_SAMPLES readings of the hub's counters, in a ring. Reading is a handful of
 * integer copies; the inspector's timer samples once per interval while it is enabled, and
 * `inspect()` samples on demand when it is not (then the rates span the time between calls).
 */
export class InspectorHistory {
  private readonly ring: Totals[] = []
  private next = 0

  constructor (private readonly hub: LocalHub) {}

  sample (now = Date.now()): void {
    const { counters, fanOutStats } = this.hub
    const totals: Totals = {
      at: now,
      connections: this.hub.connections.size,
      subscriptions: this.hub.subscriptionCount,
      received: counters.messagesReceived,
      sent: counters.messagesSent,
      events: counters.events,
      deliveries: fanOutStats.deliveries,
      dropped: counters.messagesDropped,
      slowConsumerCloses: counters.slowConsumerCloses
    }
    if (this.ring.length < HISTORY_SAMPLES) this.ring.push(totals)
    else this.ring[this.next] = totals
    this.next = (this.next + 1) % HISTORY_SAMPLES
  }

  /** Epoch ms of the newest sample (0 before the first). */
  get lastAt (): number {
    return this.ordered().at(-1)?.at ?? 0
  }

  /** The charts' points, oldest first (one fewer than the samples: a rate needs two). */
  points (): InspectorPoint[] {
    const samples = this.ordered()
    const points: InspectorPoint[] = []
    for (let i = 1; i < samples.length; i++) {
      const now = samples[i] as Totals
      const before = samples[i - 1] as Totals
      const seconds = Math.max(0.001, (now.at - before.at) / 1000)
      points.push({
        at: now.at,
        connections: now.connections,
        subscriptions: now.subscriptions,
        received: perSecond(now.received, before.received, seconds),
        sent: perSecond(now.sent, before.sent, seconds),
        events: perSecond(now.events, before.events, seconds),
        deliveries: perSecond(now.deliveries, before.deliveries, seconds),
        dropped: perSecond(now.dropped, before.dropped, seconds),
        slowConsumerCloses: perSecond(now.slowConsumerCloses, before.slowConsumerCloses, seconds)
      })
    }
    return points
  }

  private ordered (): Totals[] {
    return this.ring.length < HISTORY_SAMPLES ? this.ring : [...this.ring.slice(this.next), ...this.ring.slice(0, this.next)]
  }
}
