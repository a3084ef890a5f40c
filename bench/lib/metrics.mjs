// Turns raw per-run results into named metrics, aggregates them over runs, and evaluates
// the issue's targets as ratios within each run (median and min-max over runs).
import { median } from './common.mjs'

export const SYSTEMS = ['raw', 'rawFramed', 'realtime', 'bundled']
export const LABELS = { raw: 'raw ws (floor)', rawFramed: 'raw ws, pre-framed', realtime: 's3db-realtime', bundled: 's3db.js bundled plugin' }
export const CLUSTER_LABEL = '2 × s3db-realtime + Redis'
/** Scenario (g): s3db-realtime without / with `compression: true`, clients offering deflate. */
export const DEFLATE_LABELS = { deflateOff: 's3db-realtime, no compression', deflateOn: 's3db-realtime, compression: true' }

/** Every key a run may hold: the four systems, scenario (f) and scenario (g)'s two apps. */
export const ALL_SYSTEMS = [...SYSTEMS, 'cluster', ...Object.keys(DEFLATE_LABELS)]

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
    m.selDrainMs = sc.selectiveMax.lastAt - sc.selectiveMax.startedAt
  }
  // Scenario (f) only: the open-loop burst next to the paced loop above.
  if (sc.selectiveBurst) {
    m.selBurstP50 = sc.selectiveBurst.latency.p50
    m.selBurstP99 = sc.selectiveBurst.latency.p99
    m.selBurstDrainMs = sc.selectiveBurst.lastAt - sc.selectiveBurst.startedAt
  }
  if (sc.fullBurst) {
    m.fullBurstDps = sc.fullBurst.deliveriesPerSec
    m.fullBurstDrainMs = sc.fullBurst.lastAt - sc.fullBurst.startedAt
    for (const p of ['p50', 'p99']) m[`fullBurst_${p}`] = sc.fullBurst.latency[p]
  }
  if (sc.range100) m.rangeCpu100 = sc.range100.triggered.cpuMicros / config.events
  if (sc.rangeMax) m.rangeCpuMax = sc.rangeMax.triggered.cpuMicros / config.events
  if (sc.full) {
    m.fullDps = sc.full.deliveriesPerSec
    m.fullDrainMs = sc.full.lastAt - sc.full.startedAt
    // Scenario (g) only: server CPU from first fire to the last delivery, per event.
    if (sc.full.serverCpuMicros !== undefined) m.fullCpu = sc.full.serverCpuMicros / config.fanoutEvents
    for (const p of ['p50', 'p95', 'p99', 'max']) m[`full_${p}`] = sc.full.latency[p]
  }
  for (const key of ['wtsSocket', 'wtsDb', 'pubScreen']) {
    const w = sc[key]
    if (w === undefined) continue
    m[`${key}_delivered`] = w.received / Math.max(1, w.expected)
    if (w.received > 0) for (const p of ['p50', 'p95', 'p99', 'max']) m[`${key}_${p}`] = w.latency[p]
  }
  if (s.insertOwn?.count > 0) for (const p of ['p50', 'p99', 'max']) m[`insertOwn_${p}`] = s.insertOwn[p]
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
  for (const system of ALL_SYSTEMS) {
    const perRun = results.runs.map((run) => run[system] === undefined ? {} : metricsOf(run[system], results.config))
    const keys = new Set(perRun.flatMap((m) => Object.keys(m)))
    out[system] = {}
    for (const key of keys) out[system][key] = aggregate(perRun.map((m) => m[key]))
  }
  return out
}

/**
 * The issue's targets, each a ratio computed within one run (every system of a run shares the
 * box's load at that time), aggregated as median and min–max over runs. Rows without `ok` are
 * informational: the parts of a ratio, or bars that were replaced.
 */
