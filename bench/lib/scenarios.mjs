// One system, one run: every scenario against fresh server and client processes.
import { BenchConnection } from './conn.mjs'
import { Histogram } from './histogram.mjs'
import { spawnProc } from './procs.mjs'
import { channelOf, now, sleep } from './common.mjs'

/** Waits until the clients saw `expected` deliveries (bounded), then collects their reports. */
async function collect (clients, expected, timeoutMs) {
  const deadline = now() + timeoutMs
  while (now() < deadline) {
    const statuses = await Promise.all(clients.map((c) => c.rpc('status')))
    const received = statuses.reduce((sum, s) => sum + s.received, 0)
    if (process.env.BENCH_DEBUG) console.log('collect', received, expected)
    if (received >= expected) break
    await sleep(50)
  }
  await sleep(150) // let duplicates or strays that trail the last expected frame arrive
  const reports = await Promise.all(clients.map((c) => c.rpc('report')))
  const histogram = new Histogram()
  const merged = { expected, received: 0, lost: 0, duplicated: 0, misrouted: 0, notices: {}, firstAt: Infinity, lastAt: -Infinity }
  for (const r of reports) {
    for (const key of ['received', 'lost', 'duplicated', 'misrouted']) merged[key] += r[key]
    if (r.firstAt !== null) merged.firstAt = Math.min(merged.firstAt, r.firstAt)
    if (r.lastAt !== null) merged.lastAt = Math.max(merged.lastAt, r.lastAt)
    histogram.merge(Histogram.fromJSON(r.histogram))
    for (const [code, count] of Object.entries(r.notices ?? {})) merged.notices[code] = (merged.notices[code] ?? 0) + count
  }
  return { ...merged, latency: histogram.summary() }
}

/** Arms the clients with `events`, runs `trigger`, and returns delivery counts and latency. */
/** ' (clients were told: RESYNC_REQUIRED x5000)' when unsolicited error frames arrived. */
export function noticeText (r) {
  const entries = Object.entries(r.notices ?? {})
  return entries.length === 0 ? '' : ` (clients were told: ${entries.map(([code, n]) => `${code} x${n}`).join(', ')})`
}

export async function deliver (clients, events, trigger, timeoutMs) {
  // `trigger(events)` publishes them (fire, socket inserts or db inserts).
  const armed = await Promise.all(clients.map((c) => c.rpc('arm', { events })))
  const expected = armed.reduce((sum, a) => sum + a.expected, 0)
  const startedAt = now()
  const triggered = await trigger(events)
  const result = await collect(clients, expected, timeoutMs)
  return { ...result, startedAt, triggered }
}

async function authProbe (url) {
  try {
    const conn = await BenchConnection.open(url, null, () => {}, 5_000)
    conn.close()
    return false
  } catch {
    return true
  }
}

/** Measured selective loops per size (c); the median loop's CPU is reported. */
const SELECTIVE_LOOPS = 3

/**
 * One system, one run. For raw ws, (b) and (c) are measured twice on the same sockets, once with
 * `ws.send(string)` per socket and once pre-framed (one frame per event, written to every
 * socket); the second set is returned as `out.framed` (the "raw ws, pre-framed" column). Which
 * of the two goes first alternates with `runIndex`, so neither always gets the warmer process.
 */
