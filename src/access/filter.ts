import type { Filter, FilterCondition } from '../types.js'
import { isPlainObject, readPath, splitPath } from '../util/paths.js'
import { andConditions, canonicalCondition, operatorsOf, satisfiable } from './filter-algebra.js'
import { conditionTest, FILTER_LIMITS, isOperator, isScalar, operandProblem, type Operand, type Operator } from './filter-operators.js'

/**
 * One compiled condition: one operator on one path. The plain form `{field: value}` is `$eq`.
 * `test` is the operator's meaning (src/access/filter-operators.ts), built once.
 */
export interface Condition {
  readonly path: string
  readonly segments: readonly string[]
  readonly op: Operator
  /** The operand: the value for `$eq`, the list for `$in`, ... */
  readonly value: Operand
  readonly test: (value: unknown) => boolean
}

/**
 * A filter compiled once (paths pre-split, operators turned into tests) and reused for every
 * record it is matched against; list, subscribe, replay, snapshots, guards' forced filters
 * and the `left` notice all match through `matchesFilter`. `impossible`: no record can match
 * (the client's filter contradicts a forced one, or itself); the reply says `matchesNothing`.
 */
export interface CompiledFilter {
  /** The canonical filter (what `subscribed` reports as the effective filter). */
  readonly filter: Filter
  /** Sorted by path, then in the order of OPERATORS. */
  readonly conditions: readonly Condition[]
  readonly impossible: boolean
  /** The guard-forced part alone (absent: none). A record outside it is not the subscriber's to see. */
  readonly forced?: CompiledFilter
}

export function compileFilter (filter: Filter, impossible = false): CompiledFilter {
  const conditions: Condition[] = []
  let satisfied = true
  for (const path of Object.keys(filter).sort()) {
    const condition = filter[path] as FilterCondition
    if (!satisfiable(condition)) satisfied = false
    const segments = splitPath(path)
    for (const [op, value] of operatorsOf(condition)) conditions.push({ path, segments, op, value, test: conditionTest(op, value) })
  }
  // slice(): an array grown by push keeps room for 16 more (~0.15 KB per filter held by a
  // subscription); the copy is exactly as long as its conditions.
  return { filter, conditions: conditions.slice(), impossible: impossible || !satisfied }
}

export function matchesFilter (record: unknown, compiled: CompiledFilter): boolean {
  if (compiled.impossible) return false
  for (const condition of compiled.conditions) {
    if (!condition.test(readPath(record, condition.segments))) return false
  }
  return true
}

/** `a AND b` as one canonical filter: conditions on the same path are merged exactly. */
export function andFilters (a: Filter, b: Filter): Filter {
  const out: Filter = { ...a }
  for (const [path, condition] of Object.entries(b)) {
    out[path] = Object.prototype.hasOwnProperty.call(out, path) ? andConditions(out[path] as FilterCondition, condition) : condition
  }
  return out
}

/**
 * Effective filter = client filter AND forced filter. A client can narrow the forced filter,
 * never widen or override it: both sides' conditions hold, and the result, reported as one
 * filter, is exactly their AND (`{tenant: 't1'}` AND `{tenant: 't2'}` is `{tenant: {$in: []}}`,
 * which matches nothing and is flagged `impossible`).
 */
export function combineFilters (client: Filter, forced: Filter | null): CompiledFilter {
  if (forced === null) return compileFilter(client)
  return { ...compileFilter(andFilters(forced, client)), forced: compileFilter(forced) }
}

/** Whether two canonical filters say the same (an `unsubscribe` by filter, a repeated `subscribe`). */
export function sameFilter (a: Filter, b: Filter): boolean {
  const text = (filter: Filter): string => JSON.stringify(Object.keys(filter).sort().map((path) => [path, filter[path]]))
  return text(a) === text(b)
}

/** The `$eq` values of a compiled filter by path: what can pick an s3db partition. */
export function equalityValues (compiled: CompiledFilter): Map<string, Operand> {
  const out = new Map<string, Operand>()
  for (const condition of compiled.conditions) if (condition.op === '$eq') out.set(condition.path, condition.value)
  return out
}

