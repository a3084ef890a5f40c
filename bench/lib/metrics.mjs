// Turns raw per-run results into named metrics, aggregates them over runs, and evaluates
// the targets as ratios within each run (median and min-max over runs).
import { median } from './common.mjs'

export const SYSTEMS = ['raw', 'realtime', 'bundled']
export const LABELS = { raw: 'raw ws (floor)', realtime: 's3db-realtime', bundled: 's3db.js bundled plugin' }
export const CLUSTER_LABEL = '2 × s3db-realtime + Redis'
/** Scenario (g): s3db-realtime without / with `compression: true`, clients offering deflate. */
export const DEFLATE_LABELS = { deflateOff: 's3db-realtime, no compression', deflateOn: 's3db-realtime, compression: true' }

/** Flat metrics of one system in one run; missing scenarios give undefined. */
export function metricsOf (s, config) {
  const m = {}
  const sc = s.scenarios ?? {}
  for (const [size, mem] of Object.entries(s.memory ?? {})) {
    m[`memKB@${size}`] = mem.heapPerConn / 1024
    m[`rssKB@${size}`] = mem.rssPerConn / 1024
  }
  if (sc.selective100) m.cpu100 = sc.selective100.triggered.cpuMicros / config.events
  if (sc.selectiveMax) {
    m.cpuMax = sc.selectiveMax.triggered.cpuMicros / config.events
    m.selP50 = sc.selectiveMax.latency.p50
    m.selP99 = sc.selectiveMax.latency.p99
  }
  if (sc.range100) m.rangeCpu100 = sc.range100.triggered.cpuMicros / config.events
  if (sc.rangeMax) m.rangeCpuMax = sc.rangeMax.triggered.cpuMicros / config.events
  if (sc.full) {
    m.fullDps = sc.full.deliveriesPerSec
    // Scenario (g) only: server CPU from first fire to the last delivery, per event.
    if (sc.full.serverCpuMicros !== undefined) m.fullCpu = sc.full.serverCpuMicros / config.fanoutEvents
    for (const p of ['p50', 'p95', 'p99', 'max']) m[`full_${p}`] = sc.full.latency[p]
  }
  for (const key of ['wtsSocket', 'wtsDb']) {
    const w = sc[key]
    if (w === undefined) continue
    m[`${key}_delivered`] = w.received / Math.max(1, w.expected)
    if (w.received > 0) for (const p of ['p50', 'p95', 'p99', 'max']) m[`${key}_${p}`] = w.latency[p]
  }
  for (const [key, r] of Object.entries(s.crud ?? {})) m[`crud_${key}`] = r.opsPerSec
  return m
}

export function aggregate (values) {
  const list = values.filter((v) => typeof v === 'number' && Number.isFinite(v))
  if (list.length === 0) return null
  return { median: median(list), min: Math.min(...list), max: Math.max(...list), n: list.length }
}

/** {system: {metric: aggregate}} over all runs ('cluster' is scenario f, 'deflate*' is g). */
export function aggregateRuns (results) {
  const out = {}
  for (const system of [...SYSTEMS, 'cluster', ...Object.keys(DEFLATE_LABELS)]) {
    const perRun = results.runs.map((run) => run[system] === undefined ? {} : metricsOf(run[system], results.config))
    const keys = new Set(perRun.flatMap((m) => Object.keys(m)))
    out[system] = {}
    for (const key of keys) out[system][key] = aggregate(perRun.map((m) => m[key]))
  }
  return out
}

