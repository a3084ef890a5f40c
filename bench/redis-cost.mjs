// What one change costs Redis, for the scaling model (docs/scaling.md "A million connections"):
// N instances joined by real redis-server processes, real s3db inserts on one of them (through
// the write barrier), spread round-robin over several resources; every primary's own counters
// (INFO commandstats / stats / cpu, CLUSTER INFO, and /proc/<pid>/io for the cluster bus bytes,
// which INFO does not count) read before and after, with the idle rate measured first and taken
// off.
//
// Usage: node bench/redis-cost.mjs [instances=2] [changes=2000] [--cluster <primaries>] [--resources <n>]
//   plain (default): one redis-server; --resources defaults to 1.
//   --cluster S: a real S-primary Redis Cluster, `redis: { nodes }`; --resources defaults to 2 × S,
//   chosen so every primary owns the same number of them. Two phases of `changes` each: "spread"
//   (writes round-robin over every resource: what each shard carries at an even load) and
//   "one shard" (writes only to the resources of primary 0: what a change costs on its own shard
//   vs on the others, which get it forwarded over the cluster bus because of classic PUBLISH).
// Prints JSON: per phase, `total` and `shards[i]` per change (Redis CPU µs, client bytes in/out,
// cluster-bus bytes in/out, commands), and `subscribersPerPrimary`: where the instances' subscriber
// connections landed (ioredis picks a node at random), which decides whose deliveries a primary pays.
import { readFileSync } from 'node:fs'
import Fastify from 'fastify'
import { Redis } from 'ioredis'
import { Database } from 's3db.js'
import { sleep } from './lib/common.mjs'
import { startRedis, startRedisCluster, stopAll } from './lib/redis-servers.mjs'

const { positional, flags } = parseArgs(process.argv.slice(2))
const instances = Number(positional[0] ?? 2)
const changes = Number(positional[1] ?? 2000)
const primaries = flags.cluster === undefined ? 0 : Number(flags.cluster)
const resourceCount = Number(flags.resources ?? (primaries > 0 ? 2 * primaries : 1))
const IDLE_MS = 2000
const CONTENT = 'x'.repeat(40)
const { default: s3dbRealtime } = await import('../dist/index.js')

function parseArgs (argv) {
  const positional = []
  const flags = {}
  for (let i = 0; i < argv.length; i++) {
    if (argv[i].startsWith('--')) flags[argv[i].slice(2)] = argv[++i]
    else positional.push(argv[i])
  }
  return { positional, flags }
}

/** Resource names owned evenly by the primaries (by the slot of their `{change:<name>}` tag). */
async function evenResources (admins, ownerOfSlot) {
  const perShard = Math.ceil(resourceCount / admins.length)
  const picked = admins.map(() => [])
  for (let k = 0; picked.some((list) => list.length < perShard); k++) {
    const name = `r${k}`
    const owner = ownerOfSlot(Number(await admins[0].call('CLUSTER', 'KEYSLOT', `{change:${name}}`)))
    if (picked[owner].length < perShard) picked[owner].push(name)
  }
  return picked
}

