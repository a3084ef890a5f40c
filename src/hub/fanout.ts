import { matchesFilter } from '../access/filter.js'
import type { Projector } from '../access/projection.js'
import { unionSelection, type FieldSelection } from '../access/field-selection.js'
import type { Connection } from '../connection/connection.js'
import type { RecordData } from '../types.js'
import { diffRecords, sameJson, type RecordChanges } from '../util/record-diff.js'
import type { ChangeEvent } from './history.js'
import { changeDeltaFrame, changeEventFrame, encode, resetEventFrame } from '../wire/frames.js'
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
  /** Frames encoded: one per distinct view of a change, however many recipients share it. */
  encodings: number
}

/** How one subscription sees a change it gets. */
export type Match = 'plain' | 'left' | 'left-hidden'

/** Whole records (no `fields` asked). */
const WHOLE = 'whole'
type Fields = FieldSelection | typeof WHOLE

/**
 * What one connection gets: how it sees the change, which fields, and whether as the paths that
 * changed (every subscription it gets the update through asked for deltas and already holds the
 * record: it stayed in their filters).
 */
interface Recipient { readonly match: Match, readonly fields: Fields, readonly delta: boolean }

/** The usual recipient (whole record, no delta), shared: fan-out allocates nothing per recipient for it. */
const PLAIN_WHOLE: Recipient = Object.freeze({ match: 'plain', fields: WHOLE, delta: false })

function plain (fields: Fields, delta: boolean): Recipient {
  return fields === WHOLE && !delta ? PLAIN_WHOLE : { match: 'plain', fields, delta }
}

function keyOf (fields: Fields): string {
  return fields === WHOLE ? '' : fields.key
}

/**
 * The changes of one update as each field set sees it: projected (protected fields and s3db
 * internals gone), then selected, then diffed, so a delta never shows what the record would
 * not. Computed lazily, once per field set per change, never per recipient. A null entry: a
 * changed key a dot path cannot name, the whole record is sent instead.
 */
export class UpdateDiffs {
  private projected: [RecordData, RecordData] | undefined
  private readonly byFields = new Map<string, RecordChanges | null>()
  private readonly sameByFields = new Map<string, boolean>()

  constructor (private readonly event: ChangeEvent, private readonly project: Projector) {}

  /** Whether the record, as this field set sees it (projected, then selected), is exactly as it was. */
  unchanged (fields: Fields): boolean {
    return once(this.sameByFields, keyOf(fields), () => sameJson(...this.views(fields)))
  }

  changes (fields: Fields): RecordChanges | null {
    return once(this.byFields, keyOf(fields), () => diffRecords(...this.views(fields)))
  }

  /** Before and after as `fields` sees them; each projected once per change. */
  private views (fields: Fields): [RecordData, RecordData] {
    const [before, after] = this.projected ??= [this.project(this.event.before as RecordData), this.project(this.event.after as RecordData)]
    return fields === WHOLE ? [before, after] : [fields.select(before), fields.select(after)]
  }
}

/** The value cached under `key`, computed on first use. */
function once<T> (cache: Map<string, T>, key: string, compute: () => T): T {
  if (cache.has(key)) return cache.get(key) as T
  const value = compute()
  cache.set(key, value)
  return value
}

/** An update of a record that matched the subscription before it. */
function staysIn (event: ChangeEvent, subscription: Subscription): boolean {
  return event.type === 'update' && event.before !== null && matchesFilter(event.before, subscription.filter)
}

/** A connection whose subscriptions ask for different fields gets their union. */
function widen (known: Fields, next: FieldSelection | undefined): Fields {
  if (known === WHOLE || next === undefined) return WHOLE
  return unionSelection(known, next)
}

/**
 * An update that stays in the subscription's filter and changes nothing it is sent: the record,
 * projected (protected fields are no part of it) and cut to the subscription's fields, is as it
 * was. Judged on the projected view, never the stored record: an event for a change only to a
 * protected field would tell the subscriber when that hidden value changed. Without `diffs` (a
 * caller that has no projector) it is sent.
 */