export function evaluateTargets (results) {
  const top = results.config.sizes[results.config.sizes.length - 1]
  const perRun = results.runs.map((run) => Object.fromEntries(ALL_SYSTEMS.map((s) => [s, run[s] === undefined ? {} : metricsOf(run[s], results.config)])))
  const per = (fn) => {
    const values = perRun.map(fn)
    const a = aggregate(values)
    return a === null ? null : { ...a, values: values.filter((v) => typeof v === 'number' && Number.isFinite(v)) }
  }
  const ratio = (a, b) => (typeof a === 'number' && typeof b === 'number' && b !== 0 ? a / b : undefined)
  const sum = (a, b) => (typeof a === 'number' && typeof b === 'number' ? a + b : undefined)
  /** The floor under a socket insert's write-to-screen (see the report's (d) section). */
  const wtsFloor = (m) => sum(m.raw.pubScreen_p99, m.raw.insertOwn_p99)
  const selRatio = (s) => ratio(s.cpuMax, s.cpu100)
  const targets = [
    // (a)
    { group: 'a', name: `Memory per idle authenticated subscribed connection at ${top}: s3db-realtime / raw ws`, goal: '<= 1.05x', ok: (v) => v <= 1.05, unit: 'x', value: per((m) => ratio(m.realtime[`memKB@${top}`], m.raw[`memKB@${top}`])) },
    // (b)
    { group: 'b', name: `Full fan-out deliveries/s (${top} subscribers): s3db-realtime / raw ws (ws.send per socket)`, goal: '>= 1.2x', ok: (v) => v >= 1.2, unit: 'x', value: per((m) => ratio(m.realtime.fullDps, m.raw.fullDps)) },
    { group: 'b', name: `Full fan-out deliveries/s (${top} subscribers): s3db-realtime / raw ws pre-framed`, goal: '>= 0.95x', ok: (v) => v >= 0.95, unit: 'x', value: per((m) => ratio(m.realtime.fullDps, m.rawFramed.fullDps)) },
    { group: 'b', name: `Full fan-out deliveries/s (${top} subscribers): raw ws pre-framed / raw ws (what pre-framing buys the floor)`, goal: '—', unit: 'x', value: per((m) => ratio(m.rawFramed.fullDps, m.raw.fullDps)) },
    // (c)
    { group: 'c', name: `Selective CPU/event, ${top} vs 100 subscribers (100 recipients each): s3db-realtime's ratio / raw ws's ratio`, goal: '<= 1.05x', ok: (v) => v <= 1.05, unit: 'x', value: per((m) => ratio(selRatio(m.realtime), selRatio(m.raw))) },
    { group: 'c', name: `Selective CPU/event, ${top} vs 100 subscribers: s3db-realtime (the previous bar, absolute)`, goal: '(was <= 1.2x)', unit: 'x', value: per((m) => selRatio(m.realtime)) },
    { group: 'c', name: `Selective CPU/event, ${top} vs 100 subscribers: raw ws`, goal: '—', unit: 'x', value: per((m) => selRatio(m.raw)) },
    { group: 'c', name: `Selective CPU/event, ${top} vs 100 subscribers: raw ws pre-framed`, goal: '—', unit: 'x', value: per((m) => selRatio(m.rawFramed)) },
    { group: 'c', name: `Range-filter CPU/event, ${top} vs 100 subscribers (channel AND range, 100 recipients each)`, goal: '—', unit: 'x', value: per((m) => ratio(m.realtime.rangeCpuMax, m.realtime.rangeCpu100)) },
    { group: 'c', name: `Range-filter ${top}-vs-100 ratio / equality-filter ${top}-vs-100 ratio (same run)`, goal: '<= 1.1x', ok: (v) => v <= 1.1, unit: 'x', value: per((m) => ratio(ratio(m.realtime.rangeCpuMax, m.realtime.rangeCpu100), selRatio(m.realtime))) },
    { group: 'c', name: `Selective CPU/event at ${top}: bundled plugin / s3db-realtime`, goal: '>= 5x cheaper', ok: (v) => v >= 5, unit: 'x', value: per((m) => ratio(m.bundled.cpuMax, m.realtime.cpuMax)) },
    // (d)
    { group: 'd', name: `Write-to-screen p99, socket insert (100 recipients, ${top} connected) / (raw ws publish-to-screen p99 + s3db insert p99)`, goal: '<= 1.1x', ok: (v) => v <= 1.1, unit: 'x', value: per((m) => ratio(m.realtime.wtsSocket_p99, wtsFloor(m))) },
    { group: 'd', name: 'the floor: raw ws publish-to-screen p99 + s3db insert p99', goal: '—', unit: 'ms', value: per(wtsFloor) },
    { group: 'd', name: `Write-to-screen p99, socket insert: s3db-realtime (the previous bar, absolute)`, goal: '(was < 5 ms)', unit: 'ms', value: per((m) => m.realtime.wtsSocket_p99) },
    { group: 'd', name: `Write-to-screen p99, db insert / the same floor`, goal: '—', unit: 'x', value: per((m) => ratio(m.realtime.wtsDb_p99, wtsFloor(m))) },
    // (e)
    { group: 'e', name: `CRUD get: socket ops/s / the same s3db call in-process (${results.config.crudConcurrency} concurrent)`, goal: '>= 0.9x', ok: (v) => v >= 0.9, unit: 'x', value: per((m) => ratio(m.realtime['crud_get-socket'], m.realtime['crud_get-inprocess'])) },
    { group: 'e', name: `CRUD insert: socket ops/s / the same s3db call in-process (${results.config.crudConcurrency} concurrent)`, goal: '>= 0.9x', ok: (v) => v >= 0.9, unit: 'x', value: per((m) => ratio(m.realtime['crud_insert-socket'], m.realtime['crud_insert-inprocess'])) },
    { group: 'e', name: 'CRUD get, raw ws: socket ops/s / in-process (what a socket round trip costs the floor)', goal: '—', unit: 'x', value: per((m) => ratio(m.raw['crud_get-socket'], m.raw['crud_get-inprocess'])) },
    { group: 'e', name: 'CRUD insert, raw ws: socket ops/s / in-process', goal: '—', unit: 'x', value: per((m) => ratio(m.raw['crud_insert-socket'], m.raw['crud_insert-inprocess'])) },
    { group: 'e', name: 'CRUD get over the socket: s3db-realtime / raw ws', goal: '—', unit: 'x', value: per((m) => ratio(m.realtime['crud_get-socket'], m.raw['crud_get-socket'])) },
    { group: 'e', name: 'CRUD insert over the socket: s3db-realtime / raw ws', goal: '—', unit: 'x', value: per((m) => ratio(m.realtime['crud_insert-socket'], m.raw['crud_insert-socket'])) },
    { group: 'e', name: 'CRUD get: socket ops/s / REST ops/s (same server)', goal: '>= 1x', ok: (v) => v >= 1, unit: 'x', value: per((m) => ratio(m.realtime['crud_get-socket'], m.realtime['crud_get-rest'])) },
    { group: 'e', name: 'CRUD insert: socket ops/s / REST ops/s (same server)', goal: '>= 1x', ok: (v) => v >= 1, unit: 'x', value: per((m) => ratio(m.realtime['crud_insert-socket'], m.realtime['crud_insert-rest'])) },
    // (f)
    { group: 'f', name: 'Cluster selective p50 (paced) / single instance selective p50', goal: '<= 2x', ok: (v) => v <= 2, unit: 'x', value: per((m) => ratio(m.cluster.selP50, m.realtime.selP50)) },
    { group: 'f', name: 'Cluster selective p99 (paced) / single instance selective p99', goal: '<= 3x', ok: (v) => v <= 3, unit: 'x', value: per((m) => ratio(m.cluster.selP99, m.realtime.selP99)) },
    { group: 'f', name: 'Cluster full fan-out p99 (paced) / single instance full fan-out p99', goal: '<= 1.5x', ok: (v) => v <= 1.5, unit: 'x', value: per((m) => ratio(m.cluster.full_p99, m.realtime.full_p99)) },
    { group: 'f', name: 'Cluster socket-insert ops/s (both instances, write barrier) / single instance socket-insert ops/s', goal: '>= 0.7x', ok: (v) => v >= 0.7, unit: 'x', value: per((m) => ratio(m.cluster['crud_insert-socket'], m.realtime['crud_insert-socket'])) },
    { group: 'f', name: 'Cluster selective burst drain (first fire to last delivery) / single instance', goal: '—', unit: 'x', value: per((m) => ratio(m.cluster.selBurstDrainMs, m.realtime.selDrainMs)) },
    { group: 'f', name: 'Cluster full fan-out burst drain / single instance', goal: '—', unit: 'x', value: per((m) => ratio(m.cluster.fullBurstDrainMs, m.realtime.fullDrainMs)) },
    // (g), informational: compressed / uncompressed, no target.
    { group: 'g', name: `Compression: memory per connection at ${top}, compression: true / off`, goal: '—', unit: 'x', value: per((m) => ratio(m.deflateOn[`memKB@${top}`], m.deflateOff[`memKB@${top}`])) },
    { group: 'g', name: `Compression: full fan-out server CPU/event, first fire to last delivery (${top} subscribers), compression: true / off`, goal: '—', unit: 'x', value: per((m) => ratio(m.deflateOn.fullCpu, m.deflateOff.fullCpu)) },
    { group: 'g', name: `Compression: full fan-out deliveries/s (${top} subscribers), compression: true / off`, goal: '—', unit: 'x', value: per((m) => ratio(m.deflateOn.fullDps, m.deflateOff.fullDps)) }
  ]
  for (const t of targets) {
    if (t.value === null) t.status = 'not measured'
    else if (t.ok === undefined) t.status = 'informational'
    else {
      // Judged on the median; when runs disagree, say in how many the bar held.
      const held = t.value.values.filter(t.ok).length
      t.status = `${t.ok(t.value.median) ? 'met' : 'missed'}${held !== 0 && held !== t.value.n ? ` (met in ${held}/${t.value.n} runs)` : ''}`
    }
  }
  return targets
}
