import type { ResourceLike } from '../types.js'

/** s3db write methods whose changes the bridge captures (some call others: each waits once). */
const WRITE_METHODS = ['insert', 'insertMany', 'update', 'upsert', 'patch', 'replace', 'updateConditional', 'delete', 'deleteMany', 'deleteAll'] as const

type Method = (...args: unknown[]) => Promise<unknown>

/** Resolves when `work` settles or after `ms`, whichever comes first; true if `work` won. */
async function within (work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<false>((resolve) => { timer = setTimeout(() => { resolve(false) }, ms) })
  try {
    return await Promise.race([work.then(() => true, () => true), timeout])
  } finally {
    clearTimeout(timer)
  }
}

const nextTurn = async (): Promise<void> => { await new Promise((resolve) => setImmediate(resolve)) }

/**
 * Writes running on the resources the bridge is attached to, whoever made them (a socket's
 * handler, a REST route, a job sharing the Database). A write counts from its call until its
 * change has been captured (and, clustered, numbered), so shutdown can wait for the writes it
 * would otherwise leave unannounced before it detaches.
 */
export class WritesInFlight {
  private readonly running = new Set<Promise<void>>()

  /** Counts one write; call the returned function once its change is captured. */
  start (): () => void {
    let end: () => void = () => {}
    const write = new Promise<void>((resolve) => { end = resolve })
    this.running.add(write)
    void write.then(() => { this.running.delete(write) })
    return end
  }

  get count (): number {
    return this.running.size
  }

  /** Resolves once the writes running now have ended, or after `timeoutMs`. */
  async settled (timeoutMs: number): Promise<void> {
    if (this.running.size > 0) await within(Promise.all([...this.running]), timeoutMs)
  }

  /**
   * Resolves once no write runs (new ones included), or after `timeoutMs`; true when none runs.
   * "None" must hold for a whole turn: code that awaits one write and then makes the next (a
   * job's second step) starts it within the microtasks that follow.
   */
  async idle (timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const left = deadline - Date.now()
      if (this.running.size === 0) {
        await nextTurn()
        if (this.running.size === 0) return true
      } else if (left <= 0 || !await within(Promise.all([...this.running]), left)) {
        return false
      }
    }
  }
}

/** What `watchWrites` does around each write of a resource. */
export interface WriteWatch {
  /**
   * Clustered: the write resolves only once the changes of its resource captured so far are
   * numbered (see holdWritesUntilNumbered). Null alone: the write resolves as s3db resolves it.
   */
  readonly settled: (() => Promise<void>) | null
  /** Counts the write until its change is captured (and numbered, when `settled` is given). */
  readonly writes: WritesInFlight | null
  /** Throws to refuse a write before it reaches the store (a node cut off from the cluster). */
  readonly admit?: (() => void) | null
}

/**
 * Wraps every write method of `resource` (see WriteWatch); returns the function that undoes it.
 * A write's change is captured one turn after the write settles: s3db queued its listeners with
 * setImmediate before resolving (the bridge's first), or ran the bridge's after-hook inside it.
 */
export function watchWrites (resource: ResourceLike, watch: WriteWatch): () => void {
  const target = resource as unknown as Record<string, unknown>
  const undo: Array<() => void> = []
  // Dropped on undo, so a wrapper left in place under someone else's keeps nothing alive.
  let wait: (() => Promise<void>) | null = watch.settled
  let writes: WritesInFlight | null = watch.writes
  let admit: (() => void) | null = watch.admit ?? null
  for (const name of WRITE_METHODS) {
    const original = target[name]
    if (typeof original !== 'function') continue
    const wasOwn = Object.prototype.hasOwnProperty.call(target, name)
    const wrapped: Method = async function (this: unknown, ...args: unknown[]): Promise<unknown> {
      admit?.()
      const end = writes?.start() ?? null
      try {
        return await (original as Method).apply(this, args)
      } finally {
        // Also after a failure: s3db's delete announces the change before it may throw.
        if (wait !== null) {
          try {
            await nextTurn()
            await wait?.()
          } finally {
            end?.()
          }
        } else if (end !== null) {
          // Alone, the write resolves as before; it counts until its change is captured.
          setImmediate(end)
        }
      }
    }
    target[name] = wrapped
    undo.push(() => {
      // Someone wrapped on top of us: leave theirs in place; ours just stops waiting.
      if (target[name] !== wrapped) return
      if (wasOwn) target[name] = original
      else delete target[name]
    })
  }
  return () => {
    wait = null
    writes = null
    admit = null
    for (const step of undo) step()
  }
}

/**
 * Makes every write of `resource` resolve only once its change has been numbered.
 *
 * Across instances, seq order must follow cause and effect: when a write has returned (or its
 * `updated` reply reached the client) and a second write to the same record is then made through
 * another instance, the second must get the higher seq. s3db announces a change on setImmediate
 * after the write has already resolved, and numbering takes a Redis round trip after that, so
 * without this the second write can be numbered first and every client would apply the two
 * versions in the wrong order (and keep the older one). Returns the function that undoes it.
 */
export function holdWritesUntilNumbered (resource: ResourceLike, settled: () => Promise<void>, writes: WritesInFlight | null = null): () => void {
  return watchWrites(resource, { settled, writes })
}
