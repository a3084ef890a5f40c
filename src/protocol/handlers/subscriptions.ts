import { randomUUID } from 'node:crypto'
import { normalizeFilter, sameFilter } from '../../access/filter.js'
import { fieldSelection, parseFields, type FieldSelection } from '../../access/field-selection.js'
import { requireResource } from '../../access/access.js'
import { protectedPathOf } from '../../access/protected-paths.js'
import { effectiveSubscriptionFilter } from '../../access/subscription-filter.js'
import { ErrorCodes, ProtocolError } from '../../errors.js'
import { encodeForSubscription } from '../../hub/fanout.js'
import type { Subscription } from '../../connection/connection.js'
import type { ResolvedResource } from '../../access/resource.js'
import type { ChangeType, Filter } from '../../types.js'
import { prepareReplay } from '../../hub/replay.js'
import type { RequestContext } from '../context.js'
import type { SubscribeMessage, UnsubscribeMessage } from '../../wire/client-schemas.js'
import { subscribedFrame, unsubscribedFrame, type SubscriptionSnapshot } from '../../wire/frames.js'

function sameEvents (a: ReadonlySet<ChangeType>, b: ReadonlySet<ChangeType>): boolean {
  return a.size === b.size && [...a].every((e) => b.has(e))
}

/** Longest dot path a client filter may name: the same bound as a `fields` path (client-schemas.ts). */
export const MAX_FILTER_PATH_LENGTH = 256
/**
 * Largest filter, as JSON (UTF-8 bytes): a subscription keeps its filter for its lifetime, so
 * without a cap one socket could hold hundreds of MB in `$in` strings (100 subscriptions × 100
 * values × 9 KB).
 */
export const MAX_FILTER_BYTES = 16 * 1024

export function parseFilter (input: unknown): Filter {
  const normalized = normalizeFilter(input)
  if (!('error' in normalized) && Buffer.byteLength(JSON.stringify(normalized.filter)) > MAX_FILTER_BYTES) {
    throw new ProtocolError(ErrorCodes.INVALID_REQUEST, `filter is larger than ${MAX_FILTER_BYTES} bytes (as JSON)`, { field: '/filter' })
  }
  if ('error' in normalized) throw new ProtocolError(ErrorCodes.INVALID_REQUEST, normalized.error, { field: normalized.field })
  for (const path of Object.keys(normalized.filter)) {
    // The path itself is not echoed whole: it may be most of a frame.
    if (path.length > MAX_FILTER_PATH_LENGTH) {
      throw new ProtocolError(ErrorCodes.INVALID_REQUEST, `filter path "${path.slice(0, 32)}…" is longer than ${MAX_FILTER_PATH_LENGTH} characters`, { field: '/filter' })
    }
  }
  return normalized.filter
}

/**
 * A client filter for `list`/`subscribe` on `resource`. Filtering on a protected path (or inside
 * one) is refused: whether a record matches would reveal the hidden value (`{password: guess}`).
 * Guards' forced filters are the server's own and may use protected fields.
 */
export function parseClientFilter (input: unknown, resource: ResolvedResource): Filter {
  const filter = parseFilter(input)
  for (const path of Object.keys(filter)) {
    if (protectedPathOf(path, resource.protectedNames) !== null) {
      throw new ProtocolError(ErrorCodes.FORBIDDEN, `Filtering on protected field "${path}" is not allowed`, { field: `/filter/${path}` })
    }
  }
  return filter
}

/**
 * Event sets are read-only once made, so subscriptions share one Set per combination (at most
 * seven) instead of carrying their own: this is per-subscription memory at 10k sockets.
 */
const EVENT_SETS = new Map<string, ReadonlySet<ChangeType>>()
function sharedEventSet (events: ChangeType[]): ReadonlySet<ChangeType> {
  const key = [...new Set(events)].sort().join(',')
  let set = EVENT_SETS.get(key)
  if (set === undefined) EVENT_SETS.set(key, set = new Set(events))
  return set
}

/**
 * `fields` of a `get`, `list` or `subscribe` (undefined: whole records). `alsoSent`: paths sent
 * besides the asked ones (a subscription's filter paths, which the client routes events by).
 */
export function parseFieldSelection (input: unknown, alsoSent: readonly string[] = []): FieldSelection | undefined {
  if (input === undefined) return undefined
  const parsed = parseFields(input)
  if ('error' in parsed) throw new ProtocolError(ErrorCodes.INVALID_REQUEST, parsed.error, { field: '/fields' })
  return fieldSelection([...parsed.paths, ...alsoSent])
}

