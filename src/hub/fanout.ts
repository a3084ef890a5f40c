import { matchesFilter } from '../access/filter.js'
import type { Projector } from '../access/projection.js'
import type { Connection } from '../connection/connection.js'
import type { RecordData } from '../types.js'
import type { ChangeEvent } from './history.js'
import type { Subscription, SubscriptionIndex } from './subscription-index.js'

export interface FanOutStats {
  /** Subscriptions examined after the index lookup. */
  candidates: number
  /** Subscriptions whose filter matched. */
  matches: number
  /** Frames sent. */
  deliveries: number
}

/** The `event` frame for one change, projected; `left` marks an update that no longer matches. */
export function encodeEvent (event: ChangeEvent, project: Projector, left: boolean): string {
  if (event.type === 'reset') {
    return JSON.stringify({ type: 'event', event: 'reset', resource: event.resource, timestamp: event.timestamp, seq: event.seq })
  }
  const record = (event.type === 'delete' ? event.before : event.after) as RecordData
  const message: Record<string, unknown> = {
    type: 'event',
    event: event.type,
    resource: event.resource,
    data: project(record),
    timestamp: event.timestamp,
    seq: event.seq
  }
  if (left) message.left = true
  return JSON.stringify(message)
}

/**
 * Works out which connections get the change and sends each one frame. A connection with
 * several matching subscriptions gets the event once; an update reaches subscriptions that
 * matched before or after, with `left: true` only when none of them matches after. Frames are
 * encoded at most twice (plain and `left`), never per recipient.
 */
export function fanOutChange (event: ChangeEvent, index: SubscriptionIndex, project: Projector, stats: FanOutStats): number {
  const recipients = new Map<Connection, boolean>()
  if (event.type === 'reset') {
    index.forEach((subscription) => recipients.set(subscription.connection, false))
  } else {
    const type = event.type
    const current = type === 'delete' ? event.before : event.after
    stats.candidates += index.forEachMatch(current, (subscription) => {
      stats.matches++
      if (subscription.events.has(type)) recipients.set(subscription.connection, false)
    })
    if (type === 'update' && event.before !== null) {
      stats.candidates += index.forEachMatch(event.before, (subscription) => {
        stats.matches++
        if (!subscription.events.has('update') || recipients.has(subscription.connection)) return
        if (!matchesFilter(event.after, subscription.filter)) recipients.set(subscription.connection, true)
      })
    }
  }
  let plain: string | null = null
  let left: string | null = null
  let sent = 0
  for (const [connection, isLeft] of recipients) {
    const frame = isLeft ? (left ??= encodeEvent(event, project, true)) : (plain ??= encodeEvent(event, project, false))
    if (connection.send(frame)) sent++
  }
  stats.deliveries += sent
  return sent
}

/** How one subscription sees one change: as a plain event, as `left`, or not at all. */
export function matchForSubscription (event: ChangeEvent, subscription: Subscription): 'plain' | 'left' | null {
  if (event.type === 'reset') return 'plain'
  if (!subscription.events.has(event.type)) return null
  const current = event.type === 'delete' ? event.before : event.after
  if (matchesFilter(current, subscription.filter)) return 'plain'
  if (event.type === 'update' && event.before !== null && matchesFilter(event.before, subscription.filter)) return 'left'
  return null
}
