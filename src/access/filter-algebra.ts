import type { FilterCondition, FilterOperators, FilterValue } from '../types.js'
import { conditionTest, OPERATORS, type Operand, type Operator } from './filter-operators.js'

/*
 * ANDing conditions on one path exactly, so the effective filter (client AND guards) can be
 * reported as one filter in the same language, and telling when such a path can match nothing.
 * Equality is handled as a one-value `$in` (and `$ne` as a one-value `$nin`) while merging:
 * `$in` lists intersect, `$nin` lists unite, bounds tighten, the longer of two compatible
 * prefixes wins. Two conditions no single operator can hold (`$exists` true and false,
 * prefixes `a` and `b`, a number bound and a string bound) leave `{$in: []}`: no value.
 */

/** The plain form (`{field: value}`): anything but an operator object. */
function isEquality (condition: FilterCondition): condition is FilterValue {
  return condition === null || typeof condition !== 'object'
}

type Mutable = { -readonly [K in keyof FilterOperators]?: FilterOperators[K] }

/** `{$in: []}`: the path matches nothing (and says so in the reply). */
const NOTHING: FilterOperators = Object.freeze({ $in: Object.freeze([]) })

/** Sorted by JSON text and without repeats, so equal sets print (and compare) equally. */
function valueSet (values: readonly FilterValue[]): FilterValue[] {
  const byText = new Map<string, FilterValue>()
  for (const value of values) byText.set(JSON.stringify(value), value)
  return [...byText.keys()].sort().map((text) => byText.get(text) as FilterValue)
}

function intersect (a: readonly FilterValue[], b: readonly FilterValue[]): FilterValue[] {
  const inB = new Set(b)
  return valueSet(a.filter((value) => inB.has(value)))
}

/** A condition as operators, equality written as one-value lists; null when it cannot hold. */
function expand (condition: FilterCondition): Mutable | null {
  if (isEquality(condition)) return { $in: [condition] }
  const out: Mutable = {}
  for (const op of OPERATORS) {
    const operand = condition[op]
    if (operand === undefined) continue
    const ok = op === '$eq'
      ? mergeOne(out, '$in', [operand as FilterValue])
      : op === '$ne'
        ? mergeOne(out, '$nin', [operand as FilterValue])
        : mergeOne(out, op, Array.isArray(operand) ? valueSet(operand as FilterValue[]) : operand as Operand)
    if (!ok) return null
  }
  return out
}

/** The tighter of two bounds of one kind, or null when they are of different types. */
function tighter (a: string | number, b: string | number, keep: 'max' | 'min'): string | number | null {
  if (typeof a !== typeof b) return null
  return (keep === 'max' ? a > b : a < b) ? a : b
}

/** Adds one operator's operand to `into`; false when no single operator can hold both. */
function mergeOne (into: Mutable, op: Operator, operand: Operand | boolean): boolean {
  const current = (into as Record<Operator, unknown>)[op]
  if (current === undefined) {
    (into as Record<Operator, unknown>)[op] = operand
    return true
  }
  switch (op) {
    case '$in': into.$in = intersect(current as FilterValue[], operand as FilterValue[]); return true
    case '$nin': into.$nin = valueSet([...(current as FilterValue[]), ...(operand as FilterValue[])]); return true
    case '$exists': return current === operand
    case '$prefix': {
      const [a, b] = [current as string, operand as string]
      if (!a.startsWith(b) && !b.startsWith(a)) return false
      into.$prefix = a.length >= b.length ? a : b
      return true
    }
    default: {
      const bound = tighter(current as string | number, operand as string | number, op === '$gt' || op === '$gte' ? 'max' : 'min')
      if (bound === null) return false;
      (into as Record<Operator, unknown>)[op] = bound
      return true
    }
  }
}

/** Back to the canonical form: one-value lists become `$eq`/`$ne`, lone equality the plain value. */
function canonical (ops: Mutable): FilterCondition {
  const out: Mutable = {}
  for (const op of OPERATORS) {
    const operand = (ops as Record<Operator, unknown>)[op]
    if (operand === undefined) continue
    if (op === '$in' && (operand as FilterValue[]).length === 1) out.$eq = (operand as FilterValue[])[0]
    else if (op === '$nin' && (operand as FilterValue[]).length === 1) out.$ne = (operand as FilterValue[])[0]
    else (out as Record<Operator, unknown>)[op] = operand
  }
  const keys = Object.keys(out)
  if (keys.length === 1 && keys[0] === '$eq') return out.$eq as FilterValue
  // `$eq` first: the order of OPERATORS, whatever the merge produced.
  return Object.fromEntries(OPERATORS.filter((op) => op in out).map((op) => [op, (out as Record<Operator, unknown>)[op]])) as FilterOperators
}

