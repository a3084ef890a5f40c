import { RealtimeError } from './errors.js'
import { compileClientFilter, matchesFilter, type ClientFilter } from './filter.js'
import { applyChanges, HeldRecords } from './held-records.js'
import type { ChangeType, Filter, RecordData, ServerFrame, SubscriptionEvent } from './types.js'

/** What a subscription needs from the client that owns it. */
export interface SubscriptionHost {
  /** Sends on the current socket now (restores run before queued application requests). */
  requestNow: (message: Record<string, unknown>, onReply?: (frame: ServerFrame) => void) => Promise<ServerFrame>
  /** Every record of `resource` matching `filter`, all pages. */
  listAll: (resource: string, filter: Filter, fields?: readonly string[]) => Promise<RecordData[]>
  /**
   * Resolves after a random delay (the `resyncJitter` option), or at once when the client
   * closes: spreads the re-lists of many clients told to resync at the same moment.
   */
  relistDelay: () => Promise<void>
}

/**
 * How a subscription took an event frame. For a delta (`changes`): 'held' when it holds the
 * record (or buffered the frame), 'unknown' when it is a delta subscription that does not: if
 * no subscription of the client holds it, the copies are not the server's (docs/protocol.md,
 * "Delta updates") and they list again.
 */
export type EventVerdict = 'held' | 'unknown' | 'ignored'

/**
 * One application subscription. It survives reconnects: it remembers the last `seq` and the
 * server's history `epoch` so that re-subscribing replays exactly what was missed; when the
 * server cannot replay (RESYNC_REQUIRED) it re-lists and hands the handler a snapshot.
 */
export class ClientSubscription<T> {
  /** The server's id on the current socket (identical subscriptions share one). */
  serverId: string | null = null
  lastSeq: number | null = null
  epoch: string | null = null
  /** Confirmed on the current socket: events for the resource are ours to look at. */
  active = false
  /** Confirmed once: from then on every reconnect restores it. */
  confirmed = false
  removed = false
  /** Live events held back while a resync lists the resource. */
  private buffer: ServerFrame[] | null = null
  /**
   * Set while resuming on a live socket after a pushed RESYNC_REQUIRED: events that arrive
   * before the server's `subscribed` reply are ignored (not counted into lastSeq), because the
   * replay that follows the reply carries every event after `since`, those included.
   */
  private recovering = false
  /** Counts sockets: a delayed re-list that outlived its socket leaves the work to the restore. */
  private socket = 0
  /** Waiting for `relistDelay` before a re-list, which will cover any notice that comes meanwhile. */
  private relistPending = false

  constructor (
    readonly resource: string,
    readonly filter: Filter,
    readonly events: ChangeType[] | undefined,
    private readonly handler: (event: SubscriptionEvent<T>) => void,
    private readonly withSnapshot: boolean,
    private readonly onHandlerError: (error: unknown) => void,
    /** Only these fields (and id, and the filter's) are sent; absent: whole records. */
    readonly fields?: readonly string[],
    /** Updates arrive as changes, applied to the records held here (it lists them first). */
    readonly delta = false
  ) {
    this.compiled = compileClientFilter(filter)
    this.held = delta ? new HeldRecords() : null
  }

  /** delta: the records this subscription holds. */
  private readonly held: HeldRecords | null

  /** `filter` compiled once: every event frame is matched against it. */
  private readonly compiled: ClientFilter

  /** A throwing handler must not break the frame loop (or, in Node, crash the process). */
  private emit (event: SubscriptionEvent<T>): void {
    try {
      this.handler(event)
    } catch (error) {
      this.onHandlerError(error)
    }
  }

  /** The socket dropped: nothing is confirmed on the next one until it says so. */
  detach (): void {
    this.active = false
    this.serverId = null
    this.socket++
  }

  /** Resumes on the current socket after the server reported lost events. */
  async recover (host: SubscriptionHost): Promise<void> {
    if (this.relistPending) return // the listing after the wait covers this notice too
    this.recovering = true
    try {
      await this.start(host, true)
    } finally {
      this.recovering = false
    }
  }

  /**
   * (Re)subscribes on the current socket, resuming from `lastSeq` when it can; `spread`: a
   * re-list it cannot avoid waits `host.relistDelay()` first (the server told every client at once).
   */
  async start (host: SubscriptionHost, spread = false): Promise<void> {
    // delta: the records must be held before a change to one of them arrives.
    if (!this.confirmed && (this.withSnapshot || this.delta)) {
      await this.resync(host)
      return
    }
    if (this.lastSeq === null || this.epoch === null) {
      await this.subscribe(host, {})
      return
    }
    try {
      await this.subscribe(host, { since: this.lastSeq, epoch: this.epoch })
    } catch (error) {
      if (!(error instanceof RealtimeError) || error.code !== 'RESYNC_REQUIRED') throw error
      if (spread) {
        const socket = this.socket
        this.relistPending = true
        try {
          await host.relistDelay()
        } finally {
          this.relistPending = false
        }
        // Events meanwhile are ignored (`recovering`): the listing after the wait holds them.
        // The socket dropped meanwhile (or the client closed): the reconnect's restore re-lists.
        if (socket !== this.socket || this.removed) return
      }
      await this.resync(host)
    }
  }

