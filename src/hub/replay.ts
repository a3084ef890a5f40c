import type { CompiledFilter } from '../access/filter.js'
import { ErrorCodes, ProtocolError } from '../errors.js'
import type { ChangeEvent } from '../hub/history.js'
import type { Hub } from '../hub/hub.js'
import type { ResolvedResource } from '../options.js'
import { listPage } from '../records/list.js'
import type { RecordData } from '../types.js'
import { changeTopic, toEvent } from './coordinator.js'
import { coordinatorOf } from './registry.js'

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

function resync (hub: Hub, resource: string, message: string): ProtocolError {
  return new ProtocolError(ErrorCodes.RESYNC_REQUIRED, message, { epoch: hub.epoch, seq: hub.lastSeq(resource) })
}

/**
 * The asynchronous part of `subscribe {since | snapshot}`: reads what this instance cannot
 * answer from memory (the cluster log, the records), then returns the finishing step.
 */
export async function prepareReplay (hub: Hub, resource: ResolvedResource, filter: CompiledFilter, request: ReplayRequest, listLimit: number): Promise<FinishReplay> {
  const name = resource.name
  if (request.snapshot === true) {
    if (request.since !== undefined) throw new ProtocolError(ErrorCodes.INVALID_REQUEST, 'give either since or snapshot, not both', { field: '/snapshot' })
    return await prepareSnapshot(hub, resource, filter, listLimit)
  }
  const since = request.since
  if (since === undefined) return () => ({ missed: [], reply: {} })
  const epoch = hub.epoch
  if (request.epoch !== undefined && request.epoch !== epoch) throw resync(hub, name, 'History epoch changed; list again')
  const coordinator = coordinatorOf(hub)
  // Another instance may already have shown the client seqs this one has not delivered yet.
  if (coordinator !== undefined && since > hub.lastSeq(name)) await waitForSeq(hub, name, since)
  const sameEpoch = (): void => { if (hub.epoch !== epoch) throw resync(hub, name, 'History epoch changed; list again') }
  if (coordinator === undefined || hub.historySince(name, since) !== null) {
    return () => {
      sameEpoch()
      const missed = hub.historySince(name, since)
      if (missed === null) throw resync(hub, name, 'Events since that seq are no longer in history; list again')
      return { missed, reply: {} }
    }
  }
  // This instance's memory does not reach back far enough: the cluster log may.
  const read = await coordinator.bus.readLog(changeTopic(name), since).catch(() => null)
  return () => {
    sameEpoch()
    if (read === null || read.entries === null || read.epoch !== hub.epoch) throw resync(hub, name, 'Events since that seq are no longer in history; list again')
    const delivered = hub.lastSeq(name)
    // Log entries this instance has not delivered yet arrive live; later local ones come from memory.
    const fromLog = read.entries.map(toEvent).filter((event) => event.seq <= delivered)
    if (delivered <= read.lastSeq) return { missed: fromLog, reply: {} }
    const local = hub.historySince(name, read.lastSeq)
    if (local === null) throw resync(hub, name, 'Events since that seq are no longer in history; list again')
    return { missed: [...fromLog, ...local], reply: {} }
  }
}

/**
 * The records matching the subscription, valid at `snapshot.seq`: every change up to that seq
 * is in them; changes after it (some of which the read may already show) are replayed as
 * events, so applying them in order gives the current state with nothing lost.
 */
async function prepareSnapshot (hub: Hub, resource: ResolvedResource, filter: CompiledFilter, limit: number): Promise<FinishReplay> {
  const name = resource.name
  const epoch = hub.epoch
  const seq = hub.lastSeq(name)
  const page = await listPage(resource.resource, filter, { limit, cursor: null })
  return () => {
    const missed = hub.epoch === epoch ? hub.historySince(name, seq) : null
    if (missed === null) throw resync(hub, name, 'Too many changes during the snapshot; subscribe again')
    return {
      missed,
      reply: { snapshot: { seq, epoch, data: page.records.map((record: RecordData) => resource.project(record)), cursor: page.cursor } }
    }
  }
}

/** Resolves once `resource` has reached `seq` here; RESYNC_REQUIRED if it does not in time. */
async function waitForSeq (hub: Hub, resource: string, seq: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const onChange = (event: ChangeEvent): void => {
      if (event.resource === resource && event.seq >= seq) done(null)
    }
    const timer = setTimeout(() => { done(resync(hub, resource, 'That seq is ahead of this server\'s history; list again')) }, CATCH_UP_WAIT)
    const done = (error: ProtocolError | null): void => {
      clearTimeout(timer)
      hub.removeListener('change', onChange)
      if (error === null) resolve()
      else reject(error)
    }
    hub.on('change', onChange)
  })
}
