import { InvalidOptionError } from '../errors.js'
import { DEFAULTS } from '../options/defaults.js'
import { validateReadinessCheck, type ReadinessCheck } from '../options/health.js'
import { isPlainObject } from '../util/paths.js'
import { withTimeout } from '../util/timeout.js'

export type { ReadinessAnswer, ReadinessCheck } from '../options/health.js'

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

async function runOne (check: ReadinessCheck): Promise<CheckResult> {
  const started = performance.now()
  const optional = check.optional === true
  const latency = (): number => Math.round((performance.now() - started) * 1000) / 1000
  try {
    const answer = await withTimeout(check.check, check.timeout ?? DEFAULTS.readinessCheck.timeout)
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
