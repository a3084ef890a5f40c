import type { FilterOperators, FilterValue } from '../types.js'

/*
 * The filter operators and what each one means, stated once (docs/protocol.md, "Filters"):
 *
 * - The value at a path is read from the record's own fields; a missing path reads as
 *   `undefined`, which is not `null` and equals nothing.
 * - `$eq` (the plain form `{field: value}`) and `$in` compare strictly (`===`): `1` is not `'1'`,
 *   `null` equals only a stored `null`, arrays and objects equal nothing.
 * - `$ne` and `$nin` are exactly their negations, so a record without the field matches them.
 * - `$gt`, `$gte`, `$lt`, `$lte` take a number or a string and match only a stored value of the
 *   same type (no cross-type ordering: a number never matches a string range). Numbers compare
 *   numerically, strings by UTF-16 code units (JavaScript's `<`); dates are strings, so compare
 *   them as ISO 8601 text in one zone (`2024-05-01T00:00:00.000Z`).
 * - `$exists: true` matches any stored value, `null` included; `$exists: false` a missing path.
 * - `$prefix` matches a stored string that starts with it.
 * Several operators on one field, and several fields, are ANDed.
 */

export type Operator = keyof FilterOperators

/** Every operator, in the order a canonical filter lists them. */
export const OPERATORS: readonly Operator[] = ['$eq', '$ne', '$gt', '$gte', '$lt', '$lte', '$in', '$nin', '$exists', '$prefix']

/** What an operator takes: one value, or a list of values (`$in`, `$nin`). */
export type Operand = FilterValue | readonly FilterValue[]

/** Documented bounds of a filter (docs/protocol.md): fields per filter, values per `$in`/`$nin`. */
export const FILTER_LIMITS = {
  /** Fields (paths) in one filter. */
  fields: 32,
  /** Values in one client `$in` or `$nin` list. */
  inValues: 100,
  /** Values in one `$in` or `$nin` list a guard forces (a user's teams, rooms, ...). */
  guardInValues: 1000,
  /** Nesting depth of the nested form (`{meta: {kind: 'x'}}`). */
  depth: 8
} as const

const OPERATOR_SET: ReadonlySet<string> = new Set(OPERATORS)

export function isOperator (key: string): key is Operator {
  return OPERATOR_SET.has(key)
}

/** A value a filter may compare with. NaN and Infinity (which JSON cannot carry) are not. */
export function isScalar (value: unknown): value is FilterValue {
  return value === null || typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))
}

/** A finite number or a string: what the range operators compare. */
export function isOrderable (value: unknown): value is string | number {
  return typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value))
}

export function isRange (op: Operator): boolean {
  return op === '$gt' || op === '$gte' || op === '$lt' || op === '$lte'
}

/** Why `operand` cannot go with `op` (a sentence naming the operator), or null. */
export function operandProblem (op: Operator, operand: unknown, maxIn: number): string | null {
  switch (op) {
    case '$eq':
    case '$ne':
      return isScalar(operand) ? null : `"${op}" needs a string, number, boolean or null`
    case '$in':
    case '$nin':
      if (!Array.isArray(operand) || !operand.every(isScalar)) return `"${op}" needs a list of strings, numbers, booleans or null`
      return operand.length > maxIn ? `"${op}" has more than ${maxIn} values` : null
    case '$exists':
      return typeof operand === 'boolean' ? null : `"${op}" needs true or false`
    case '$prefix':
      return typeof operand === 'string' ? null : `"${op}" needs a string`
    default:
      return isOrderable(operand) ? null : `"${op}" needs a number or a string`
  }
}

/** The test one condition applies to the value at its path (`undefined`: the path is missing). */
export function conditionTest (op: Operator, operand: Operand): (value: unknown) => boolean {
  switch (op) {
    case '$eq': return (value) => value === operand
    case '$ne': return (value) => value !== operand
    case '$in': {
      const values = new Set(operand as readonly FilterValue[])
      return (value) => values.has(value as FilterValue)
    }
    case '$nin': {
      const values = new Set(operand as readonly FilterValue[])
      return (value) => !values.has(value as FilterValue)
    }
    case '$exists': return operand === true ? (value) => value !== undefined : (value) => value === undefined
    case '$prefix': return (value) => typeof value === 'string' && value.startsWith(operand as string)
    default: return rangeTest(op, operand as string | number)
  }
}

/** Same type only: `typeof` is checked first, so `5 > '4'` is never asked. */
function rangeTest (op: Operator, bound: string | number): (value: unknown) => boolean {
  const type = typeof bound
  switch (op) {
    case '$gt': return (value) => typeof value === type && (value as typeof bound) > bound
    case '$gte': return (value) => typeof value === type && (value as typeof bound) >= bound
    case '$lt': return (value) => typeof value === type && (value as typeof bound) < bound
    default: return (value) => typeof value === type && (value as typeof bound) <= bound
  }
}
