import type { Filter, FilterCondition } from '../types.js'
import { isPlainObject } from '../util/paths.js'
import { compileFilter, type CompiledFilter } from './filter.js'
import { isScalar } from './filter-operators.js'

/*
 * Subscriptions share their compiled filter when everything it is made of is the same: most
 * apps (and the bench) hold thousands of subscriptions over a handful of distinct filters, and a
 * compiled filter (objects, arrays and one test closure per condition) is ~0.4 KB. This is the
 * read-path trust boundary, so the key is all of it: the client's filter, the effective filter
 * (client AND guards), the guard-forced part on its own and both `impossible` flags. Two users
 * whose guards force different values have different keys and never share. Shared objects are
 * the interner's own deep-frozen copies (never an object a guard or the app was handed), and
 * an entry goes when its last subscription does (reference counts), so the table holds at most
 * one entry per live subscription, and never more than `maxEntries`: past that, filters are
 * simply not shared.
 */

/** At most this many distinct filters are shared; more are kept per subscription. */
export const MAX_INTERNED_FILTERS = 50_000

/** What a subscription holds: the compiled filter and the filter its client sent. */
export interface FilterPair {
  readonly filter: CompiledFilter
  readonly clientFilter: Filter
}

interface Entry extends FilterPair {
  users: number
}

/** Values JSON carries exactly (finite numbers, strings, booleans, null), so the key text is exact. */
function exactList (values: unknown): boolean {
  if (!Array.isArray(values)) return false
  for (let i = 0; i < values.length; i++) if (!(i in values) || !isScalar(values[i])) return false
  return true
}

function exactCondition (condition: unknown): boolean {
  if (isScalar(condition)) return true
  if (!isPlainObject(condition)) return false
  for (const [op, operand] of Object.entries(condition)) {
    if (!op.startsWith('$') || !(isScalar(operand) || exactList(operand))) return false
  }
  return true
}

/** The filter as text with its paths sorted, or null when a value would not survive JSON exactly. */
function filterText (filter: Filter): string | null {
  if (!isPlainObject(filter)) return null
  const paths = Object.keys(filter).sort()
  for (const path of paths) if (!exactCondition(filter[path])) return null
  return JSON.stringify(paths.map((path) => [path, filter[path]]))
}

/**
 * The interning key: every input of the compiled filter, or null when it cannot be stated
 * exactly (then the filter is not shared). `-0` reads as `0` in the key, which every operator
 * also does (`===`, Set membership, `<`).
 */
export function internKey (pair: FilterPair): string | null {
  const { filter, clientFilter } = pair
  const forced = filter.forced
  if (forced !== undefined && forced.forced !== undefined) return null
  const parts = [filterText(clientFilter), filterText(filter.filter), forced === undefined ? 'none' : filterText(forced.filter)]
  if (parts.includes(null)) return null
  return JSON.stringify([...parts, filter.impossible, forced?.impossible ?? null])
}

/** A deep copy made of fresh objects (own properties only, so no key can reach a prototype). */
function copyFilter (filter: Filter): Filter {
  return Object.fromEntries(Object.entries(filter).map(([path, condition]) => [path, copyCondition(condition)]))
}

function copyCondition (condition: FilterCondition): FilterCondition {
  if (condition === null || typeof condition !== 'object') return condition
  return Object.fromEntries(Object.entries(condition).map(([op, operand]) => [op, Array.isArray(operand) ? [...operand as unknown[]] : operand])) as FilterCondition
}

function freezeFilter (filter: Filter): Filter {
  for (const condition of Object.values(filter)) {
    if (condition === null || typeof condition !== 'object') continue
    for (const operand of Object.values(condition)) if (Array.isArray(operand)) Object.freeze(operand)
    Object.freeze(condition)
  }
  return Object.freeze(filter)
}

/**
 * The same compiled filter, rebuilt from copies and frozen: the filter and its values, each
 * condition and its test. Two arrays are left unfrozen, `conditions` and each condition's
 * `segments`: V8 iterates frozen arrays markedly slower (matchesFilter took 1.2–2× as long in a
 * micro-benchmark), they are read on every event, and they never leave `access/` and `hub/`,
 * where their types are `readonly` (a write does not compile).
 */
function frozenCompiled (source: CompiledFilter, forced: CompiledFilter | undefined): CompiledFilter {
  const compiled = compileFilter(freezeFilter(copyFilter(source.filter)), source.impossible)
  for (const condition of compiled.conditions) {
    Object.freeze(condition.test)
    Object.freeze(condition)
  }
  return Object.freeze(forced === undefined ? compiled : { ...compiled, forced })
}

/** Reference-counted, bounded table of shared compiled filters (one per LocalHub). */
export class FilterInterner {
  private readonly entries = new Map<string, Entry>()

  constructor (readonly maxEntries: number = MAX_INTERNED_FILTERS) {}

  /** Distinct filters shared right now. */
  get size (): number {
    return this.entries.size
  }

  /**
   * The shared pair equal to `pair` (counted as one more user), or `pair` itself when it cannot
   * be keyed exactly or the table is full. Every acquire is matched by one `release` of what it
   * returned.
   */
  acquire (pair: FilterPair): FilterPair {
    const key = internKey(pair)
    if (key === null) return pair
    let entry = this.entries.get(key)
    if (entry === undefined) {
      if (this.entries.size >= this.maxEntries) return pair
      const forced = pair.filter.forced === undefined ? undefined : frozenCompiled(pair.filter.forced, undefined)
      entry = { filter: frozenCompiled(pair.filter, forced), clientFilter: freezeFilter(copyFilter(pair.clientFilter)), users: 0 }
      this.entries.set(key, entry)
    }
    entry.users++
    return { filter: entry.filter, clientFilter: entry.clientFilter }
  }

  /** One user fewer of what `acquire` returned; the entry goes with its last user. Unshared pairs are ignored. */
  release (pair: FilterPair): void {
    const key = internKey(pair)
    if (key === null) return
    const entry = this.entries.get(key)
    // Only the shared objects themselves count: an unshared pair with the same key (made while
    // the table was full) was never counted.
    if (entry === undefined || entry.filter !== pair.filter || entry.clientFilter !== pair.clientFilter) return
    if (--entry.users <= 0) this.entries.delete(key)
  }
}