/** The targets, each a ratio (or value) computed within one run. */
export function evaluateTargets (results) {
  const top = results.config.sizes[results.config.sizes.length - 1]
  const per = (fn) => aggregate(results.runs.map((run) => {
    const m = Object.fromEntries([...SYSTEMS, ...Object.keys(DEFLATE_LABELS)].map((s) => [s, run[s] === undefined ? {} : metricsOf(run[s], results.config)]))
    return fn(m)
  }))
  const ratio = (a, b) => (typeof a === 'number' && typeof b === 'number' && b !== 0 ? a / b : undefined)
  const targets = [
    { name: `Memory per connection at ${top} (auth + subscription + heartbeat) vs raw ws`, goal: '<= 1.15x', ok: (v) => v <= 1.15, unit: 'x', value: per((m) => ratio(m.realtime[`memKB@${top}`], m.raw[`memKB@${top}`])) },
    { name: `Full fan-out deliveries/s (${top} subscribers) vs raw ws`, goal: '>= 0.9x', ok: (v) => v >= 0.9, unit: 'x', value: per((m) => ratio(m.realtime.fullDps, m.raw.fullDps)) },
    { name: `Selective fan-out CPU/event: ${top} subscribers vs 100 (100 recipients each)`, goal: '<= 1.2x', ok: (v) => v <= 1.2, unit: 'x', value: per((m) => ratio(m.realtime.cpuMax, m.realtime.cpu100)) },
    { name: `Range-filter fan-out CPU/event: ${top} subscribers vs 100 (channel AND range, 100 recipients each)`, goal: '—', unit: 'x', value: per((m) => ratio(m.realtime.rangeCpuMax, m.realtime.rangeCpu100)) },
    { name: `Range-filter ${top}-vs-100 ratio / equality-filter ${top}-vs-100 ratio (same run)`, goal: '<= 1.1x', ok: (v) => v <= 1.1, unit: 'x', value: per((m) => ratio(ratio(m.realtime.rangeCpuMax, m.realtime.rangeCpu100), ratio(m.realtime.cpuMax, m.realtime.cpu100))) },
    { name: `Selective fan-out CPU/event at ${top}: bundled plugin / s3db-realtime`, goal: '>= 5x cheaper', ok: (v) => v >= 5, unit: 'x', value: per((m) => ratio(m.bundled.cpuMax, m.realtime.cpuMax)) },
    { name: `p99 write-to-screen, socket insert (100 recipients, ${top} connected)`, goal: '< 5 ms', ok: (v) => v < 5, unit: 'ms', value: per((m) => m.realtime.wtsSocket_p99) },
    { name: `p99 write-to-screen, db insert (100 recipients, ${top} connected)`, goal: '< 5 ms', ok: (v) => v < 5, unit: 'ms', value: per((m) => m.realtime.wtsDb_p99) },
    { name: 'CRUD get: socket ops/s vs REST ops/s (same server)', goal: '>= 1.5x', ok: (v) => v >= 1.5, unit: 'x', value: per((m) => ratio(m.realtime['crud_get-socket'], m.realtime['crud_get-rest'])) },
    { name: 'CRUD insert: socket ops/s vs REST ops/s (same server)', goal: '>= 1.5x', ok: (v) => v >= 1.5, unit: 'x', value: per((m) => ratio(m.realtime['crud_insert-socket'], m.realtime['crud_insert-rest'])) },
    // Scenario (g), informational: compressed / uncompressed, no target.
    { name: `Compression: memory per connection at ${top}, compression: true / off`, goal: '—', unit: 'x', value: per((m) => ratio(m.deflateOn[`memKB@${top}`], m.deflateOff[`memKB@${top}`])) },
    { name: `Compression: full fan-out server CPU/event, first fire to last delivery (${top} subscribers), compression: true / off`, goal: '—', unit: 'x', value: per((m) => ratio(m.deflateOn.fullCpu, m.deflateOff.fullCpu)) },
    { name: `Compression: full fan-out deliveries/s (${top} subscribers), compression: true / off`, goal: '—', unit: 'x', value: per((m) => ratio(m.deflateOn.fullDps, m.deflateOff.fullDps)) }
  ]
  for (const t of targets) t.status = t.value === null ? 'not measured' : t.ok === undefined ? 'informational' : t.ok(t.value.median) ? 'met' : 'missed'
  return targets
}
