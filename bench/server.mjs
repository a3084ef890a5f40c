// One system under test in its own process, driven over IPC by run.mjs.
// Usage: node --expose-gc bench/server.mjs <raw|realtime|bundled> [redis://… for realtime] [--compression]
import v8 from 'node:v8'
import { createBenchDatabase, eventRecord, freePort, ipcServe, now, tick } from './lib/common.mjs'
import { startRaw } from './servers/raw.mjs'
import { startRealtime } from './servers/realtime.mjs'
import { startBundled } from './servers/bundled.mjs'

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
  fire: async ({ events }) => {
    const cpu = process.cpuUsage()
    const start = now()
    for (const e of events) {
      server.fire(e.resource, eventRecord(e.n, e.channel))
      await tick()
    }
    const used = process.cpuUsage(cpu)
    return { cpuMicros: used.user + used.system, wallMs: now() - start }
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