/** One primary's counters: INFO, CLUSTER INFO, and the bytes its process read and wrote. */
async function counters (server) {
  const info = await server.admin.info('all')
  const field = (text, name) => Number(new RegExp(`^${name}:\\s*([\\d.]+)`, 'm').exec(text)?.[1] ?? 0)
  const calls = {}
  for (const [, cmd, n] of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls[cmd] = Number(n)
  const io = readFileSync(`/proc/${server.pid}/io`, 'utf8')
  const cluster = primaries > 0 ? String(await server.admin.call('CLUSTER', 'INFO')) : ''
  return {
    at: performance.now(),
    calls,
    in: field(info, 'total_net_input_bytes'),
    out: field(info, 'total_net_output_bytes'),
    cpu: field(info, 'used_cpu_sys') + field(info, 'used_cpu_user'),
    memory: field(info, 'used_memory'),
    // Everything the process read/wrote through syscalls; minus the client bytes above, that is
    // the cluster bus (no persistence is configured, so nothing else goes through read/write).
    rchar: field(io, 'rchar'),
    wchar: field(io, 'wchar'),
    busPublishSent: field(cluster, 'cluster_stats_messages_publish_sent'),
    busPublishReceived: field(cluster, 'cluster_stats_messages_publish_received')
  }
}

/** What happened on one primary between two snapshots, per change, idle rate taken off. */
function perChange (before, after, idle, count) {
  const seconds = (after.at - before.at) / 1000
  const delta = (name) => after[name] - before[name] - (idle[name] ?? 0) * seconds
  const busOut = delta('wchar') - delta('out')
  const busIn = delta('rchar') - delta('in')
  const appends = (after.calls.evalsha ?? 0) - (before.calls.evalsha ?? 0) + (after.calls.eval ?? 0) - (before.calls.eval ?? 0)
  const commands = Object.fromEntries(Object.keys(after.calls)
    .map((c) => [c, (after.calls[c] - (before.calls[c] ?? 0)) / count])
    .filter(([c, v]) => v > 0.001 && !/^(info|cluster|client)\b/.test(c)))
  return {
    appends,
    commandsPerChange: commands,
    cpuMicrosPerChange: round(delta('cpu') / count * 1e6),
    clientInBytesPerChange: round(delta('in') / count),
    clientOutBytesPerChange: round(delta('out') / count),
    busInBytesPerChange: round(busIn / count),
    busOutBytesPerChange: round(busOut / count),
    busPublishSentPerChange: round(delta('busPublishSent') / count, 3),
    busPublishReceivedPerChange: round(delta('busPublishReceived') / count, 3)
  }
}

function idleRates (before, after) {
  const seconds = (after.at - before.at) / 1000
  const rate = {}
  for (const name of ['in', 'out', 'cpu', 'rchar', 'wchar', 'busPublishSent', 'busPublishReceived']) rate[name] = (after[name] - before[name]) / seconds
  return rate
}

const round = (v, digits = 1) => Math.round(v * 10 ** digits) / 10 ** digits

/** Clients with at least one classic SUBSCRIBE on this node (the instances whose bus landed here). */
async function subscribers (server) {
  const list = String(await server.admin.call('CLIENT', 'LIST'))
  return list.split('\n').filter((line) => /\bsub=[1-9]/.test(line)).length
}

async function measure (servers, apps, topics) {
  const before = await Promise.all(servers.map(counters))
  for (let n = 0; n < changes; n++) await apps[0].db.resources[topics[n % topics.length]].insert({ content: CONTENT, channel: `ch-${n % 100}` })
  await sleep(300) // the last messages reach every subscriber
  const after = await Promise.all(servers.map(counters))
  const shards = servers.map((server, i) => perChange(before[i], after[i], server.idle, changes))
  const sum = (name) => round(shards.reduce((total, shard) => total + shard[name], 0))
  return {
    wallSeconds: round((after[0].at - before[0].at) / 1000, 2),
    total: {
      cpuMicrosPerChange: sum('cpuMicrosPerChange'),
      clientInBytesPerChange: sum('clientInBytesPerChange'),
      clientOutBytesPerChange: sum('clientOutBytesPerChange'),
      busOutBytesPerChange: sum('busOutBytesPerChange'),
      busInBytesPerChange: sum('busInBytesPerChange')
    },
    shards
  }
}

let apps = []
try {
  const started = primaries > 0 ? await startRedisCluster(primaries) : [await startRedis()]
  const servers = started.map((server) => ({ ...server, admin: new Redis(server.port, '127.0.0.1') }))
  let owned = [Array.from({ length: resourceCount }, (_, k) => `r${k}`)]
  if (primaries > 0) {
    const ranges = await servers[0].admin.call('CLUSTER', 'SLOTS')
    const ownerOfSlot = (slot) => servers.findIndex((s) => s.port === ranges.find(([from, to]) => slot >= from && slot <= to)[2][1])
    owned = await evenResources(servers.map((s) => s.admin), ownerOfSlot)
  }
  const topics = owned.flat()
  const redis = primaries > 0 ? { nodes: servers.map((s) => s.url) } : servers[0].url
  const bucket = `memory://redis-cost-${Date.now()}/db`
  for (let i = 0; i < instances; i++) {
    const db = new Database({ connectionString: bucket, logLevel: 'silent' })
    await db.connect()
    for (const name of topics) await db.createResource({ name, attributes: { content: 'string|required', channel: 'string|required' } })
    const app = Fastify({ logger: false })
    await app.register(s3dbRealtime, { database: db, resources: Object.fromEntries(topics.map((t) => [t, true])), redis })
    await app.listen({ port: 0, host: '127.0.0.1' })
    apps.push({ app, db })
  }
  await sleep(500)
  // Cluster cron, liveness tokens, INFO itself: what the primaries do with no change at all.
  const idleBefore = await Promise.all(servers.map(counters))
  await sleep(IDLE_MS)
  const idleAfter = await Promise.all(servers.map(counters))
  servers.forEach((server, i) => { server.idle = idleRates(idleBefore[i], idleAfter[i]) })

  const report = {
    mode: primaries > 0 ? `cluster of ${primaries} primaries` : 'one redis-server',
    instances,
    changes,
    resources: owned.map((list) => list.join(',')),
    subscribersPerPrimary: await Promise.all(servers.map(subscribers)),
    idleCpuMicrosPerSecond: servers.map((s) => round(s.idle.cpu * 1e6)),
    spread: await measure(servers, apps, topics)
  }
  if (primaries > 1) report.oneShard = await measure(servers, apps, owned[0])
  report.memoryBytes = (await Promise.all(servers.map(counters))).map((c) => c.memory)
  console.log(JSON.stringify(report, null, 1))
  for (const server of servers) server.admin.disconnect()
} finally {
  for (const { app, db } of apps) { await app.close().catch(() => {}); await db.disconnect().catch(() => {}) }
  apps = []
  await stopAll()
}