function unchangedForSubscription (event: ChangeEvent, subscription: Subscription, diffs: UpdateDiffs | null): boolean {
  if (diffs === null || !staysIn(event, subscription)) return false
  return diffs.unchanged(subscription.fields ?? WHOLE)
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

/** The delta `event` frame of an update (subscribe {delta: true}); its version is the whole record's. */
export function encodeDelta (event: ChangeEvent, project: Projector, changes: RecordChanges): string {
  const id = event.id ?? String((event.after as RecordData).id)
  const version = eventVersion(event, project)
  return encode(changeDeltaFrame({ resource: event.resource, id, changes, timestamp: event.timestamp, seq: event.seq, version }))
}

/**
 * Works out which connections get the change and sends each one frame. A connection with
 * several matching subscriptions gets the event once; an update reaches subscriptions that
 * matched before or after, with `left: true` only when none of them matches after. Frames are
 * encoded once per (view, field set): plain, `left`, `left` with the id only, each whole or
 * with the fields a connection's subscriptions selected, each whole or as a delta; never per
 * recipient. An update that stays in a subscription's filter without changing one of its
 * selected fields (delta: anything of its view) skips it.
 */
export function fanOutChange (event: ChangeEvent, index: SubscriptionIndex, project: Projector, stats: FanOutStats): number {
  const recipients = new Map<Connection, Recipient>()
  const diffs = new UpdateDiffs(event, project)
  /** Connections with a subscription the update stays in but changes nothing for (skipped). */
  const unchanged = new Map<Connection, Recipient>()
  if (event.type === 'reset') {
    index.forEach((subscription) => {
      subscription.matched++
      recipients.set(subscription.connection, PLAIN_WHOLE)
    })
  } else {
    const type = event.type
    const current = type === 'delete' ? event.before : event.after
    stats.candidates += index.forEachMatch(current, (subscription) => {
      stats.matches++
      if (!subscription.events.has(type)) return
      if (type === 'update' && unchangedForSubscription(event, subscription, diffs)) {
        const prior = unchanged.get(subscription.connection)
        const fields = prior === undefined ? subscription.fields ?? WHOLE : widen(prior.fields, subscription.fields)
        unchanged.set(subscription.connection, { match: 'plain', fields, delta: subscription.delta === true && (prior?.delta ?? true) })
        return
      }
      subscription.matched++
      const known = recipients.get(subscription.connection)
      const fields = known?.match === 'plain' ? widen(known.fields, subscription.fields) : subscription.fields ?? WHOLE
      // An update entering the filter is sent whole: the subscriber does not hold the record.
      const delta = subscription.delta === true && staysIn(event, subscription) && (known?.delta ?? true)
      recipients.set(subscription.connection, plain(fields, delta))
    })
    if (type === 'update' && event.before !== null) {
      stats.candidates += index.forEachMatch(event.before, (subscription) => {
        stats.matches++
        if (!subscription.events.has('update') || matchesFilter(event.after, subscription.filter)) return
        subscription.matched++
        const known = recipients.get(subscription.connection) ?? unchanged.get(subscription.connection)
        if (known?.match === 'plain') {
          // It left while another subscription of the connection stays (changed or not): the one
          // plain frame must let the client see that, so it carries this filter's paths too (a
          // `left` would tell the staying one it left), and is whole unless every subscription
          // involved holds a copy to apply the changes to.
          recipients.set(subscription.connection, { match: 'plain', fields: widen(known.fields, subscription.fields), delta: known.delta && subscription.delta === true })
          return
        }
        // Several subscriptions left: the most restrictive view wins.
        const match = known?.match === 'left-hidden' ? 'left-hidden' : leftMatch(subscription, event.after)
        const fields = known === undefined ? subscription.fields ?? WHOLE : widen(known.fields, subscription.fields)
        recipients.set(subscription.connection, { match, fields, delta: false })
      })
    }
  }
  const frames = new Map<string, string>()
  let sent = 0
  for (const [connection, { match, fields, delta }] of recipients) {
    // A change no dot path can name (null) goes whole, sharing the whole frame's encoding.
    const changes = delta ? diffs.changes(fields) : null
    // 'left-hidden' carries the id only: the field set does not change it.
    const key = match === 'left-hidden' ? match : `${match}\n${keyOf(fields)}${changes === null ? '' : '\ndelta'}`
    let frame = frames.get(key)
    if (frame === undefined) {
      frame = changes === null
        ? encodeEvent(event, project, match !== 'plain', match === 'left-hidden', fields === WHOLE ? undefined : fields)
        : encodeDelta(event, project, changes)
      frames.set(key, frame)
      stats.encodings++
    }
    if (connection.send(frame)) sent++
  }
  stats.deliveries += sent
  return sent
}

/**
 * How one subscription sees one change: as a plain event, as `left`, or not at all. `diffs`
 * (the replay path) lets a delta subscription skip an update that changed nothing of its view.
 */
export function matchForSubscription (event: ChangeEvent, subscription: Subscription, diffs: UpdateDiffs | null = null): Match | null {
  if (event.type === 'reset') return 'plain'
  if (!subscription.events.has(event.type)) return null
  const current = event.type === 'delete' ? event.before : event.after
  if (matchesFilter(current, subscription.filter)) return event.type === 'update' && unchangedForSubscription(event, subscription, diffs) ? null : 'plain'
  if (event.type === 'update' && event.before !== null && matchesFilter(event.before, subscription.filter)) return leftMatch(subscription, event.after)
  return null
}

/**
 * The frame one subscription gets for a replayed change, or null. `deltas: false` (the changes
 * that follow a snapshot, which may not hold the record yet) sends updates whole.
 */
export function encodeForSubscription (event: ChangeEvent, subscription: Subscription, project: Projector, deltas: boolean): string | null {
  const diffs = new UpdateDiffs(event, project)
  const match = matchForSubscription(event, subscription, diffs)
  if (match === null) return null
  if (deltas && match === 'plain' && subscription.delta === true && staysIn(event, subscription)) {
    const changes = diffs.changes(subscription.fields ?? WHOLE)
    if (changes !== null) return encodeDelta(event, project, changes)
  }
  return encodeEvent(event, project, match !== 'plain', match === 'left-hidden', subscription.fields)
}
