import type { Filter, FilterCondition, FilterOperators, FilterValue } from './types.js'

/*
 * The server's filter semantics, ported (the client may not import src/ outside src/client/;
 * the meaning is stated once in src/access/filter-operators.ts and test/unit/client-filter.test.ts
 * runs the same cases through both matchers):
 * - a missing path reads as `undefined`, which is not `null` and equals nothing;
 * - `$eq` (the plain form) and `$in` compare strictly (`===`); `$ne`/`$nin` are their negations;
 * - ranges match only a stored value of the bound's type (number or string, no cross-type order);
 * - `$exists: true` matches any stored value (null included), `false` a missing path;
 * - `$prefix` matches a stored string starting with it. Everything is ANDed.
 * The nested form (`{meta: {kind: 'x'}}`) reads as the dot path `meta.kind`, as on the server.
 */

type Operator = keyof FilterOperators

interface Condition {
  readonly segments: readonly string[]
  readonly test: (value: unknown) => boolean
}

/** A filter compiled once per subscription: pre-split paths and one test per operator. */
export interface ClientFilter {
  readonly conditions: readonly Condition[]
}

/** Reads pre-split path segments (own properties only, like the server); undefined when a step is missing. */
function readPath (record: unknown, segments: readonly string[]): unknown {
  let current: unknown = record
  for (const segment of segments) {
    if (current === null || typeof current !== 'object') return undefined
    if (!Object.prototype.hasOwnProperty.call(current, segment)) return undefined
    current = (current as Record<string, unknown>)[segment]
  }
  return current
}

function isPlainObject (value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false
  const proto = Object.getPrototypeOf(value) as unknown
  return proto === Object.prototype || proto === null
}

function conditionTest (op: Operator, operand: unknown): (value: unknown) => boolean {
  switch (op) {
    case '$eq': return (value) => value === operand
    case '$ne': return (value) => value !== operand
    case '$in': {
      const values = new Set(Array.isArray(operand) ? operand as FilterValue[] : [])
      return (value) => values.has(value as FilterValue)
    }
    case '$nin': {
      const values = new Set(Array.isArray(operand) ? operand as FilterValue[] : [])
      return (value) => !values.has(value as FilterValue)
    }
    case '$exists': return operand === true ? (value) => value !== undefined : (value) => value === undefined
    case '$prefix': return (value) => typeof value === 'string' && typeof operand === 'string' && value.startsWith(operand)
    default: return rangeTest(op, operand)
  }
}

/** Same type only: `typeof` is checked first, so `5 > '4'` is never asked. */
function rangeTest (op: Operator, bound: unknown): (value: unknown) => boolean {
  if (typeof bound !== 'string' && typeof bound !== 'number') return () => false
  const type = typeof bound
  switch (op) {
    case '$gt': return (value) => typeof value === type && (value as typeof bound) > bound
    case '$gte': return (value) => typeof value === type && (value as typeof bound) >= bound
    case '$lt': return (value) => typeof value === type && (value as typeof bound) < bound
    default: return (value) => typeof value === type && (value as typeof bound) <= bound
  }
}

/**
 * Compiles a filter as the client sent it. The server validated it (an invalid one was refused
 * before any event came), so this does not check operands again.
 */
export function compileClientFilter (filter: Filter): ClientFilter {
  const conditions: Condition[] = []
  const walk = (value: Record<string, unknown>, prefix: readonly string[]): void => {
    for (const [key, inner] of Object.entries(value)) {
      const segments = [...prefix, ...key.split('.')]
      if (isPlainObject(inner) && Object.keys(inner).some((k) => k.startsWith('$'))) {
        for (const [op, operand] of Object.entries(inner)) conditions.push({ segments, test: conditionTest(op as Operator, operand) })
      } else if (isPlainObject(inner)) {
        walk(inner, segments)
      } else {
        conditions.push({ segments, test: conditionTest('$eq', inner as FilterCondition) })
      }
    }
  }
  walk(filter, [])
  return { conditions }
}

/**
 * Whether `record` matches: the connection receives each event once even when several
 * subscriptions on the resource match, so the client decides which handlers get it (and which
 * updates are `left`).
 */
export function matchesFilter (record: unknown, filter: ClientFilter): boolean {
  for (const condition of filter.conditions) {
    if (!condition.test(readPath(record, condition.segments))) return false
  }
  return true
}
