import type { Filter, FilterValue } from '../types.js'
import { isPlainObject, readPath, splitPath } from '../util/paths.js'

/** One compiled equality condition. */
export interface Condition {
  readonly path: string
  readonly segments: readonly string[]
  readonly value: FilterValue
}

/**
 * A filter compiled once (paths pre-split) and reused for every record it is matched against.
 * `impossible` marks a filter that contradicts itself (client and forced filter disagree on a
 * field): it matches nothing.
 */
export interface CompiledFilter {
  readonly filter: Filter
  readonly conditions: readonly Condition[]
  readonly impossible: boolean
  /** The guard-forced part alone (absent: none). A record outside it is not the subscriber's to see. */
  readonly forced?: CompiledFilter
}

export function compileFilter (filter: Filter, impossible = false): CompiledFilter {
  const conditions = Object.keys(filter).sort().map((path) => ({
    path,
    segments: splitPath(path),
    value: filter[path] as FilterValue
  }))
  return { filter, conditions, impossible }
}

export function matchesFilter (record: unknown, compiled: CompiledFilter): boolean {
  if (compiled.impossible) return false
  for (const condition of compiled.conditions) {
    if (readPath(record, condition.segments) !== condition.value) return false
  }
  return true
}

/**
 * Effective filter = client filter AND forced filter. The forced filter always wins: a client
 * can narrow it with more fields, never widen or override it; a contradicting value makes the
 * result match nothing rather than silently replacing either side.
 */
export function combineFilters (client: Filter, forced: Filter | null): CompiledFilter {
  if (forced === null) return compileFilter(client)
  const merged: Filter = { ...forced }
  let impossible = false
  for (const [path, value] of Object.entries(client)) {
    if (Object.prototype.hasOwnProperty.call(forced, path) && forced[path] !== value) impossible = true
    merged[path] = Object.prototype.hasOwnProperty.call(forced, path) ? forced[path] as FilterValue : value
  }
  return { ...compileFilter(merged, impossible), forced: compileFilter(forced) }
}

/**
 * Turns user input into a flat filter: nested plain objects become dot paths. Returns an error
 * message instead of throwing so callers can map it to their own error type.
 */
export function normalizeFilter (input: unknown, maxKeys = 32): { filter: Filter } | { error: string } {
  if (input === undefined || input === null) return { filter: {} }
  if (!isPlainObject(input)) return { error: 'filter must be an object' }
  const filter: Filter = Object.create(null) as Filter
  let count = 0
  const walk = (value: Record<string, unknown>, prefix: string, depth: number): string | null => {
    if (depth > 8) return 'filter is nested too deeply'
    for (const [key, inner] of Object.entries(value)) {
      if (key === '' || key === '__proto__' || key === 'constructor' || key === 'prototype') {
        return `filter key "${key}" is not allowed`
      }
      // `{title: {$gt: ''}}` must not be read as the literal path `title.$gt` (it would match
      // nothing and look like an answer).
      if (key.split('.').some((segment) => segment.startsWith('$'))) return `filter operator "${key}"${prefix === '' ? '' : ` at "${prefix}"`} is not supported`
      const path = prefix === '' ? key : `${prefix}.${key}`
      if (isPlainObject(inner)) {
        const error = walk(inner, path, depth + 1)
        if (error !== null) return error
        continue
      }
      if (inner !== null && typeof inner !== 'string' && typeof inner !== 'number' && typeof inner !== 'boolean') {
        return `filter value at "${path}" must be a string, number, boolean or null`
      }
      if (++count > maxKeys) return `filter has more than ${maxKeys} fields`
      filter[path] = inner
    }
    return null
  }
  const error = walk(input, '', 0)
  if (error !== null) return { error }
  return { filter: { ...filter } }
}
