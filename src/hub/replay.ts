import type { CompiledFilter } from '../access/filter.js'
import { ErrorCodes, ProtocolError } from '../errors.js'
import type { ResolvedResource } from '../access/resource.js'
import { listPage } from '../records/list.js'
import { versionsOf } from '../records/version.js'
import type { RecordData } from '../types.js'
import { ALONE_SEQ_BASE, type ChangeStream } from './change-stream.js'
import type { ChangeEvent } from './history.js'
import { snapshotQueue } from './snapshot-queue.js'

/** A resource's log beyond this instance's memory (the cluster's, read from the bus). */
export interface LogRead {
  readonly epoch: string
  readonly lastSeq: number
  /** Entries after the asked seq, oldest first; null when the log no longer reaches back. */
  readonly entries: ChangeEvent[] | null
}

/**
 * Where `since` looks when this instance's history does not reach back far enough. A single
 * instance has none; clustered, the coordinator reads the bus log.
 */
export interface HistorySource {
  readLog (resource: string, afterSeq: number): Promise<LogRead>
  /**
   * Whether a `since` sent without its epoch can only mean this instance's current numbering of
   * `resource` (clustered, the numbering changes with Redis outages and data loss; the same seq
   * then names different changes). A single instance has one numbering for its lifetime.
   */
  trustsSeqWithoutEpoch (resource: string): Promise<boolean>
}

/** What `subscribe` adds to its reply and replays after it. */
export interface ReplayPlan {
  /** Events to send after the `subscribed` reply, oldest first (before any live event). */
  missed: ChangeEvent[]
  /** Extra fields of the `subscribed` reply (the snapshot, when asked for). */
  reply: Record<string, unknown>
}

/**
 * The synchronous last step: it must run right before the subscription is added, with no await
 * in between, so the replay ends exactly where live delivery starts.
 */
export type FinishReplay = () => ReplayPlan

export interface ReplayRequest {
  since?: number
  epoch?: string
  snapshot?: boolean
}

/** How long a resuming client waits for this instance to catch up with the seq it brings, ms. */
const CATCH_UP_WAIT = 2000

function resync (stream: ChangeStream, resource: string, message: string): ProtocolError {
  return new ProtocolError(ErrorCodes.RESYNC_REQUIRED, message, { epoch: stream.epochOf(resource), seq: stream.lastSeq(resource) })
}

/**
 * The asynchronous part of `subscribe {since | snapshot}`: reads what this instance cannot
 * answer from memory (the cluster log, the records), then returns the finishing step.
 */
export async function prepareReplay (
  stream: ChangeStream, source: HistorySource | null, resource: ResolvedResource, filter: CompiledFilter, request: ReplayRequest, listLimit: number
): Promise<FinishReplay> {
  const name = resource.name
  if (request.snapshot === true) {
    if (request.since !== undefined) throw new ProtocolError(ErrorCodes.INVALID_REQUEST, 'give either since or snapshot, not both', { field: '/snapshot' })
    return await prepareSnapshot(stream, resource, filter, listLimit)
  }
  const since = request.since
  if (since === undefined) return () => ({ missed: [], reply: {} })
  const epoch = stream.epochOf(name)
  if (request.epoch !== undefined && request.epoch !== epoch) throw resync(stream, name, 'History epoch changed; list again')
  // A bare seq is read in this instance's numbering: only safe while that cannot be ambiguous.
  if (request.epoch === undefined && source !== null && !(await source.trustsSeqWithoutEpoch(name))) {
    throw resync(stream, name, 'The numbering changed, so a since without its epoch is ambiguous; list again (and send epoch with since)')
  }
  // A single instance never reached that seq: it restarted (and counts again), or the seq is not its own.
  if (source === null && since > stream.lastSeq(name)) throw resync(stream, name, 'That seq is beyond this server\'s last one (it restarted, or the seq is not from this server); list again')
  // A seq an instance gave a change while cut off (see ALONE_SEQ_BASE): no other numbering has it.
  if (since > stream.lastSeq(name) && since > ALONE_SEQ_BASE) throw resync(stream, name, 'That seq was given while an instance was cut off from the cluster; list again')
  // Another instance may already have shown the client seqs this one has not delivered yet.
  if (source !== null && since > stream.lastSeq(name)) await waitForSeq(stream, name, since)
  const sameEpoch = (): void => { if (stream.epochOf(name) !== epoch) throw resync(stream, name, 'History epoch changed; list again') }
  if (source === null || stream.historySince(name, since) !== null) {
    return () => {
      sameEpoch()
      const missed = stream.historySince(name, since)
      if (missed === null) throw resync(stream, name, 'Events since that seq are no longer in history; list again')
      return { missed, reply: {} }
    }
  }
  // This instance's memory does not reach back far enough: the cluster log may.
  const read = await source.readLog(name, since).catch(() => null)
  return () => {
    sameEpoch()
    if (read === null || read.entries === null || read.epoch !== stream.epochOf(name)) throw resync(stream, name, 'Events since that seq are no longer in history; list again')
    const delivered = stream.lastSeq(name)
    // Log entries this instance has not delivered yet arrive live; later local ones come from memory.
    const fromLog = read.entries.filter((event) => event.seq <= delivered)
    if (delivered <= read.lastSeq) return { missed: fromLog, reply: {} }
    const local = stream.historySince(name, read.lastSeq)
    if (local === null) throw resync(stream, name, 'Events since that seq are no longer in history; list again')
    return { missed: [...fromLog, ...local], reply: {} }
  }
}

/**
 * The records matching the subscription, valid at `snapshot.seq`: every change up to that seq
 * is in them; changes after it (some of which the read may already show) are replayed as
 * events, so applying them in order gives the current state with nothing lost.
 */
async function prepareSnapshot (stream: ChangeStream, resource: ResolvedResource, filter: CompiledFilter, limit: number): Promise<FinishReplay> {
  const name = resource.name
  // In turn (snapshot-queue.ts): the position is read when this listing's turn comes.
  const { epoch, seq, page } = await snapshotQueue(stream).run(async () => {
    const at = { epoch: stream.epochOf(name), seq: stream.lastSeq(name) }
    return { ...at, page: await listPage(resource.resource, filter, { limit, cursor: null }) }
  })
  return () => {
    const missed = stream.epochOf(name) === epoch ? stream.historySince(name, seq) : null
    if (missed === null) throw resync(stream, name, 'Too many changes during the snapshot; subscribe again')
    const data = page.records.map((record: RecordData) => resource.project(record))
    return { missed, reply: { snapshot: { seq, epoch, data, versions: versionsOf(resource.project, page.records), cursor: page.cursor } } }
  }
}

/** Resolves once `resource` has reached `seq` here; RESYNC_REQUIRED if it does not in time. */
async function waitForSeq (stream: ChangeStream, resource: string, seq: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const onChange = (event: ChangeEvent): void => {
      if (event.resource === resource && event.seq >= seq) done(null)
    }
    const timer = setTimeout(() => { done(resync(stream, resource, 'That seq is ahead of this server\'s history; list again')) }, CATCH_UP_WAIT)
    const done = (error: ProtocolError | null): void => {
      clearTimeout(timer)
      stream.signals.off('change', onChange)
      if (error === null) resolve()
      else reject(error)
    }
    stream.signals.on('change', onChange)
  })
}