  private async subscribe (host: SubscriptionHost, resume: { since?: number, epoch?: string }): Promise<void> {
    const message: Record<string, unknown> = { type: 'subscribe', resource: this.resource, filter: this.filter, ...resume }
    if (this.events !== undefined) message.events = this.events
    if (this.fields !== undefined) message.fields = this.fields
    if (this.delta) message.delta = true
    await host.requestNow(message, (frame) => {
      this.serverId = typeof frame.subscriptionId === 'string' ? frame.subscriptionId : null
      this.epoch = typeof frame.epoch === 'string' ? frame.epoch : null
      // Resuming: the replay that follows advances lastSeq. Fresh: start from the server's now.
      if (resume.since === undefined) this.lastSeq = typeof frame.seq === 'number' ? frame.seq : null
      this.active = !this.removed
      this.recovering = false
    })
  }

  /** Subscribe fresh, then list: a change racing the listing is buffered, not lost. */
  private async resync (host: SubscriptionHost): Promise<void> {
    this.lastSeq = null
    this.epoch = null
    this.buffer = []
    try {
      await this.subscribe(host, {})
      const records = await host.listAll(this.resource, this.filter, this.fields) as T[]
      const buffered = this.buffer
      this.buffer = null
      if (this.removed) return
      this.held?.replaceAll(records as RecordData[])
      this.emit({ event: 'snapshot', data: records })
      const known = new Set(records.map((r) => (r as { id?: unknown }).id))
      for (const frame of buffered) {
        // The listing already holds what these inserts created.
        if (frame.event === 'insert' && known.has((frame.data as { id?: unknown } | undefined)?.id)) continue
        this.deliver(frame, true)
      }
    } finally {
      this.buffer = null
    }
  }

  /**
   * A delta arrived for a record no subscription of the client holds: the held copies are not
   * the server's, so list again (a snapshot), as after RESYNC_REQUIRED.
   */
  async relist (host: SubscriptionHost): Promise<void> {
    if (this.buffer !== null || this.relistPending || this.removed) return
    await this.resync(host)
  }

  /** Looks at an event frame of this resource; drops replays already seen. */
  handleEvent (frame: ServerFrame): EventVerdict {
    if (!this.active || this.removed || this.recovering) return 'ignored'
    const seq = typeof frame.seq === 'number' ? frame.seq : null
    if (seq !== null) {
      if (this.lastSeq !== null && seq <= this.lastSeq) return 'ignored'
      // Safe even for events meant for a sibling subscription: events reach a socket in seq
      // order, and any earlier one this subscription matched was delivered while it was active.
      this.lastSeq = seq
    }
    if (this.buffer !== null) {
      this.buffer.push(frame)
      return 'held'
    }
    return this.deliver(frame)
  }

  /** `fromBuffer`: replayed after a listing, which may already be newer than the frame. */
  private deliver (frame: ServerFrame, fromBuffer = false): EventVerdict {
    const event = frame.event
    const timestamp = typeof frame.timestamp === 'string' ? frame.timestamp : ''
    const seq = typeof frame.seq === 'number' ? frame.seq : 0
    if (event === 'reset') {
      this.held?.clear()
      this.emit({ event: 'reset', seq, timestamp })
      return 'ignored'
    }
    if (event !== 'insert' && event !== 'update' && event !== 'delete') return 'ignored'
    if (this.held !== null) return this.deliverHeld(this.held, frame, event, fromBuffer)
    // A delta is for the client's delta subscriptions, which hold the record.
    if (frame.changes !== undefined) return 'ignored'
    if (this.events !== undefined && !this.events.includes(event)) return 'ignored'
    const matches = matchesFilter(frame.data, this.compiled)
    const left = frame.left === true || (!matches && event === 'update')
    // Another subscription's insert/delete is not ours; an update that does not match (any
    // more) is, as `left`, so a view can drop a record that moved out of it.
    if (!matches && event !== 'update') return 'ignored'
    this.emitChange(frame, event, frame.data as RecordData, left)
    return 'ignored'
  }

  private emitChange (frame: ServerFrame, event: ChangeType, data: RecordData, left: boolean): void {
    if (this.events !== undefined && !this.events.includes(event)) return
    const out: SubscriptionEvent<T> = { event, data: data as T, seq: typeof frame.seq === 'number' ? frame.seq : 0, timestamp: typeof frame.timestamp === 'string' ? frame.timestamp : '' }
    if (left) out.left = true
    if (typeof frame.version === 'string') out.version = frame.version
    this.emit(out)
  }

  /**
   * delta: keeps the held records in step with every frame (whatever `events` lets through to
   * the handler) and hands the handler whole records. A record is held while it matches.
   */
  private deliverHeld (held: HeldRecords, frame: ServerFrame, event: ChangeType, fromBuffer: boolean): EventVerdict {
    let data = frame.data as RecordData | undefined
    if (frame.changes !== undefined) {
      const current = held.get(String(frame.id))
      // Buffered behind a listing: the listing is newer, and a record it lacks went meanwhile.
      if (current === undefined) return fromBuffer ? 'ignored' : 'unknown'
      const applied = applyChanges(current, frame.changes)
      if (applied === null) return 'unknown'
      data = applied
    }
    if (data === undefined) return 'ignored'
    const id = String(data.id)
    const matches = matchesFilter(data, this.compiled) && frame.left !== true
    if (event === 'update' && matches) {
      held.put(data)
      this.emitChange(frame, event, data, false)
    } else if (event === 'update') {
      if (held.remove(id)) this.emitChange(frame, event, data, true)
    } else if (event === 'insert' && matches) {
      held.put(data)
      this.emitChange(frame, event, data, false)
    } else if (event === 'delete' && (held.remove(id) || matches)) {
      this.emitChange(frame, event, data, false)
    }
    return frame.changes !== undefined ? 'held' : 'ignored'
  }
}
