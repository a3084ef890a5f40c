import { matchesFilter } from '../access/filter.js'
import type { Projector } from '../access/projection.js'
import type { Connection } from '../connection/connection.js'
import type { RecordData } from '../types.js'
import type { ChangeEvent } from './history.js'
import { changeEventFrame, encode, resetEventFrame } from '../wire/frames.js'
import type { Subscription } from '../connection/connection.js'
import type { SubscriptionIndex } from './subscription-index.js'

export interface FanOutStats {
  /** Subscriptions examined after the index lookup. */
  candidates: number
  /** Subscriptions whose filter matched. */
  matches: number
  /** Frames sent. */
  deliveries: number
}

/** How one subscription sees a change it gets. */
export type Match = 'plain' | 'left' | 'left-hidden'

/**
 * An update that left a subscription: when the record left the guard-forced part of the filter
 * (another tenant, a room the user is not in), the subscriber may not see its new state, so
 * only its id is sent ('left-hidden'); leaving a client-chosen filter sends the record.
 */
function leftMatch (subscription: Subscription, after: RecordData | null): Match {
  const forced = subscription.filter.forced
  return forced !== undefined && !matchesFilter(after, forced) ? 'left-hidden' : 'left'
}

/** The `event` frame for one change, projected; `left` marks an update that no longer matches. */
export function encodeEvent (event: ChangeEvent, project: Projector, left: boolean, hidden = false): string {
  if (event.type === 'reset') return encode(resetEventFrame(event.resource, event.timestamp, event.seq))
  const record = (event.type === 'delete' ? event.before : event.after) as RecordData
  const data = hidden ? { id: event.id ?? record.id } : project(record)
  return encode(changeEventFrame({ event: event.type, resource: event.resource, data, timestamp: event.timestamp, seq: event.seq, left }))
}

/**
 * Works out which connections get the change and sends each one frame. A connection with
 * several matching subscriptions gets the event once; an update reaches subscriptions that
 * matched before or after, with `left: true` only when none of them matches after. Frames are
 * encoded at most three times (plain, `left`, `left` with the id only), never per recipient.
 */
export function fanOutChange (event: ChangeEvent, index: SubscriptionIndex, project: Projector, stats: FanOutStats): number {
  const recipients = new Map<Connection, Match>()
  if (event.type === 'reset') {
    index.forEach((subscription) => recipients.set(subscription.connection, 'plain'))
  } else {
    const type = event.type
    const current = type === 'delete' ? event.before : event.after
    stats.candidates += index.forEachMatch(current, (subscription) => {
      stats.matches++
      if (subscription.events.has(type)) recipients.set(subscription.connection, 'plain')
    })
    if (type === 'update' && event.before !== null) {
      stats.candidates += index.forEachMatch(event.before, (subscription) => {
        stats.matches++
        if (!subscription.events.has('update') || recipients.get(subscription.connection) === 'plain') return
        if (matchesFilter(event.after, subscription.filter)) return
        // Several subscriptions left: the most restrictive view wins.
        if (recipients.get(subscription.connection) !== 'left-hidden') recipients.set(subscription.connection, leftMatch(subscription, event.after))
      })
    }
  }
  let plain: string | null = null
  let left: string | null = null
  let hidden: string | null = null
  let sent = 0
  for (const [connection, match] of recipients) {
    const frame = match === 'plain'
      ? (plain ??= encodeEvent(event, project, false))
      : match === 'left' ? (left ??= encodeEvent(event, project, true)) : (hidden ??= encodeEvent(event, project, true, true))
    if (connection.send(frame)) sent++
  }
  stats.deliveries += sent
  return sent
}

/** How one subscription sees one change: as a plain event, as `left`, or not at all. */
export function matchForSubscription (event: ChangeEvent, subscription: Subscription): Match | null {
  if (event.type === 'reset') return 'plain'
  if (!subscription.events.has(event.type)) return null
  const current = event.type === 'delete' ? event.before : event.after
  if (matchesFilter(current, subscription.filter)) return 'plain'
  if (event.type === 'update' && event.before !== null && matchesFilter(event.before, subscription.filter)) return leftMatch(subscription, event.after)
  return null
}
