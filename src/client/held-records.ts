import type { RecordData } from './types.js'

/*
 * What a `delta: true` subscription keeps: the records it holds (its view of them, with the
 * fields it selected), so that an update sent as the paths that changed can be turned back
 * into a whole record for the application (docs/protocol.md, "Delta updates"). Bounded by what
 * the subscription matches: a record that leaves it, or is deleted, is dropped.
 */

/** Segments a path must never step into, whatever the server sent. */
const FORBIDDEN = new Set(['', '__proto__', 'constructor', 'prototype'])

function isPlainObject (value: unknown): value is RecordData {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

/** The segments of a dot path, or null when it is not one a change may name. */
function segmentsOf (path: unknown): string[] | null {
  if (typeof path !== 'string') return null
  const segments = path.split('.')
  return segments.some((s) => FORBIDDEN.has(s)) ? null : segments
}

/**
 * The object at `segments` (all but the last) inside `root`, copied on the way down so the
 * record the application was handed before is never mutated; `create`: missing steps are made.
 */
function parentFor (root: RecordData, segments: readonly string[], create: boolean): RecordData | null {
  let node = root
  for (const segment of segments.slice(0, -1)) {
    const next = node[segment]
    if (!isPlainObject(next) && !create) return null
    const copy: RecordData = isPlainObject(next) ? { ...next } : {}
    node[segment] = copy
    node = copy
  }
  return node
}

/**
 * `record` with `changes` ({set: {path: value}, unset: [path]}) applied, as a new object; null
 * when `changes` is not of that shape (the copy cannot be trusted: list again).
 */
export function applyChanges (record: RecordData, changes: unknown): RecordData | null {
  if (!isPlainObject(changes)) return null
  const { set, unset } = changes
  if (!isPlainObject(set) || !Array.isArray(unset)) return null
  const out: RecordData = { ...record }
  for (const path of unset) {
    const segments = segmentsOf(path)
    if (segments === null) return null
    const parent = parentFor(out, segments, false)
    if (parent !== null) delete parent[segments[segments.length - 1] as string]
  }
  for (const [path, value] of Object.entries(set)) {
    const segments = segmentsOf(path)
    if (segments === null) return null
    const parent = parentFor(out, segments, true) as RecordData
    parent[segments[segments.length - 1] as string] = value
  }
  return out
}

/** The records one subscription holds, by id. */
export class HeldRecords {
  private readonly records = new Map<string, RecordData>()

  replaceAll (records: readonly RecordData[]): void {
    this.records.clear()
    for (const record of records) this.put(record)
  }

  get (id: string): RecordData | undefined {
    return this.records.get(id)
  }

  put (record: RecordData): void {
    if (typeof record.id === 'string') this.records.set(record.id, record)
  }

  /** True when it was held. */
  remove (id: string): boolean {
    return this.records.delete(id)
  }

  clear (): void {
    this.records.clear()
  }

  get size (): number {
    return this.records.size
  }
}
