// Shared by the bench processes. Timestamps use the monotonic clock (CLOCK_MONOTONIC is
// system-wide on Linux), so a t0 stamped in one process can be compared with a receipt time
// in another without wall-clock skew.
import { randomUUID } from 'node:crypto'
import net from 'node:net'

/** Milliseconds on the system-wide monotonic clock, with sub-microsecond precision. */
export const now = () => Number(process.hrtime.bigint()) / 1e6

/** A free TCP port on loopback (probe, read, release). */
export async function freePort () {
  const probe = net.createServer()
  await new Promise((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const { port } = probe.address()
  await new Promise((resolve) => probe.close(resolve))
  return port
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
export const tick = () => new Promise((resolve) => setImmediate(resolve))

export const JWT_SECRET = 'bench-secret-please-change-0123456789'

/** Padding that brings an `event` frame to about 200 bytes in every system. */
export const CONTENT = 'x'.repeat(40)

/** Channel value for the i-th connection: 100 consecutive connections share one value. */
export const channelOf = (i) => `ch-${Math.floor(i / 100) % 100}`

/**
 * Scenario (c2), range filters: each connection's filter on `ranged` is its channel AND this
 * range on `n` (every event's `n` is inside it). The equality picks the index bucket (1% of the
 * subscribers); the range is checked only on those candidates, so the extra subscribers of the
 * large run should cost what they cost the equality filter.
 */
export const RANGE = { $gte: 1, $lt: 1e15 }
export const inRange = (n) => n >= RANGE.$gte && n < RANGE.$lt

/** The record an event carries: `n` identifies it, `t0` is when its write started. */
export function eventRecord (n, channel, t0 = now()) {
  return { id: `ev-${n}`, channel, content: CONTENT, n, t0 }
}

/** Attributes of the resources every system serves. */
export const RESOURCE_ATTRIBUTES = {
  content: 'string|required',
  channel: 'string|required',
  n: 'number|optional',
  t0: 'number|optional'
}

export async function createBenchDatabase () {
  const { Database } = await import('s3db.js')
  const db = new Database({ connectionString: `memory://bench-${randomUUID()}/db`, logLevel: 'silent' })
  await db.connect()
  for (const name of ['messages', 'feed', 'ranged']) {
    await db.createResource({ name, attributes: RESOURCE_ATTRIBUTES, timestamps: false, paranoid: false })
  }
  return db
}

/** Signs an HS256 JWT (fast-jwt); every system gets the same kind of token and verifies it. */
export async function signToken (sub) {
  const { createSigner } = await import('fast-jwt')
  return createSigner({ key: JWT_SECRET, expiresIn: 3_600_000 })({ sub, role: 'user' })
}

/** Sorted-copy percentile (nearest rank); fine for the sample sizes used here. */
export function percentiles (values) {
  if (values.length === 0) return { p50: null, p95: null, p99: null, max: null, count: 0 }
  const sorted = Float64Array.from(values).sort()
  const at = (p) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99), max: sorted[sorted.length - 1], count: sorted.length }
}

export function median (values) {
  const list = values.filter((v) => typeof v === 'number' && Number.isFinite(v)).sort((a, b) => a - b)
  if (list.length === 0) return null
  const mid = Math.floor(list.length / 2)
  return list.length % 2 === 1 ? list[mid] : (list[mid - 1] + list[mid]) / 2
}

/** Runs `fn` with at most `limit` in flight; used to open thousands of sockets politely. */
export async function inBatches (count, limit, fn) {
  let next = 0
  const worker = async () => {
    while (next < count) {
      const i = next++
      await fn(i)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker))
}

/** IPC request/response over a child process channel: `{id, cmd, ...}` -> `{id, ok, result|error}`. */
export function ipcServe (handlers) {
  process.on('message', async (msg) => {
    const handler = handlers[msg.cmd]
    try {
      if (handler === undefined) throw new Error(`unknown command ${msg.cmd}`)
      const result = await handler(msg)
      process.send({ id: msg.id, ok: true, result })
    } catch (error) {
      process.send({ id: msg.id, ok: false, error: String(error?.stack ?? error) })
    }
  })
}
