import type { FastifyBaseLogger } from 'fastify'
import type { RawChange } from '../hub/change-stream.js'
import type { ResolvedResource } from '../access/resource.js'
import type { RecordData, ResourceLike } from '../types.js'
import { watchWrites, WritesInFlight } from './write-barrier.js'

type Listener = (...args: any[]) => void
type Hook = (data: any) => unknown

/** Behaviours for which s3db's `patch` writes by copy-object and emits no `updated` event. */
const COPY_PATCH_BEHAVIORS = new Set(['enforce-limits', 'truncate-data'])

function recordId (record: RecordData | null): string | null {
  const id = record?.id
  return typeof id === 'string' ? id : id === undefined || id === null ? null : String(id)
}

function withoutMeta (payload: RecordData): RecordData {
  const { $before: _b, $after: _a, ...rest } = payload
  return rest
}

/**
 * Turns every s3db write into exactly one change. s3db 19.5.10 emits `inserted`/`updated`/
 * `deleted` for insert, insertMany, upsert, update, updateConditional, patch-by-update, delete and
 * deleteMany, and `deleted-all` for deleteAll; `replace` and patch's copy-object path emit nothing
 * but run their before/after hooks, so those two are captured through hooks (reading the record
 * in the before hook, since the after hook only sees the new state).
 */
export class ResourceBridge {
  private readonly detachers: Array<() => void> = []
  /** Writes running on the attached resources, so shutdown can let them land and be announced. */
  private readonly writes = new WritesInFlight()

  /**
   * @param settled when given (clustered), every write of a resource resolves only once the
   *   changes of that resource started so far are numbered (see holdWritesUntilNumbered).
   * @param admit when given (clustered), runs before every write and throws to refuse it.
   */
  constructor (
    private readonly resources: ReadonlyMap<string, ResolvedResource>,
    private readonly sink: (change: RawChange) => void,
    private readonly log: FastifyBaseLogger,
    private readonly settled: ((resource: string) => Promise<void>) | null = null,
    private readonly admit: (() => void) | null = null
  ) {}

  attach (): void {
    for (const { name, resource } of this.resources.values()) {
      this.attachResource(name, resource)
      const { settled } = this
      this.detachers.push(watchWrites(resource, {
        settled: settled === null ? null : async () => { await settled(name) },
        writes: this.writes,
        admit: this.admit
      }))
    }
  }

  /** Writes running now on the attached resources (any caller's), until their change is captured. */
  get writesInFlight (): number {
    return this.writes.count
  }

  /**
   * Resolves once the writes running now have landed and their changes are captured (clustered:
   * numbered), or after `timeoutMs`. Writes started meanwhile are not waited for.
   */
  async settle (timeoutMs: number): Promise<void> {
    await this.writes.settled(timeoutMs)
  }

  /**
   * The last step of a shutdown: waits (at most `timeoutMs`) until no write runs on the attached
   * resources, so every change is captured while the sink can still number it, then detaches.
   * Resolves with the writes still running then: their changes will not be announced.
   */
  async close (timeoutMs: number): Promise<number> {
    await this.writes.idle(timeoutMs)
    const running = this.writes.count
    this.detach()
    return running
  }

  detach (): void {
    for (const detach of this.detachers.splice(0)) detach()
  }

  private emit (change: RawChange): void {
    try {
      this.sink(change)
    } catch (error) {
      // A failing subscriber must never fail the s3db write that produced the change.
      this.log.error({ err: error, resource: change.resource, type: change.type }, 'realtime: delivering a change failed')
    }
  }

  /**
   * For changes captured from an after-hook, inside the write: s3db announces a write with
   * setImmediate when it resolves, so the write an app awaited just before this one is still
   * unannounced. Queued the same way, this change is captured after it (FIFO), in write order;
   * and still before the write barrier's turn, which starts once this write has resolved.
   */
  private emitInTurn (change: RawChange): void {
    setImmediate(() => { this.emit(change) })
  }

  private listen (resource: ResourceLike, event: string, listener: Listener): void {
    // First in line: s3db runs a change's listeners one after another, awaiting each, and the
    // write barrier counts on the change being captured in the first turn after the write.
    if (typeof resource.prependListener === 'function') resource.prependListener(event, listener)
    else resource.on(event, listener)
    this.detachers.push(() => { resource.removeListener(event, listener) })
  }

  private hook (resource: ResourceLike, event: string, fn: Hook): void {
    resource.addHook(event, fn)
    this.detachers.push(() => {
      const list = resource.hooks?.[event]
      if (!Array.isArray(list)) return
      const index = list.findIndex((h) => h === fn || (h as { __s3db_original?: unknown }).__s3db_original === fn)
      if (index >= 0) list.splice(index, 1)
    })
  }

