import type { ResourceLike } from '../types.js'

/** s3db write methods whose changes the bridge captures (some call others: each waits once). */
const WRITE_METHODS = ['insert', 'insertMany', 'update', 'upsert', 'patch', 'replace', 'updateConditional', 'delete', 'deleteMany', 'deleteAll'] as const

type Method = (...args: unknown[]) => Promise<unknown>

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
export function holdWritesUntilNumbered (resource: ResourceLike, settled: () => Promise<void>): () => void {
  const target = resource as unknown as Record<string, unknown>
  const undo: Array<() => void> = []
  // Dropped on undo, so a wrapper left in place under someone else's keeps nothing alive.
  let wait: (() => Promise<void>) | null = settled
  for (const name of WRITE_METHODS) {
    const original = target[name]
    if (typeof original !== 'function') continue
    const wasOwn = Object.prototype.hasOwnProperty.call(target, name)
    const wrapped: Method = async function (this: unknown, ...args: unknown[]): Promise<unknown> {
      try {
        return await (original as Method).apply(this, args)
      } finally {
        // Also after a failure: s3db's delete announces the change before it may throw.
        if (wait !== null) {
          // s3db's listeners for this write were queued with setImmediate before it settled (the
          // bridge's first): one turn later the change is captured and its numbering has started.
          await new Promise((resolve) => setImmediate(resolve))
          await wait?.()
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
    for (const step of undo) step()
  }
}
