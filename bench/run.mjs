// Entry point: `npm run bench` (3 runs, up to 10k connections) or `npm run bench:quick`.
// Runs every system in turn with fresh processes, aggregates medians and min-max over runs,
// writes bench/results/*.json and the Markdown + SVG report, and exits non-zero when any
// delivery was lost, duplicated or misrouted (or a scenario failed).
import fs from 'node:fs'
import os from 'node:os'
import { fileURLToPath } from 'node:url'
import { runSystem } from './lib/scenarios.mjs'
import { runCluster } from './lib/cluster.mjs'
import { runCompression } from './lib/compression.mjs'
import { measureDeltaBytes } from './lib/delta-bytes.mjs'
import { writeReport } from './report.mjs'

const quick = process.argv.includes('--quick')
const runsArg = process.argv.find((a) => a.startsWith('--runs='))
const CONFIG = quick
  ? { mode: 'quick', runs: 1, sizes: [500, 1000], events: 50, fanoutEvents: 50, writes: 30, writeGapMs: 2, crudConcurrency: 16, crudMs: 700, crudMaxOps: 20_000 }
  : { mode: 'full', runs: 3, sizes: [1000, 5000, 10_000], events: 200, fanoutEvents: 200, writes: 100, writeGapMs: 5, crudConcurrency: 16, crudMs: 3000, crudMaxOps: 200_000 }
if (runsArg !== undefined) CONFIG.runs = Math.max(1, Math.min(9, Number(runsArg.slice(7)) || 1))
// `--only=memory`: scenario (a) alone (every system, the sizes of the mode), printed as a table
// and kept in bench/results/memory-*.json; no report, no chart, BENCHMARKS.md untouched.
const onlyArg = process.argv.find((a) => a.startsWith('--only='))
if (onlyArg !== undefined && onlyArg !== '--only=memory') {
  console.error(`unknown ${onlyArg}: the one scenario that runs alone is --only=memory`)
  process.exit(2)
}
if (onlyArg !== undefined) CONFIG.only = 'memory'
const SYSTEMS = ['raw', 'realtime', 'bundled']

const distIndex = fileURLToPath(new URL('../dist/index.js', import.meta.url))
if (!fs.existsSync(distIndex)) {
  console.error('dist/ is missing: run `npm run build` first (npm run bench does it for you)')
  process.exit(2)
}

const log = (line) => { console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`) }
const machine = {
  date: new Date().toISOString(),
  node: process.version,
  cpu: os.cpus()[0]?.model ?? 'unknown',
  cores: os.cpus().length,
  memoryGb: Math.round(os.totalmem() / 2 ** 30),
  platform: `${os.type()} ${os.release()}`,
  loadAtStart: os.loadavg().map((l) => l.toFixed(2)).join(' ')
}

if (CONFIG.only === 'memory') {
  await runMemoryOnly()
  process.exit(0)
}

/**
 * (a) for every system, CONFIG.runs times; per size, the median heap+external (and RSS) per
 * connection, and the median of the within-run ratios to raw ws (as the targets are judged).
 */
async function runMemoryOnly () {
  const runs = []
  for (let r = 0; r < CONFIG.runs; r++) {
    const run = {}
    for (const system of [...SYSTEMS.slice(r % SYSTEMS.length), ...SYSTEMS.slice(0, r % SYSTEMS.length)]) {
      log(`run ${r + 1}/${CONFIG.runs}: ${system}, memory only`)
      const result = await runSystem(system, CONFIG, log, r)
      run[system] = { memory: result.memory, authenticated: result.authenticated, failures: result.failures }
    }
    runs.push(run)
  }
  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
  const perConn = (system, size, key) => median(runs.map((run) => run[system].memory[size]?.[key] ?? NaN))
  console.log('\nsystem     size   heap+external B/conn   rss B/conn   heap vs raw ws')
  for (const size of CONFIG.sizes) {
    for (const system of SYSTEMS) {
      const heap = perConn(system, size, 'heapPerConn')
      const ratio = median(runs.map((run) => run[system].memory[size]?.heapPerConn / run.raw.memory[size]?.heapPerConn))
      console.log(`${system.padEnd(9)} ${String(size).padStart(6)}   ${heap.toFixed(0).padStart(20)}   ${perConn(system, size, 'rssPerConn').toFixed(0).padStart(10)}   ${ratio.toFixed(3)}x`)
    }
  }
  const resultsDir = fileURLToPath(new URL('./results/', import.meta.url))
  fs.mkdirSync(resultsDir, { recursive: true })
  const file = `${resultsDir}memory-${machine.date.replace(/[:.]/g, '-')}.json`
  fs.writeFileSync(file, JSON.stringify({ machine, config: CONFIG, runs }, null, 1))
  log(`wrote ${file}`)
  const failures = runs.flatMap((run) => Object.values(run).flatMap((s) => s.failures))
  if (failures.length > 0) {
    console.error(`FAILED: ${failures.length} problem(s):\n  ${failures.join('\n  ')}`)
    process.exit(1)
  }
}

// Deterministic (the frames are encoded, not sent): measured once.
const deltaBytes = await measureDeltaBytes()
log(`delta updates: ${deltaBytes.wholeBytes} bytes per update event whole, ${deltaBytes.deltaBytes} with delta: true (${deltaBytes.fields} fields, one changed)`)

const runs = []
const started = Date.now()
for (let r = 0; r < CONFIG.runs; r++) {
  const run = {}
  // The order rotates per run, so no system always runs first (fresh box) or last.
  for (const system of [...SYSTEMS.slice(r % SYSTEMS.length), ...SYSTEMS.slice(0, r % SYSTEMS.length)]) {
    log(`run ${r + 1}/${CONFIG.runs}: ${system}`)
    run[system] = await runSystem(system, CONFIG, log, r)
    // raw ws's pre-framed variant ran in the same process on the same sockets: its own column.
    if (run[system].framed !== undefined) {
      run.rawFramed = run[system].framed
      delete run[system].framed
    }
  }
  log(`run ${r + 1}/${CONFIG.runs}: cluster (2 instances + redis-server)`)
  run.cluster = await runCluster(CONFIG, log)
  for (const compressed of [false, true]) {
    log(`run ${r + 1}/${CONFIG.runs}: s3db-realtime ${compressed ? 'with' : 'without'} compression`)
    run[compressed ? 'deflateOn' : 'deflateOff'] = await runCompression(compressed, CONFIG, log)
  }
  runs.push(run)
}
const failures = runs.flatMap((run) => Object.values(run).flatMap((s) => s.failures))
const results = { machine, config: CONFIG, durationSec: Math.round((Date.now() - started) / 1000), failures, deltaBytes, runs }

const resultsDir = fileURLToPath(new URL('./results/', import.meta.url))
fs.mkdirSync(resultsDir, { recursive: true })
const stamp = machine.date.replace(/[:.]/g, '-')
fs.writeFileSync(`${resultsDir}${CONFIG.mode}-${stamp}.json`, JSON.stringify(results, null, 1))
const written = writeReport(results)
log(`wrote ${written.join(', ')}`)
if (failures.length > 0) {
  console.error(`FAILED: ${failures.length} problem(s):\n  ${failures.join('\n  ')}`)
  process.exit(1)
}
log('no lost, duplicated or misrouted deliveries')