  private attachResource (name: string, resource: ResourceLike): void {
    this.listen(resource, 'inserted', (record: RecordData) => {
      this.emit({ resource: name, type: 'insert', id: recordId(record), before: null, after: withoutMeta(record) })
    })
    this.listen(resource, 'updated', (payload: RecordData) => {
      const before = (payload.$before as RecordData | undefined) ?? null
      const after = (payload.$after as RecordData | undefined) ?? withoutMeta(payload)
      this.emit({ resource: name, type: 'update', id: recordId(after), before, after })
    })
    this.listen(resource, 'deleted', (payload: RecordData) => {
      const before = (payload.$before as RecordData | undefined) ?? withoutMeta(payload)
      this.emit({ resource: name, type: 'delete', id: recordId(before), before, after: null })
    })
    this.listen(resource, 'deleted-all', () => {
      this.emit({ resource: name, type: 'reset', id: null, before: null, after: null })
    })

    // An after-hook sees the record as the app passed it, not as s3db stored it (decimals, money,
    // embeddings and geo not yet rounded; `json` attributes as JSON text): filters and projections
    // must judge what a read returns, so the stored record is read back, inside the write (s3db
    // awaits its hooks), before the change is queued; never the hook's record. Deleted meanwhile:
    // nothing to announce (the delete's own event says where the record went). Unreadable: the
    // change cannot be described, so subscribers are told to re-list (a `reset`).
    const emitStored = async (type: 'insert' | 'update', id: string, before: RecordData | null): Promise<void> => {
      const stored = await readBack(resource, id)
      if (stored === null) return
      if (stored === undefined) {
        this.log.warn({ resource: name, id }, 'realtime: could not read back a replaced record; subscribers are told to re-list')
        this.emitInTurn({ resource: name, type: 'reset', id: null, before: null, after: null })
        return
      }
      this.emitInTurn({ resource: name, type, id, before, after: stored })
    }

    // replace: read the old record first so subscribers see before/after (and `left`).
    const pendingReplace: Pending = new Map()
    this.hook(resource, 'beforeReplace', async (ctx: { id: string }) => {
      remember(pendingReplace, ctx.id, (await readBack(resource, ctx.id)) ?? null)
      return ctx
    })
    this.hook(resource, 'afterReplace', async (record: RecordData) => {
      const id = recordId(record) ?? ''
      const before = takeFrom(pendingReplace, id)
      await emitStored(before === null ? 'insert' : 'update', id, before)
      return record
    })

    // patch by copy-object: the only patch path that emits no `updated` event.
    const pendingPatch: Pending = new Map()
    this.hook(resource, 'beforePatch', async (ctx: { id: string, fields: Record<string, unknown> }) => {
      const byCopy = COPY_PATCH_BEHAVIORS.has(resource.behavior ?? '') && !Object.keys(ctx.fields ?? {}).some((k) => k.includes('.'))
      if (byCopy) remember(pendingPatch, ctx.id, (await readBack(resource, ctx.id)) ?? null)
      return ctx
    })
    this.hook(resource, 'afterPatch', async (record: RecordData) => {
      const id = recordId(record) ?? ''
      if (!pendingPatch.has(id)) return record
      const before = takeFrom(pendingPatch, id)
      await emitStored('update', id, before)
      return record
    })
  }
}

/**
 * Old records read by a before-hook, waiting for their after-hook, per id (a queue, so
 * concurrent writes to one id pair up in order). A write that fails runs no after-hook: its
 * entry is dropped once older than STALE_MS, so failed writes cannot pile up for an id.
 */
type Pending = Map<string, Array<{ before: RecordData | null, at: number }>>
const STALE_MS = 30_000

function remember (pending: Pending, id: string, before: RecordData | null): void {
  const now = Date.now()
  const queue = (pending.get(id) ?? []).filter((entry) => now - entry.at < STALE_MS)
  queue.push({ before, at: now })
  pending.set(id, queue)
}

function takeFrom (pending: Pending, id: string): RecordData | null {
  const queue = pending.get(id)
  const before = queue?.shift()?.before ?? null
  if (queue !== undefined && queue.length === 0) pending.delete(id)
  return before
}

/** The record as stored: null when there is none, undefined when it could not be read. */
async function readBack (resource: ResourceLike, id: string): Promise<RecordData | null | undefined> {
  const reader = resource as ResourceLike & { getOrNull?: (id: string) => Promise<RecordData | null> }
  try {
    return typeof reader.getOrNull === 'function' ? await reader.getOrNull(id) : await resource.get(id)
  } catch {
    return undefined
  }
}