export type NormalizedFilter = { filter: Filter } | { error: string, field: string }

const FORBIDDEN_KEYS = new Set(['', '__proto__', 'constructor', 'prototype'])

/** `/filter/meta.kind`: the JSON pointer an error names (the field as the canonical filter writes it). */
function pointer (path: string): string {
  return path === '' ? '/filter' : `/filter/${path}`
}

/** `{$gt: 1, $lt: 5}` as checked operators, or the problem. */
function readOperators (value: Record<string, unknown>, path: string, maxIn: number): { condition: FilterCondition } | { problem: string } {
  const ops: Record<string, unknown> = {}
  for (const [key, operand] of Object.entries(value)) {
    if (!key.startsWith('$')) return { problem: `filter at "${path}" mixes operators and fields ("${key}")` }
    if (!isOperator(key)) return { problem: `filter operator "${key}" at "${path}" is not supported` }
    const problem = operandProblem(key, operand, maxIn)
    if (problem !== null) return { problem: `filter operator ${problem} (at "${path}")` }
    ops[key] = operand
  }
  return { condition: canonicalCondition(ops) }
}

/**
 * Turns user (or guard) input into a canonical flat filter: nested plain objects become dot
 * paths, operator objects (`{price: {$gte: 10}}`) are checked, equality becomes the plain form,
 * two conditions on one path are ANDed. Returns the problem and the field it is about (a JSON
 * pointer) instead of throwing, so callers can map it to their own error.
 */
export function normalizeFilter (input: unknown, maxKeys: number = FILTER_LIMITS.fields, maxIn: number = FILTER_LIMITS.inValues): NormalizedFilter {
  if (input === undefined || input === null) return { filter: {} }
  if (!isPlainObject(input)) return { error: 'filter must be an object', field: '/filter' }
  const filter: Filter = Object.create(null) as Filter
  let count = 0
  const add = (path: string, condition: FilterCondition): string | null => {
    if (Object.prototype.hasOwnProperty.call(filter, path)) {
      filter[path] = andConditions(filter[path] as FilterCondition, condition)
      return null
    }
    if (++count > maxKeys) return `filter has more than ${maxKeys} fields`
    filter[path] = condition
    return null
  }
  const walk = (value: Record<string, unknown>, prefix: string, depth: number): { error: string, field: string } | null => {
    if (depth > FILTER_LIMITS.depth) return { error: 'filter is nested too deeply', field: pointer(prefix) }
    for (const [key, inner] of Object.entries(value)) {
      if (FORBIDDEN_KEYS.has(key)) return { error: `filter key "${key}" is not allowed`, field: pointer(prefix) }
      // `$or` at the top, or `title.$gt` as a dotted key, must not be read as a literal path.
      if (key.split('.').some((segment) => segment.startsWith('$'))) {
        return { error: `filter operator "${key}"${prefix === '' ? '' : ` at "${prefix}"`} is not supported here: operators go inside a field's object ({field: {$gt: 1}})`, field: pointer(prefix) }
      }
      const path = prefix === '' ? key : `${prefix}.${key}`
      let read: { condition: FilterCondition } | { problem: string }
      if (isPlainObject(inner) && Object.keys(inner).some((k) => k.startsWith('$'))) {
        read = readOperators(inner, path, maxIn)
      } else if (isPlainObject(inner)) {
        const error = walk(inner, path, depth + 1)
        if (error !== null) return error
        continue
      } else {
        read = isScalar(inner) ? { condition: inner } : { problem: `filter value at "${path}" must be a string, number, boolean, null or an operator object` }
      }
      const error = 'problem' in read ? read.problem : add(path, read.condition)
      if (error !== null) return { error, field: pointer(path) }
    }
    return null
  }
  const error = walk(input, '', 0)
  if (error !== null) return error
  return { filter: { ...filter } }
}
