import { matchesFilter } from '../access/filter.js'
import type { Projector } from '../access/projection.js'
import { selectionChanged, unionSelection, type FieldSelection } from '../access/field-selection.js'
import type { Connection } from '../connection/connection.js'
import type { RecordData } from '../types.js'
import type { ChangeEvent } from './history.js'
import { changeEventFrame, encode, resetEventFrame } from '../wire/frames.js'
import { versionOf } from '../records/version.js'
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

/** Whole records (no `fields` asked). */
const WHOLE = 'whole'
type Fields = FieldSelection | typeof WHOLE

/** What one connection gets: how it sees the change and which fields. */
interface Recipient { match: Match, fields: Fields }

/** A connection whose subscriptions ask for different fields gets their union. */
function widen (known: Fields, next: FieldSelection | undefined): Fields {
  if (known === WHOLE || next === undefined) return WHOLE
  return unionSelection(known, next)
}

/** An update that stays in the subscription's filter and changes none of its selected fields. */
function unchangedForSubscription (event: ChangeEvent, subscription: Subscription): boolean {
  const fields = subscription.fields
  if (fields === undefined || event.before === null || !matchesFilter(event.before, subscription.filter)) return false
  return !selectionChanged(fields, event.before, event.after)
}

/**
 * An update that left a subscription: when the record left the guard-forced part of the filter
 * (another tenant, a room the user is not in), the subscriber may not see its new state, so
 * only its id is sent ('left-hidden'); leaving a client-chosen filter sends the record.
 */
function leftMatch (subscription: Subscription, after: RecordData | null): Match {
  const forced = subscription.filter.forced
  return forced !== undefined && !matchesFilter(after, forced) ? 'left-hidden' : 'left'
}

/**
 * Versions of events already fingerprinted: one per event, however many frames (views, field
 * sets, replays) carry it. Keyed by the event alone, which is safe because a resource has one
 * projection.
 */
const eventVersions = new WeakMap<ChangeEvent, string>()

/** The version of the record an insert or update left (src/records/version.ts). */
export function eventVersion (event: ChangeEvent, project: Projector): string {
  let version = eventVersions.get(event)
  if (version === undefined) {
    version = versionOf(project, event.after as RecordData)
    eventVersions.set(event, version)
  }
  return version
}

/** The `event` frame for one change, projected; `left` marks an update that no longer matches. */
export function encodeEvent (event: ChangeEvent, project: Projector, left: boolean, hidden = false, fields?: FieldSelection): string {
  if (event.type === 'reset') return encode(resetEventFrame(event.resource, event.timestamp, event.seq))
  const record = (event.type === 'delete' ? event.before : event.after) as RecordData
  const data = hidden ? { id: event.id ?? record.id } : fields === undefined ? project(record) : fields.select(project(record))
  // A delete has no version; nor has a record the subscriber may no longer see (`hidden`).
  const version = hidden || event.type === 'delete' ? undefined : eventVersion(event, project)
  return encode(changeEventFrame({ event: event.type, resource: event.resource, data, timestamp: event.timestamp, seq: event.seq, ...(version === undefined ? {} : { version }), left }))
}

/**
 * Works out which connections get the change and sends each one frame. A connection with
 * several matching subscriptions gets the event once; an update reaches subscriptions that
 * matched before or after, with `left: true` only when none of them matches after. Frames are
 * encoded once per (view, field set): plain, `left`, `left` with the id only, each whole or
 * with the fields a connection's subscriptions selected; never per recipient. An update that
 * stays in a subscription's filter without changing one of its selected fields skips it.
 */
export function fanOutChange (event: ChangeEvent, index: SubscriptionIndex, project: Projector, stats: FanOutStats): number {
  const recipients = new Map<Connection, Recipient>()
  if (event.type === 'reset') {
    index.forEach((subscription) => recipients.set(subscription.connection, { match: 'plain', fields: WHOLE }))
  } else {
    const type = event.type
    const current = type === 'delete' ? event.before : event.after
    stats.candidates += index.forEachMatch(current, (subscription) => {
      stats.matches++
      if (!subscription.events.has(type)) return
      if (type === 'update' && unchangedForSubscription(event, subscription)) return
      const known = recipients.get(subscription.connection)
      const fields = known?.match === 'plain' ? widen(known.fields, subscription.fields) : subscription.fields ?? WHOLE
      recipients.set(subscription.connection, { match: 'plain', fields })
    })
    if (type === 'update' && event.before !== null) {
      stats.candidates += index.forEachMatch(event.before, (subscription) => {
        stats.matches++
        const known = recipients.get(subscription.connection)
        if (!subscription.events.has('update') || known?.match === 'plain') return
        if (matchesFilter(event.after, subscription.filter)) return
        // Several subscriptions left: the most restrictive view wins.
        const match = known?.match === 'left-hidden' ? 'left-hidden' : leftMatch(subscription, event.after)
        const fields = known === undefined ? subscription.fields ?? WHOLE : widen(known.fields, subscription.fields)
        recipients.set(subscription.connection, { match, fields })
      })
    }
  }
  const frames = new Map<string, string>()
  let sent = 0
  for (const [connection, { match, fields }] of recipients) {
    // 'left-hidden' carries the id only: the field set does not change it.
    const key = match === 'left-hidden' ? match : `${match}\n${fields === WHOLE ? '' : fields.key}`
    let frame = frames.get(key)
    if (frame === undefined) {
      frame = encodeEvent(event, project, match !== 'plain', match === 'left-hidden', fields === WHOLE ? undefined : fields)
      frames.set(key, frame)
    }
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
  if (matchesFilter(current, subscription.filter)) return event.type === 'update' && unchangedForSubscription(event, subscription) ? null : 'plain'
  if (event.type === 'update' && event.before !== null && matchesFilter(event.before, subscription.filter)) return leftMatch(subscription, event.after)
  return null
}
