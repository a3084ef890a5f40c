import type { ReconnectOptions } from './types.js'

export interface ResolvedReconnect {
  readonly initialDelay: number
  readonly maxDelay: number
  readonly factor: number
  readonly jitter: number
  readonly maxAttempts: number
}

function check (value: number | undefined, name: string, fallback: number, min: number, max = Infinity): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || Number.isNaN(value) || value < min || value > max) {
    throw new TypeError(`reconnect.${name} must be a number between ${min} and ${max}`)
  }
  return value
}

export function resolveReconnect (input: ReconnectOptions): ResolvedReconnect {
  const initialDelay = check(input.initialDelay, 'initialDelay', 500, 0)
  return {
    initialDelay,
    maxDelay: check(input.maxDelay, 'maxDelay', Math.max(10_000, initialDelay), initialDelay),
    factor: check(input.factor, 'factor', 2, 1),
    jitter: check(input.jitter, 'jitter', 0.5, 0, 1),
    maxAttempts: check(input.maxAttempts, 'maxAttempts', Infinity, 1)
  }
}

/**
 * Delay before retry number `attempt` (0-based). Jitter spreads clients that lost the same
 * server so they do not all come back in the same instant: the delay is scaled down by a
 * random fraction of up to `jitter`.
 */
export function backoffDelay (policy: ResolvedReconnect, attempt: number, random: () => number = Math.random): number {
  const base = Math.min(policy.maxDelay, policy.initialDelay * Math.pow(policy.factor, attempt))
  return Math.round(base * (1 - policy.jitter * random()))
}
