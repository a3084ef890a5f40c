import type { ChangeStream } from './change-stream.js'

/**
 * How many `subscribe {snapshot}` listings one instance runs at once. A snapshot is valid only
 * if its numbering holds until the listing ends; when every subscriber asks at once (all told
 * RESYNC_REQUIRED by one fault), hundreds of listings share the store, each takes as long as
 * all of them, and an epoch change meanwhile refuses every one. In turn, each listing is short,
 * reads its position when it starts, and only the few running when the numbering moves redo it.
 */
export const SNAPSHOT_READS = 8

/** Runs at most `limit` tasks at once; the others wait in arrival order. */
export class ReadQueue {
  private running = 0
  private readonly waiting: Array<() => void> = []

  constructor (private readonly limit: number) {}

  async run<T> (task: () => Promise<T>): Promise<T> {
    if (this.running < this.limit) this.running++
    else await new Promise<void>((resolve) => { this.waiting.push(resolve) }) // handed a running slot
    try {
      return await task()
    } finally {
      const next = this.waiting.shift()
      if (next !== undefined) next()
      else this.running--
    }
  }
}

const queues = new WeakMap<ChangeStream, ReadQueue>()

/** The snapshot queue of one instance (one ChangeStream). */
export function snapshotQueue (stream: ChangeStream): ReadQueue {
  let queue = queues.get(stream)
  if (queue === undefined) queues.set(stream, queue = new ReadQueue(SNAPSHOT_READS))
  return queue
}
