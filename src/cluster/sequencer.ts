import type { ChangeEvent } from '../hub/history.js'

interface Stream {
  /** Next seq to deliver; null until the coordinator has read the log head. */
  next: number | null
  readonly pending: Map<number, ChangeEvent>
  timer: NodeJS.Timeout | null
}

/**
 * Puts cluster-numbered changes back in seq order per resource. A node's own changes come back
 * as the reply of its append while other nodes' arrive over pub/sub, so the two can cross;
 * this buffer delivers seq n only after n-1, drops anything already delivered (duplicates from
 * a catch-up read), and reports a hole that stays open for `gapTimeout` so the coordinator can
 * fill it from the log.
 */
export class Sequencer {
  private readonly streams = new Map<string, Stream>()

  constructor (
    private readonly deliver: (event: ChangeEvent) => void,
    private readonly onGap: (resource: string, missingFrom: number) => void,
    private readonly gapTimeout: number
  ) {}

  /** Next seq expected for `resource` (null before the first reset). */
  expected (resource: string): number | null {
    return this.streams.get(resource)?.next ?? null
  }

  /** Continues numbering after `lastSeq`: older buffered events are dropped, newer ones kept. */
  reset (resource: string, lastSeq: number): void {
    const stream = this.stream(resource)
    stream.next = lastSeq + 1
    for (const seq of stream.pending.keys()) if (seq <= lastSeq) stream.pending.delete(seq)
    this.drain(resource, stream)
  }

  offer (event: ChangeEvent): void {
    const stream = this.stream(event.resource)
    if (stream.next !== null && event.seq < stream.next) return
    stream.pending.set(event.seq, event)
    this.drain(event.resource, stream)
  }

  /** Smallest buffered seq (waiting behind a hole), or null. */
  firstPending (resource: string): number | null {
    const stream = this.streams.get(resource)
    return stream === undefined || stream.pending.size === 0 ? null : Math.min(...stream.pending.keys())
  }

  close (): void {
    for (const stream of this.streams.values()) this.clearTimer(stream)
    this.streams.clear()
  }

  private drain (resource: string, stream: Stream): void {
    if (stream.next === null) return
    let event = stream.pending.get(stream.next)
    while (event !== undefined) {
      stream.pending.delete(stream.next)
      stream.next++
      this.deliver(event)
      event = stream.pending.get(stream.next)
    }
    if (stream.pending.size === 0) {
      this.clearTimer(stream)
    } else if (stream.timer === null) {
      const missing = stream.next
      stream.timer = setTimeout(() => {
        stream.timer = null
        if (stream.next === missing && stream.pending.size > 0) this.onGap(resource, missing)
        else this.drain(resource, stream)
      }, this.gapTimeout)
    }
  }

  private clearTimer (stream: Stream): void {
    if (stream.timer !== null) clearTimeout(stream.timer)
    stream.timer = null
  }

  private stream (resource: string): Stream {
    let stream = this.streams.get(resource)
    if (stream === undefined) this.streams.set(resource, stream = { next: null, pending: new Map(), timer: null })
    return stream
  }
}