export async function handleSubscribe (ctx: RequestContext, message: SubscribeMessage): Promise<void> {
  const resource = requireResource(ctx.options, message.resource)
  const clientFilter = parseClientFilter(message.filter, resource)
  const fields = parseFieldSelection(message.fields, Object.keys(clientFilter))
  // Roles, then both guards' forced filters: a subscription never shows what `list` would not.
  const filter = await effectiveSubscriptionFilter(resource, ctx.connection.user, clientFilter, ctx.log)
  const events = sharedEventSet((message.events ?? [...resource.events]).filter((e) => resource.events.has(e)))
  if (events.size === 0) {
    throw new ProtocolError(ErrorCodes.INVALID_REQUEST, `None of the requested events is broadcast for "${resource.name}" (it broadcasts: ${[...resource.events].join(', ')})`, { field: '/events' })
  }
  const delta = message.delta === true
  // Deltas apply to records the subscriber holds: one inserted later must reach it whole first.
  if (delta && !events.has('insert')) {
    throw new ProtocolError(ErrorCodes.INVALID_REQUEST, `delta needs insert events (a record inserted later would otherwise first reach you as changes to a record you never received)${resource.events.has('insert') ? '' : `; "${resource.name}" does not broadcast inserts`}`, { field: '/delta' })
  }

  // `since` / `snapshot` (src/hub/replay.ts): the async reads happen here; the finishing
  // step is synchronous and runs right before the subscription is added (see below).
  const finishReplay = await prepareReplay(ctx.services.stream, ctx.services.history, resource, filter, message, ctx.options.maxListLimit)
  const { missed, reply: replayReply } = finishReplay()

  const connection = ctx.connection
  // The socket may have closed while the guards or the replay read were awaited: adding the
  // subscription now would leave it in the index for good.
  if (connection.closed) return
  let subscription = [...connection.subscriptions.values()].find((s) =>
    s.resource === resource.name && sameFilter(s.filter.filter, filter.filter) && s.filter.impossible === filter.impossible && sameEvents(s.events, events) &&
    s.fields?.key === fields?.key && (s.delta === true) === delta)
  if (subscription === undefined) {
    if (connection.subscriptions.size >= ctx.options.maxSubscriptionsPerConnection) {
      throw new ProtocolError(ErrorCodes.LIMIT_EXCEEDED, `A connection may hold at most ${ctx.options.maxSubscriptionsPerConnection} subscriptions`)
    }
    const made: { -readonly [K in keyof Subscription]: Subscription[K] } = { id: randomUUID(), connection, resource: resource.name, clientFilter, filter, events, matched: 0 }
    // Set after, not spread in: a literal with spreads keeps room for the absent ones in every
    // subscription (per-subscription memory at 10k sockets).
    if (fields !== undefined) made.fields = fields
    if (delta) made.delta = delta
    subscription = made
    // From here to the end everything is synchronous: no change can slip between the replay
    // and the live stream, and none can arrive twice.
    ctx.hub.addSubscription(subscription)
  }
  ctx.reply(subscribedFrame({
    resource: resource.name,
    filter: filter.filter,
    // Truthful: a client filter that contradicts a forced one (tenant t2 under forced t1) is a
    // subscription that will receive nothing, and the reply says so instead of implying t1.
    matchesNothing: filter.impossible,
    events: [...events],
    subscriptionId: subscription.id,
    seq: ctx.services.stream.lastSeq(resource.name),
    epoch: ctx.services.stream.epochOf(resource.name),
    snapshot: selectSnapshot(replayReply.snapshot as SubscriptionSnapshot | undefined, fields)
  }))
  // After `since` the client holds its copy as of that seq, so replayed updates may be deltas;
  // after a snapshot (one page, maybe read after some of these changes) they are sent whole.
  const deltas = message.snapshot !== true
  for (const event of missed) {
    const frame = encodeForSubscription(event, subscription, resource.project, deltas)
    if (frame !== null) connection.send(frame)
  }
}

/** The snapshot's records with only the selected fields. */
function selectSnapshot (snapshot: SubscriptionSnapshot | undefined, fields: FieldSelection | undefined): SubscriptionSnapshot | undefined {
  if (snapshot === undefined || fields === undefined) return snapshot
  return { ...snapshot, data: snapshot.data.map((record) => fields.select(record as Record<string, unknown>)) }
}

export function handleUnsubscribe (ctx: RequestContext, message: UnsubscribeMessage): void {
  const connection = ctx.connection
  let removed: Subscription[]
  if (message.subscriptionId !== undefined) {
    const subscription = connection.subscriptions.get(message.subscriptionId)
    removed = subscription === undefined ? [] : [subscription]
  } else if (message.resource !== undefined) {
    const filter = message.filter === undefined ? null : parseFilter(message.filter)
    removed = [...connection.subscriptions.values()].filter((s) =>
      s.resource === message.resource && (filter === null || sameFilter(s.clientFilter, filter)))
  } else {
    throw new ProtocolError(ErrorCodes.INVALID_REQUEST, 'unsubscribe needs a subscriptionId or a resource', { field: '/resource' })
  }
  for (const subscription of removed) ctx.hub.removeSubscription(subscription)
  ctx.reply(unsubscribedFrame(removed.map((s) => s.id), {
    resource: message.resource ?? removed[0]?.resource,
    filter: message.filter,
    subscriptionId: message.subscriptionId
  }))
}
