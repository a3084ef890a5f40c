import { randomUUID } from 'node:crypto'
import type { ChangeType, RecordData } from '../types.js'
import { Signals } from '../util/signals.js'
import { ResourceHistory, type ChangeEvent } from './history.js'
import type { LocalHub } from './local-hub.js'

/**
 * Where an instance cut off from the cluster numbers the changes it delivers alone: far above
 * any seq the cluster will reach (2^40; still exact as a JSON number), so a position taken from
 * them can never be mistaken for the cluster's position of another change: everywhere else it
 * is beyond the head and refused.
 */
export const ALONE_SEQ_BASE = 2 ** 40

/** A change as the bridge reports it, before it is numbered. */
export interface RawChange {
  resource: string
  type: ChangeType | 'reset'
  id: string | null
  before: RecordData | null
  after: RecordData | null
}

export interface ChangeStreamSignals {
  /** A numbered change was recorded and delivered (in seq order per resource). */
  change: [ChangeEvent]
}

/**
 * Where changes get their place: per-resource seq numbers under an `epoch`, and a bounded
 * history for `subscribe {since}`. Alone, it numbers changes itself (`publish`); clustered, the
 * coordinator numbers them on the bus and hands them over in seq order (`accept`). Either way
 * it is the only path from a change to the local hub's fan-out.
 */
export class ChangeStream {
  /** The numbering of every resource that has none of its own (see `epochOf`). */
  private sharedEpoch: string = randomUUID()
  /** The last numbering taken, for display (`epoch`). */
  private latestEpoch: string = this.sharedEpoch
  /**
   * Resources whose numbering was adopted one by one (clustered: each resource's log has its own
   * epoch on a Redis Cluster, where every resource's log lives on its own shard).
   */
  private readonly resourceEpochs = new Map<string, string>()
  private readonly seqs = new Map<string, number>()
  private readonly histories = new Map<string, ResourceHistory>()
  readonly signals: Signals<ChangeStreamSignals>

  constructor (private readonly hub: LocalHub, resources: Iterable<string>, private readonly historySize: number) {
    for (const name of resources) {
      this.seqs.set(name, 0)
      this.histories.set(name, new ResourceHistory(historySize))
    }
    this.signals = new Signals((error) => {
      hub.counters.errors++
      hub.log.error({ err: error }, 'realtime: a change listener threw')
    })
  }

  /**
   * The numbering taken last, for display (info, inspector). Alone, or on one Redis, it is every
   * resource's; replies name the resource's own (`epochOf`).
   */
  get epoch (): string {
    return this.latestEpoch
  }

  /** Identifies `resource`'s numbering: a `since` from another epoch cannot be resumed. */
  epochOf (resource: string): string {
    return this.resourceEpochs.get(resource) ?? this.sharedEpoch
  }

  /** Puts every resource under one new numbering (a node-local one while cut off). */
  setEpoch (epoch: string): void {
    this.resourceEpochs.clear()
    this.sharedEpoch = epoch
    this.latestEpoch = epoch
  }

  /** Adopts the cluster's numbering of one resource. */
  setResourceEpoch (resource: string, epoch: string): void {
    this.resourceEpochs.set(resource, epoch)
    this.latestEpoch = epoch
  }

  lastSeq (resource: string): number {
    return this.seqs.get(resource) ?? 0
  }

  /** Events after `seq` still in history (oldest first), or null when there is a gap. */
  historySince (resource: string, seq: number): ChangeEvent[] | null {
    return this.histories.get(resource)?.since(seq, this.lastSeq(resource)) ?? null
  }

  /** Numbers a change here (single instance), records it and delivers it. */
  publish (raw: RawChange): ChangeEvent {
    const event: ChangeEvent = { ...raw, seq: this.lastSeq(raw.resource) + 1, timestamp: new Date().toISOString() }
    this.accept(event)
    return event
  }

  /** Records and delivers a change that is already numbered (called in seq order). */
  accept (event: ChangeEvent): void {
    this.seqs.set(event.resource, event.seq)
    this.histories.get(event.resource)?.push(event)
    this.hub.deliver(event)
    this.signals.emit('change', event)
  }

  /** Restarts a resource's numbering at `seq` with empty history (after an epoch change). */
  reset (resource: string, seq: number): void {
    if (!this.seqs.has(resource)) return
    this.seqs.set(resource, seq)
    this.histories.set(resource, new ResourceHistory(this.historySize))
  }
}
