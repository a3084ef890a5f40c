// One system under test in its own process, driven over IPC by run.mjs.
// Usage: node --expose-gc bench/server.mjs <raw|realtime|bundled> [redis://… for realtime] [--compression]
import fs from 'node:fs'
import { Session } from 'node:inspector'
import { dirname } from 'node:path'
import v8 from 'node:v8'
import { createBenchDatabase, eventRecord, freePort, ipcServe, now, percentiles, sleep, tick } from './lib/common.mjs'
import { runCrudInProcess } from './lib/crud.mjs'
import { startRaw } from './servers/raw.mjs'
import { startRealtime } from './servers/realtime.mjs'
import { startBundled } from './servers/bundled.mjs'

let inspector = null
const post = (method, params = {}) => new Promise((resolve, reject) => {
  inspector.post(method, params, (error, result) => { if (error) reject(error); else resolve(result) })
})

const STARTERS = { raw: startRaw, realtime: startRealtime, bundled: startBundled }
const system = process.argv[2]
if (STARTERS[system] === undefined) throw new Error(`unknown system ${system}`)
if (typeof globalThis.gc !== 'function') throw new Error('run with --expose-gc')

/** heapUsed + external after full collections (the measure), plus rss for context. */
async function memory () {
  for (let i = 0; i < 4; i++) {
    globalThis.gc()
    await tick()
  }
  const m = process.memoryUsage()
  return { heap: m.heapUsed + m.external, rss: m.rss }
}

const db = await createBenchDatabase()
// An optional redis:// URL runs s3db-realtime as one instance of a cluster (scenario f);
// --compression registers it with `compression: true` (scenario g).
const redis = process.argv.slice(3).find((a) => a.startsWith('redis://'))
const compression = process.argv.includes('--compression')
const server = await STARTERS[system]({ db, port: await freePort(), redis, compression })

ipcServe({
  info: () => ({ system, url: server.url, restUrl: server.restUrl, authConfigured: server.authConfigured ?? true, node: process.version }),
  memory: async () => ({ ...(await memory()), connections: server.connections() }),
  /**
   * Fires events (`{resource, channel, n}`), yielding to the event loop between them so socket
   * writes flush, and reports the server CPU (user+system) the whole loop used.
   */
  fire: async ({ events, framed = false }) => {
    const cpu = process.cpuUsage()
    const start = now()
    for (const e of events) {
      server.fire(e.resource, eventRecord(e.n, e.channel), framed)
      await tick()
    }
    const used = process.cpuUsage(cpu)
    return { cpuMicros: used.user + used.system, wallMs: now() - start }
  },
  /**
   * Clustered s3db-realtime (scenario f), closed loop like `fire` on a single instance: each event
   * is fired once this instance has delivered the previous one to its own sockets (after the
   * Redis append), observed through the `events` counter of `getMetrics()` (a number read, no
   * extra socket or listener). Polled on a 0 ms timer, so the process sleeps while it waits
   * instead of spinning the event loop against Redis and the other instance on the same cores.
   */
  firePaced: async ({ events }) => {
    const cpu = process.cpuUsage()
    const start = now()
    let stalls = 0
    for (const e of events) {
      const before = server.deliveredEvents()
      server.fire(e.resource, eventRecord(e.n, e.channel))
      const deadline = now() + 10_000
      await tick()
      while (server.deliveredEvents() === before) {
        if (now() > deadline) { stalls++; break }
        await sleep(0)
      }
    }
    const used = process.cpuUsage(cpu)
    return { cpuMicros: used.user + used.system, wallMs: now() - start, stalls }
  },
  /**
   * The storage's own insert latency (the floor under write-to-screen): sequential
   * \`resource.insert\` calls timed here, same record shape as (d), a channel nobody subscribes
   * to, the same gap between writes as (d).
   */
  insertTimings: async ({ resource, count, gapMs, firstN }) => {
    const times = []
    for (let k = 0; k < count; k++) {
      const record = eventRecord(firstN + k, 'probe')
      const t0 = now()
      await db.resources[resource].insert(record)
      times.push(now() - t0)
      await sleep(gapMs)
    }
    return percentiles(times)
  },
  /** (e) baseline: the same s3db calls as the socket's get/insert, made here, same concurrency. */
  crudInProcess: (params) => runCrudInProcess(db, params),
  /** Full collections before a measured loop (scenario c), so no loop inherits another's garbage. */
  collectGarbage: async () => {
    await memory()
    return true
  },
  /** Server CPU (user+system µs) so far, to bracket work that continues after `fire` returns. */
  cpu: () => {
    const used = process.cpuUsage()
    return used.user + used.system
  },
  /** A real s3db insert on the server (write-to-screen "through the db"); t0 is before the write. */
  dbInsert: async ({ resource, channel, n }) => {
    const record = await db.resources[resource].insert(eventRecord(n, channel))
    // The floor has no bridge: a hand-rolled server publishes right after its own write.
    server.afterDbWrite?.(resource, record)
    return true
  },
  /** BENCH_CPU_PROF: a V8 CPU profile of one scenario (started and stopped around it). */
  profileStart: async () => {
    inspector ??= new Session()
    inspector.connect()
    await post('Profiler.enable')
    await post('Profiler.setSamplingInterval', { interval: 200 })
    await post('Profiler.start')
    return true
  },
  profileStop: async ({ path }) => {
    const { profile } = await post('Profiler.stop')
    inspector.disconnect()
    fs.mkdirSync(dirname(path), { recursive: true })
    fs.writeFileSync(path, JSON.stringify(profile))
    return path
  },
  /** For profiling (bench/profile.mjs): a heap snapshot after full collections. */
  snapshot: async ({ path }) => {
    await memory()
    return v8.writeHeapSnapshot(path)
  },
  close: async () => {
    await server.close()
    await db.disconnect().catch(() => {})
    setTimeout(() => process.exit(0), 50)
    return true
  }
})
process.send({ ready: true })
