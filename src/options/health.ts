import type { onRequestHookHandler } from 'fastify'
import { InvalidOptionError } from '../errors.js'
import { isPlainObject } from '../util/paths.js'
import { DEFAULTS } from './defaults.js'
import { fail, flag, onlyKeys, positiveInteger, routePath } from './validate.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * Set on s3db-realtime's health routes (true by default) and metrics route (false by
     * default): an app-wide auth hook can let them through with
     * `if (request.routeOptions.config.public === true) return`. Apps may use it on their own routes.
     */
    public?: boolean
    /** Which s3db-realtime operations route this is. */
    s3dbRealtime?: 'health' | 'metrics'
  }
}

/**
 * A route-level hook run before a health or metrics route (e.g. a bearer check for the
 * Prometheus scraper). Reply from it to refuse; return to let the request through.
 */
export type OperationsHook = onRequestHookHandler | onRequestHookHandler[]

/**
 * What a check may answer: `true`/`false`, or `{ healthy, ...details }` (the seed's shape).
 * Throwing or rejecting counts as unhealthy, with the error's message as detail.
 */
export type ReadinessAnswer = boolean | { healthy: boolean, [detail: string]: unknown }

export interface ReadinessCheck {
  name: string
  check: () => ReadinessAnswer | Promise<ReadinessAnswer>
  /** ms before the check counts as failed. @default 5000 */
  timeout?: number
  /** A failing optional check is reported but does not make the instance unready. @default false */
  optional?: boolean
}

/**
 * `health` option. Off in the Fastify plugin unless given (`true` or an object): the app's own
 * routes are its business. On by default in `WebSocketPlugin` and the CLI server.
 */
export interface HealthOptions {
  /** On once the group is given. @default true */
  enabled?: boolean
  /** Put before `/health`, e.g. '/ops' serves '/ops/health'. @default '' */
  prefix?: string
  /**
   * Mark the routes `config: { public: true }`, so an app-wide auth hook can let probes through
   * (`if (request.routeOptions.config.public === true) return`). @default true
   */
  public?: boolean
  /** Hook(s) run before each health route (the app's own hooks run first). */
  onRequest?: OperationsHook
  readiness?: {
    /** Extra checks run by `/health/ready`, after the built-in `s3db` and `websocket` checks. @default [] */
    checks?: ReadinessCheck[]
    /** Time the built-in `s3db` round trip may take, ms. @default 5000 */
    s3dbTimeout?: number
  }
}

export interface ResolvedHealth {
  readonly prefix: string
  readonly public: boolean
  readonly onRequest: readonly onRequestHookHandler[]
  readonly checks: readonly ReadinessCheck[]
  readonly s3dbTimeout: number
}

const CHECK_NAME = /^[A-Za-z0-9_.:-]{1,64}$/

/** Validates a check; `where` names it in the error (an option path or 'addReadinessCheck'). */
export function validateReadinessCheck (input: unknown, where: string): ReadinessCheck {
  const refuse = (message: string): never => { throw new InvalidOptionError(`${where}: ${message}`) }
  if (!isPlainObject(input)) refuse('must be an object { name, check, timeout?, optional? }')
  const value = input as Record<string, unknown>
  for (const key of Object.keys(value)) if (!['name', 'check', 'timeout', 'optional'].includes(key)) refuse(`unknown key "${key}"`)
  if (typeof value.name !== 'string' || !CHECK_NAME.test(value.name)) refuse('name must be 1-64 characters of letters, digits, _ . : -')
  if (typeof value.check !== 'function') refuse('check must be a function')
  if (value.timeout !== undefined && (typeof value.timeout !== 'number' || !Number.isInteger(value.timeout) || value.timeout < 1)) {
    refuse('timeout must be an integer >= 1 (ms)')
  }
  if (value.optional !== undefined && typeof value.optional !== 'boolean') refuse('optional must be a boolean')
  return {
    name: value.name as string,
    check: value.check as ReadinessCheck['check'],
    timeout: (value.timeout as number | undefined) ?? DEFAULTS.readinessCheck.timeout,
    optional: value.optional === undefined ? DEFAULTS.readinessCheck.optional : value.optional === true
  }
}

/**
 * An opt-in group: `undefined` is `omitted` (off in the plugin), `true` is on, and an object is
 * on unless its `enabled` (default `enabledWhenGiven`) says otherwise.
 */
export function onOff (value: unknown, name: string, omitted: boolean, enabledWhenGiven: boolean): boolean | Record<string, unknown> {
  const given = value === undefined ? omitted : value
  if (given === true) return true
  if (given === false) return false
  if (!isPlainObject(given)) fail(`${name} must be a boolean or an object`)
  if (given.enabled !== undefined && typeof given.enabled !== 'boolean') fail(`${name}.enabled must be a boolean`)
  return (given.enabled ?? enabledWhenGiven) ? given : false
}

export function hooks (value: unknown, name: string): onRequestHookHandler[] {
  if (value === undefined) return []
  const list = Array.isArray(value) ? value : [value]
  if (list.some((hook) => typeof hook !== 'function')) fail(`${name} must be a function (request, reply) or an array of them`)
  return list as onRequestHookHandler[]
}

const BUILT_IN_CHECKS = ['s3db', 'websocket']

export function resolveHealth (input: unknown): ResolvedHealth | null {
  const value = onOff(input, 'health', DEFAULTS.core.health, DEFAULTS.health.enabled)
  if (value === false) return null
  const health = value === true ? {} : value
  onlyKeys(health, 'health', ['enabled', 'prefix', 'readiness', 'public', 'onRequest'])
  const readiness = health.readiness ?? {}
  if (!isPlainObject(readiness)) fail('health.readiness must be an object')
  onlyKeys(readiness, 'health.readiness', ['checks', 's3dbTimeout'])
  const checks = readiness.checks ?? DEFAULTS.health.readiness.checks
  if (!Array.isArray(checks)) fail('health.readiness.checks must be an array of { name, check, timeout?, optional? }')
  const names = new Set(BUILT_IN_CHECKS)
  const resolved = checks.map((check, i) => validateReadinessCheck(check, `health.readiness.checks[${i}]`))
  for (const check of resolved) {
    if (names.has(check.name)) fail(`health.readiness.checks: duplicate check name "${check.name}"`)
    names.add(check.name)
  }
  return {
    prefix: routePath(health.prefix, 'health.prefix', DEFAULTS.health.prefix),
    public: flag(health.public, 'health.public', DEFAULTS.health.public),
    onRequest: hooks(health.onRequest, 'health.onRequest'),
    checks: resolved,
    s3dbTimeout: positiveInteger(readiness.s3dbTimeout, 'health.readiness.s3dbTimeout', DEFAULTS.health.readiness.s3dbTimeout)
  }
}