/** Exactly `a AND b` on one path, in canonical form (`{$in: []}` when they cannot both hold). */
export function andConditions (a: FilterCondition, b: FilterCondition): FilterCondition {
  const merged = expand(a)
  const other = expand(b)
  if (merged === null || other === null) return NOTHING
  for (const op of OPERATORS) {
    const operand = (other as Record<Operator, unknown>)[op]
    if (operand !== undefined && !mergeOne(merged, op, operand as Operand)) return NOTHING
  }
  return canonical(merged)
}

/** One condition in canonical form (operators in order, lists sorted, equality plain). */
export function canonicalCondition (condition: FilterCondition): FilterCondition {
  const expanded = expand(condition)
  return expanded === null ? NOTHING : canonical(expanded)
}

/** The condition's operators with their operands, equality as `$eq`. */
export function operatorsOf (condition: FilterCondition): Array<[Operator, Operand]> {
  if (isEquality(condition)) return [['$eq', condition]]
  return OPERATORS.filter((op) => condition[op] !== undefined).map((op) => [op, condition[op] as Operand])
}

/**
 * Whether some value (or a missing path) satisfies every operator of one canonical condition.
 * Exact: with a finite choice (`$eq`, `$in`, `$exists: false`) each choice is tried; otherwise
 * the smallest values of the range are tried, one more than there are excluded values.
 */
export function satisfiable (condition: FilterCondition): boolean {
  const ops = operatorsOf(condition)
  const tests = ops.map(([op, operand]) => conditionTest(op, operand))
  const passes = (value: unknown): boolean => tests.every((test) => test(value))
  const find = (op: Operator): Operand | undefined => ops.find(([o]) => o === op)?.[1]
  const choices = find('$eq') !== undefined ? [find('$eq') as FilterValue] : find('$in') as FilterValue[] | undefined
  if (choices !== undefined) return choices.some(passes)
  if (find('$exists') === false) return passes(undefined)
  const bounds = ops.filter(([op]) => op === '$gt' || op === '$gte' || op === '$lt' || op === '$lte')
  const types = new Set(bounds.map(([, operand]) => typeof operand))
  if (find('$prefix') !== undefined) types.add('string')
  if (types.size > 1) return false
  if (types.size === 0) return true // only exclusions left: infinitely many values remain
  const excluded = 1 + ((find('$nin') as FilterValue[] | undefined)?.length ?? 0) + (find('$ne') !== undefined ? 1 : 0)
  return types.has('number') ? numberWitness(find, passes) : stringWitness(find, passes, excluded)
}

type Find = (op: Operator) => Operand | undefined

/** Numbers are taken as dense: a non-empty interval holds a value the finite exclusions miss. */
function numberWitness (find: Find, passes: (value: unknown) => boolean): boolean {
  const low = Math.max(...[find('$gt'), find('$gte')].filter((v): v is number => v !== undefined), -Infinity)
  const high = Math.min(...[find('$lt'), find('$lte')].filter((v): v is number => v !== undefined), Infinity)
  if (low < high) return true
  return low === high && passes(low)
}

/**
 * The strings of a range that start with a prefix, in order, begin at max(lower bound, prefix)
 * and go on by appending U+0000 (the next string in code-unit order): if none of the first
 * `excluded + 1` of them passes, none does.
 */
function stringWitness (find: Find, passes: (value: unknown) => boolean, excluded: number): boolean {
  const gt = find('$gt') as string | undefined
  const gte = find('$gte') as string | undefined
  let value = gt !== undefined && (gte === undefined || gt >= gte) ? `${gt}\u0000` : (gte ?? '')
  const prefix = find('$prefix') as string | undefined
  if (prefix !== undefined && value < prefix) value = prefix
  for (let i = 0; i < excluded; i++, value += '\u0000') if (passes(value)) return true
  return false
}
