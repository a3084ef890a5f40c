import { RealtimeError } from './errors.js'
import { compileClientFilter, matchesFilter, type ClientFilter } from './filter.js'
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
    readonly fields?: readonly string[]
  ) {
    this.compiled = compileClientFilter(filter)
  }

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
    if (!this.confirmed && this.withSnapshot) {
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
      this.emit({ event: 'snapshot', data: records })
      const known = new Set(records.map((r) => (r as { id?: unknown }).id))
      for (const frame of buffered) {
        // The listing already holds what these inserts created.
        if (frame.event === 'insert' && known.has((frame.data as { id?: unknown } | undefined)?.id)) continue
        this.deliver(frame)
      }
    } finally {
      this.buffer = null
    }
  }

  /** Looks at an event frame of this resource; drops replays already seen. */
  handleEvent (frame: ServerFrame): void {
    if (!this.active || this.removed || this.recovering) return
    const seq = typeof frame.seq === 'number' ? frame.seq : null
    if (seq !== null) {
      if (this.lastSeq !== null && seq <= this.lastSeq) return
      // Safe even for events meant for a sibling subscription: events reach a socket in seq
      // order, and any earlier one this subscription matched was delivered while it was active.
      this.lastSeq = seq
    }
    if (this.buffer !== null) this.buffer.push(frame)
    else this.deliver(frame)
  }

  private deliver (frame: ServerFrame): void {
    const event = frame.event
    const timestamp = typeof frame.timestamp === 'string' ? frame.timestamp : ''
    const seq = typeof frame.seq === 'number' ? frame.seq : 0
    if (event === 'reset') {
      this.emit({ event: 'reset', seq, timestamp })
      return
    }
    if (event !== 'insert' && event !== 'update' && event !== 'delete') return
    if (this.events !== undefined && !this.events.includes(event)) return
    const matches = matchesFilter(frame.data, this.compiled)
    const left = frame.left === true || (!matches && event === 'update')
    // Another subscription's insert/delete is not ours; an update that does not match (any
    // more) is, as `left`, so a view can drop a record that moved out of it.
    if (!matches && event !== 'update') return
    const out: SubscriptionEvent<T> = { event, data: frame.data as T, seq, timestamp }
    if (left) out.left = true
    if (typeof frame.version === 'string') out.version = frame.version
    this.emit(out)
  }
}
