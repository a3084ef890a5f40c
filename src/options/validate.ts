import { InvalidOptionError } from '../errors.js'
import { isPlainObject } from '../util/paths.js'

/** Throws the error of a bad value; the CLI passes its own (ConfigError) to the same checks. */
export type Fail = (message: string) => never

/** A bad option: InvalidOptionError (S3DB_REALTIME_INVALID_OPTION) with a message naming it. */
export const fail: Fail = (message) => {
  throw new InvalidOptionError(message)
}

/** An integer >= `min`, or `fallback` when absent. */
export function positiveInteger (value: unknown, name: string, fallback: number, min = 1): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    fail(`${name} must be an integer >= ${min} (got ${JSON.stringify(value)})`)
  }
  return value
}

/** An integer in [min, max]; a numeric string counts (environment variables are strings). */
export function integerBetween (value: unknown, name: string, min: number, max: number, onFail: Fail = fail): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) onFail(`${name} must be an integer from ${min} to ${max} (got ${JSON.stringify(value)})`)
  return n
}

export function stringList (value: unknown, name: string): string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v === '')) {
    fail(`${name} must be an array of non-empty strings`)
  }
  return [...value] as string[]
}

export function nonEmptyString (value: unknown, name: string, onFail: Fail = fail): string {
  if (typeof value !== 'string' || value === '') onFail(`${name} must be a non-empty string`)
  return value
}

/** A boolean, or `fallback` when absent. */
export function flag (value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') fail(`${name} must be a boolean`)
  return value
}

export function oneOf<T extends string> (value: unknown, name: string, allowed: readonly T[], onFail: Fail = fail): T {
  if (!allowed.includes(value as T)) onFail(`${name} must be one of ${allowed.join(', ')}`)
  return value as T
}

/** A plain object, or `{}` when absent. */
export function objectOrEmpty (value: unknown, name: string, onFail: Fail = fail): Record<string, unknown> {
  if (value === undefined) return {}
  if (!isPlainObject(value)) onFail(`${name} must be an object`)
  return value
}

/**
 * Refuses keys a group does not know. `what` completes "is not a known …" (groups say it their
 * own way: "option", "channels option", "resource option"); `listExpected` appends the list.
 */
export function onlyKeys (
  value: Record<string, unknown>, name: string, keys: readonly string[], what = 'option', listExpected = false
): void {
  for (const key of Object.keys(value)) {
    if (!keys.includes(key)) fail(`${name}.${key} is not a known ${what}${listExpected ? ` (expected ${keys.join(', ')})` : ''}`)
  }
}

/** A route path: starts with "/" and does not end with one ('' allowed: a prefix). */
export function routePath (value: unknown, name: string, fallback: string): string {
  if (value === undefined) return fallback
  if (typeof value !== 'string' || (value !== '' && (!value.startsWith('/') || value.endsWith('/')))) {
    fail(`${name} must be a path starting with "/" and not ending with "/" (got ${JSON.stringify(value)})`)
  }
  return value
}

/** An absolute http(s) URL. */
export function httpUrl (value: unknown, name: string): URL {
  const text = nonEmptyString(value, name)
  let url: URL
  try {
    url = new URL(text)
  } catch {
    fail(`${name} must be an absolute http(s) URL`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') fail(`${name} must be an absolute http(s) URL`)
  return url
}
