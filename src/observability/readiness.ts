import { InvalidOptionError } from '../errors.js'
import { isPlainObject } from '../util/paths.js'
import { withTimeout } from '../util/timeout.js'

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

export interface CheckResult {
  status: 'healthy' | 'unhealthy'
  optional: boolean
  latency_ms: number
  error?: string
  [detail: string]: unknown
}

export interface ReadinessReport {
  ready: boolean
  checks: Record<string, CheckResult>
}

const NAME = /^[A-Za-z0-9_.:-]{1,64}$/

/** Validates a check; `where` names it in the error (an option path or 'addReadinessCheck'). */
export function validateReadinessCheck (input: unknown, where: string): ReadinessCheck {
  const fail = (message: string): never => { throw new InvalidOptionError(`${where}: ${message}`) }
  if (!isPlainObject(input)) fail('must be an object { name, check, timeout?, optional? }')
  const value = input as Record<string, unknown>
  for (const key of Object.keys(value)) if (!['name', 'check', 'timeout', 'optional'].includes(key)) fail(`unknown key "${key}"`)
  if (typeof value.name !== 'string' || !NAME.test(value.name)) fail('name must be 1-64 characters of letters, digits, _ . : -')
  if (typeof value.check !== 'function') fail('check must be a function')
  if (value.timeout !== undefined && (typeof value.timeout !== 'number' || !Number.isInteger(value.timeout) || value.timeout < 1)) {
    fail('timeout must be an integer >= 1 (ms)')
  }
  if (value.optional !== undefined && typeof value.optional !== 'boolean') fail('optional must be a boolean')
  return { name: value.name as string, check: value.check as ReadinessCheck['check'], timeout: (value.timeout as number | undefined) ?? 5000, optional: value.optional === true }
}

async function runOne (check: ReadinessCheck): Promise<CheckResult> {
  const started = performance.now()
  const optional = check.optional === true
  const latency = (): number => Math.round((performance.now() - started) * 1000) / 1000
  try {
    const answer = await withTimeout(check.check, check.timeout ?? 5000)
    if (typeof answer === 'boolean') return { status: answer ? 'healthy' : 'unhealthy', optional, latency_ms: latency() }
    if (!isPlainObject(answer) || typeof answer.healthy !== 'boolean') {
      return { status: 'unhealthy', optional, latency_ms: latency(), error: 'check returned neither a boolean nor { healthy }' }
    }
    const { healthy, status: _ignored, optional: _o, latency_ms: _l, ...details } = answer as Record<string, unknown>
    return { ...details, status: healthy === true ? 'healthy' : 'unhealthy', optional, latency_ms: latency() }
  } catch (error) {
    return { status: 'unhealthy', optional, latency_ms: latency(), error: error instanceof Error ? error.message : String(error) }
  }
}

/**
 * The readiness checks of one instance. Built-in checks and the app's checks live here, and
 * other modules (the Redis bus) add theirs through `fastify.realtime.addReadinessCheck`.
 */
export class ReadinessRegistry {
  private readonly checks = new Map<string, ReadinessCheck>()

  add (check: ReadinessCheck): void {
    const valid = validateReadinessCheck(check, `readiness check "${String((check as { name?: unknown })?.name)}"`)
    if (this.checks.has(valid.name)) throw new InvalidOptionError(`readiness check "${valid.name}" is already registered`)
    this.checks.set(valid.name, valid)
  }

  remove (name: string): boolean {
    return this.checks.delete(name)
  }

  get names (): string[] {
    return [...this.checks.keys()]
  }

  /** Runs every check concurrently; ready unless a required check failed or timed out. */
  async run (): Promise<ReadinessReport> {
    const entries = [...this.checks.values()]
    const results = await Promise.all(entries.map(runOne))
    const checks: Record<string, CheckResult> = {}
    let ready = true
    entries.forEach((check, i) => {
      const result = results[i] as CheckResult
      checks[check.name] = result
      if (result.status !== 'healthy' && check.optional !== true) ready = false
    })
    return { ready, checks }
  }
}
