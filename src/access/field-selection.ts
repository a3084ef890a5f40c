import type { RecordData } from '../types.js'
import { buildPathTree, type PathTree } from '../util/path-tree.js'

/*
 * Field selection (`fields: ['id', 'title', 'author.name']` on subscribe, list and get): only
 * those paths are sent. Selection runs on records the projection already stripped of protected
 * fields and s3db internals, so asking for a protected path sends nothing for it.
 * `id` is always sent (a client keys its view by it).
 */

/** Documented bound: paths in one `fields` list. */
export const FIELD_LIMITS = { paths: 64, depth: 8 } as const


/** One field set, built once and shared: the paths, a key that names the set, the copier. */
export interface FieldSelection {
  /** Sorted, deduplicated, `id` included. */
  readonly paths: readonly string[]
  /** The paths joined: equal sets have equal keys (frames are encoded once per key). */
  readonly key: string
  readonly select: (record: RecordData) => RecordData
}

const FORBIDDEN_SEGMENTS = new Set(['', '__proto__', 'constructor', 'prototype'])

/** Why `input` is not a usable `fields` list (a sentence), or the paths. */
export function parseFields (input: unknown): { paths: string[] } | { error: string } {
  if (!Array.isArray(input)) return { error: 'fields must be a list of field paths' }
  if (input.length > FIELD_LIMITS.paths) return { error: `fields has more than ${FIELD_LIMITS.paths} paths` }
  for (const path of input) {
    if (typeof path !== 'string') return { error: 'fields must be a list of field paths' }
    const segments = path.split('.')
    if (segments.length > FIELD_LIMITS.depth) return { error: `field path "${path}" is nested too deeply` }
    if (segments.some((s) => FORBIDDEN_SEGMENTS.has(s) || s.startsWith('$'))) return { error: `field path "${path}" is not allowed` }
  }
  return { paths: input as string[] }
}

function copySelected (value: unknown, tree: PathTree): unknown {
  if (Array.isArray(value)) return value.map((element) => copySelected(element, tree))
  if (value === null || typeof value !== 'object') return undefined
  const out: RecordData = {}
  for (const key of Object.keys(tree)) {
    if (!Object.prototype.hasOwnProperty.call(value, key)) continue
    const rule = tree[key] as PathTree | true
    const inner = (value as RecordData)[key]
    if (rule === true) out[key] = inner
    else {
      const copied = copySelected(inner, rule)
      if (copied !== undefined) out[key] = copied
    }
  }
  return out
}

/** The selection of `paths` (plus `id`). */
export function fieldSelection (paths: Iterable<string>): FieldSelection {
  const sorted = [...new Set(['id', ...paths])].sort()
  const tree = buildPathTree(sorted)
  return { paths: sorted, key: sorted.join('\n'), select: (record) => copySelected(record, tree) as RecordData }
}

/** Two selections as one: what a connection gets when two of its subscriptions match one event. */
export function unionSelection (a: FieldSelection, b: FieldSelection): FieldSelection {
  return a.key === b.key ? a : fieldSelection([...a.paths, ...b.paths])
}