export async function runSystem (system, config, log, runIndex = 0) {
  // BENCH_CPU_PROF=1 writes a V8 CPU profile of the server process per scenario, to
  // bench/results/prof/<system>-<scenario>-<time>.cpuprofile (read them with bench/cpu-top.mjs).
  const server = await spawnProc('server.mjs', [system], ['--expose-gc'])
  const profiled = async (name, work) => {
    if (!process.env.BENCH_CPU_PROF) return work()
    await server.rpc('profileStart')
    try {
      return await work()
    } finally {
      const dir = new URL('../results/prof/', import.meta.url).pathname
      await server.rpc('profileStop', { path: `${dir}${system}-${name}-${Date.now()}.cpuprofile` })
    }
  }
  const clients = [await spawnProc('client.mjs'), await spawnProc('client.mjs')]
  const out = { system, scenarios: {}, memory: {}, failures: [] }
  let n = 1
  const makeEvents = (count, resource, channelFor) => Array.from({ length: count }, (_, k) => ({ n: n++, resource, channel: channelFor(k) }))
  const check = (name, r) => {
    for (const key of ['lost', 'duplicated', 'misrouted']) if (r[key] !== 0) out.failures.push(`${system} ${name}: ${r[key]} ${key}${noticeText(r)}`)
  }
  const fire = (events) => server.rpc('fire', { events })
  const fireFramed = (events) => server.rpc('fire', { events, framed: true })
  const framed = system === 'raw' ? { system: 'rawFramed', scenarios: {}, failures: [] } : null
  if (framed !== null) out.framed = framed
  const checkFramed = (name, r) => {
    for (const key of ['lost', 'duplicated', 'misrouted']) if (r[key] !== 0) framed.failures.push(`raw pre-framed ${name}: ${r[key]} ${key}${noticeText(r)}`)
  }
  /** Runs `measure(fire)` for the system and, for raw ws, `measure(fireFramed)` too, in alternating order. */
  const both = async (name, measure) => {
    const order = framed !== null && runIndex % 2 === 1 ? ['framed', 'naive'] : ['naive', 'framed']
    for (const variant of order) {
      if (variant === 'naive') {
        const r = await measure(fire)
        check(name, r)
        out.scenarios[name] = r
      } else if (framed !== null) {
        log('raw: the same, pre-framed')
        const r = await measure(fireFramed)
        checkFramed(name, r)
        framed.scenarios[name] = r
      }
    }
  }
  /**
   * (c): SELECTIVE_LOOPS fire loops of `config.events` events to ch-0's 100 subscribers, each
   * after a forced full GC in the server, so a major collection left over from opening sockets
   * (or due anyway) does not land in one loop and not another: a loop is ~100 ms of CPU and one
   * major GC of a 10k-socket heap is tens of ms. CPU/event is the median loop's; its latency is
   * reported; delivery counts are summed over all loops.
   */
  const selectiveLoops = async (how, profileName = null) => {
    const loops = []
    for (let k = 0; k < SELECTIVE_LOOPS; k++) {
      await server.rpc('collectGarbage')
      const loop = () => deliver(clients, makeEvents(config.events, 'messages', () => channelOf(0)), how, 60_000)
      // Profiled (BENCH_CPU_PROF): the first loop only, after its forced GC.
      loops.push(await (k === 0 && profileName !== null ? profiled(profileName, loop) : loop()))
    }
    const byCpu = [...loops].sort((a, b) => a.triggered.cpuMicros - b.triggered.cpuMicros)
    const result = { ...byCpu[Math.floor(byCpu.length / 2)], loopCpuMicros: loops.map((l) => l.triggered.cpuMicros) }
    for (const key of ['expected', 'received', 'lost', 'duplicated', 'misrouted']) result[key] = loops.reduce((sum, l) => sum + l[key], 0)
    result.notices = {}
    for (const l of loops) for (const [code, count] of Object.entries(l.notices)) result.notices[code] = (result.notices[code] ?? 0) + count
    return result
  }
  /** (c2): every open connection on `ranged` with its channel AND a range; events reach ch-0's 100. */
  const rangeScenario = async (size) => {
    const subscribed = await Promise.all(clients.map((c) => c.rpc('subscribeRanged')))
    if (subscribed.some((s) => s.failures > 0)) out.failures.push(`${system}: range subscribe failures at ${size}`)
    if (size === 100) check('range warm-up', await deliver(clients, makeEvents(config.events, 'ranged', () => channelOf(0)), fire, 60_000))
    log(`${system}: range-filter fan-out, ${size} subscribers`)
    const result = await deliver(clients, makeEvents(config.events, 'ranged', () => channelOf(0)), fire, 60_000)
    check(`range@${size}`, result)
    out.scenarios[size === 100 ? 'range100' : 'rangeMax'] = result
  }
  try {
    const info = await server.rpc('info')
    out.info = info
    out.authEnforced = await authProbe(info.url)
    let open = 0
    let authenticated = 0
    const openTo = async (size) => {
      const mid = open + Math.floor((size - open) / 2)
      const results = await Promise.all([
        clients[0].rpc('connect', { url: info.url, from: open, to: mid }),
        clients[1].rpc('connect', { url: info.url, from: mid, to: size })
      ])
      for (const r of results) {
        authenticated += r.authenticated
        if (r.failures > 0) out.failures.push(`${system}: ${r.failures} connections failed at ${size}`)
      }
      open = size
    }

    // (c) selective with 100 subscribers: all of them on ch-0, so every event reaches 100.
    await openTo(100)
    // `--only=memory` (bench/run.mjs): (a) alone, from the same 100-connection baseline.
    const memoryOnly = config.only === 'memory'
    if (!memoryOnly) {
      // Warm-up (same events, not measured) so the first measured loop is not paying for JIT.
      check('warm-up', await deliver(clients, makeEvents(config.events, 'messages', () => channelOf(0)), fire, 60_000))
      if (framed !== null) checkFramed('warm-up', await deliver(clients, makeEvents(config.events, 'messages', () => channelOf(0)), fireFramed, 60_000))
      log(`${system}: selective fan-out, 100 subscribers`)
      await both('selective100', (how) => selectiveLoops(how))
    }
    // (c2) the same with range filters ({channel, n: {$gte, $lt}}), s3db-realtime only (the
    // others have no operators). Subscribed before the memory baseline, so (a) is unchanged.
    const ranges = system === 'realtime' && !memoryOnly
    if (ranges) await rangeScenario(100)

    // (a) memory per idle, authenticated, subscribed connection above the 100-connection baseline.
    const base = await server.rpc('memory')
    for (const size of config.sizes) {
      log(`${system}: opening ${size} connections`)
      await openTo(size)
      const m = await server.rpc('memory')
      out.memory[size] = { heapPerConn: (m.heap - base.heap) / (size - 100), rssPerConn: (m.rss - base.rss) / (size - 100), connections: m.connections }
    }
    out.authenticated = authenticated
    if (memoryOnly) return out
    const max = open
    const channels = Math.ceil(max / 100)

    // (c) the same 1%-style events (100 recipients each) with `max` subscribers connected.
    log(`${system}: selective fan-out, ${max} subscribers`)
    // Same recipients as the 100-subscriber case (ch-0: 1% of 10k), so the CPU ratio isolates
    // what the extra non-matching subscribers cost.
    await both('selectiveMax', (how) => selectiveLoops(how, `selective-${how === fire ? 'send' : 'framed'}`))
    if (ranges) await rangeScenario(max)

    // (d) write-to-screen with `max` connected: socket insert, then a direct db insert.
    await clients[0].rpc('writers', { url: info.url, count: 1 })
    const probe = system === 'bundled'
    const writes = probe ? 5 : config.writes
    const timeout = probe ? 2_000 : 30_000
    log(`${system}: write-to-screen`)
    const writeEvents = () => makeEvents(writes, 'messages', (k) => channelOf((k % channels) * 100))
    const wtsSocket = await deliver(clients, writeEvents(), (events) => clients[0].rpc('socketInserts', { events, gapMs: config.writeGapMs }), timeout)
    out.scenarios.wtsSocket = { ...wtsSocket, probe }
    const wtsDb = await deliver(clients, writeEvents(), async (events) => {
      for (const e of events) {
        await server.rpc('dbInsert', e)
        await sleep(config.writeGapMs)
      }
    }, timeout)
    out.scenarios.wtsDb = { ...wtsDb, probe }
    if (!probe) {
      check('write-to-screen socket', wtsSocket)
      check('write-to-screen db', wtsDb)
      // Publish-to-screen: the same records, recipients and pacing as (d), published with no
      // db write (raw ws calls its publish function; s3db-realtime gets s3db's announcement).
      log(`${system}: publish-to-screen (no db write), then the storage's own insert latency`)
      const pubScreen = await deliver(clients, writeEvents(), async (events) => {
        for (const e of events) {
          await server.rpc('fire', { events: [e] })
          await sleep(config.writeGapMs)
        }
      }, timeout)
      check('publish-to-screen', pubScreen)
      out.scenarios.pubScreen = pubScreen
      // The storage's own insert latency in this process: 3x the writes of (d) for a steadier p99.
      out.insertOwn = await server.rpc('insertTimings', { resource: 'messages', count: writes * 3, gapMs: config.writeGapMs, firstN: 50_000_000 + n })
      n += writes * 3
    }

    // (b) full fan-out: every connection also subscribes to `feed` without a filter.
    log(`${system}: full fan-out to ${max}`)
    const feed = await Promise.all(clients.map((c) => c.rpc('subscribeFeed')))
    if (feed.some((f) => f.failures > 0)) out.failures.push(`${system}: feed subscribe failures`)
    await both('full', async (how) => {
      const full = await profiled(`full-${how === fire ? 'send' : 'framed'}`, () => deliver(clients, makeEvents(config.fanoutEvents, 'feed', () => 'feed'), how, 120_000))
      full.deliveriesPerSec = full.received / ((full.lastAt - full.startedAt) / 1000)
      return full
    })

    // (e) CRUD over the socket vs REST on the same server, and the same s3db calls in-process.
    // Raw ws's hand-rolled get/insert handlers are the floor for the socket path.
    out.crud = {}
    for (const op of ['get', 'insert']) {
      for (const mode of info.restUrl === null ? ['socket'] : ['socket', 'rest']) {
        log(`${system}: crud ${op} over ${mode}`)
        out.crud[`${op}-${mode}`] = await profiled(`crud-${op}-${mode}`, () => clients[1].rpc('crud', { mode, op, url: info.url, restUrl: info.restUrl, concurrency: config.crudConcurrency, durationMs: config.crudMs, maxOps: config.crudMaxOps }))
      }
      if (system !== 'bundled') {
        log(`${system}: crud ${op} in-process (the same s3db call, no socket)`)
        out.crud[`${op}-inprocess`] = await profiled(`crud-${op}-inprocess`, () => server.rpc('crudInProcess', { op, concurrency: config.crudConcurrency, durationMs: config.crudMs, maxOps: config.crudMaxOps }))
      }
    }
  } catch (error) {
    out.failures.push(`${system}: ${error.message}`)
  } finally {
    await Promise.all([server.stop(), ...clients.map((c) => c.stop())])
  }
  return out
}
