// Scenario (f): two s3db-realtime instances joined by a real redis-server. Clients alternate
// between the instances (so every channel has subscribers on both), every event is fired on
// instance A, and each delivery must arrive exactly once on whichever instance holds the socket.
//
// Fairness: a single instance delivers inside `emitSync`, so its fire loop is closed (the next
// event is fired after the previous one went out). A clustered instance numbers the change in
// Redis first, so the same loop would be open: the whole burst queues behind the appends and the
// latency measures the queue. The targets use a paced loop (firePaced: the next event once
// instance A has delivered the previous one locally); the open-loop burst is reported too, with
// its drain time (first fire to last delivery).
import { spawn } from 'node:child_process'
import { deliver, noticeText } from './scenarios.mjs'
import { spawnProc } from './procs.mjs'
import { channelOf, freePort, sleep } from './common.mjs'

async function startRedis () {
  const port = await freePort()
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('redis-server did not start within 10 s')), 10_000)
    child.stdout.on('data', (chunk) => {
      output += chunk
      if (output.includes('Ready to accept connections')) { clearTimeout(timer); resolve() }
    })
    child.once('error', (error) => { clearTimeout(timer); reject(error) })
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`redis-server exited with ${code}`)) })
  })
  return { url: `redis://127.0.0.1:${port}`, stop: () => { child.kill('SIGKILL') } }
}

export async function runCluster (config, log) {
  const out = { system: 'cluster', scenarios: {}, failures: [] }
  let redis
  try {
    redis = await startRedis()
  } catch (error) {
    out.failures.push(`cluster: ${error.message}`)
    return out
  }
  const servers = []
  const clients = []
  let n = 1_000_000
  const makeEvents = (count, resource, channelFor) => Array.from({ length: count }, (_, k) => ({ n: n++, resource, channel: channelFor(k) }))
  const check = (name, r) => {
    for (const key of ['lost', 'duplicated', 'misrouted']) if (r[key] !== 0) out.failures.push(`cluster ${name}: ${r[key]} ${key}${noticeText(r)}`)
  }
  try {
    for (let i = 0; i < 2; i++) servers.push(await spawnProc('server.mjs', ['realtime', redis.url], ['--expose-gc']))
    for (let i = 0; i < 2; i++) clients.push(await spawnProc('client.mjs'))
    const urls = await Promise.all(servers.map(async (s) => (await s.rpc('info')).url))
    const size = config.sizes[config.sizes.length - 1]
    log(`cluster: opening ${size} connections over 2 instances`)
    const opened = await Promise.all(clients.map((c, i) => c.rpc('connect', { url: urls[i], from: i, to: size, step: 2 })))
    for (const r of opened) if (r.failures > 0) out.failures.push(`cluster: ${r.failures} connections failed`)
    await sleep(200)
    const burst = (events) => servers[0].rpc('fire', { events })
    const paced = async (events) => {
      const r = await servers[0].rpc('firePaced', { events })
      if (r.stalls > 0) out.failures.push(`cluster: ${r.stalls} paced fires saw no local delivery within 10 s`)
      return r
    }
    const channels = Math.ceil(size / 100)
    const selectiveEvents = () => makeEvents(config.events, 'messages', (k) => channelOf((k % channels) * 100))
    // Warm-up (not measured): JIT, Redis connections and scripts, as the single instance gets.
    check('warm-up', await deliver(clients, selectiveEvents(), paced, 60_000))
    log('cluster: selective fan-out across instances, paced')
    const selective = await deliver(clients, selectiveEvents(), paced, 60_000)
    check('selective', selective)
    out.scenarios.selectiveMax = selective
    log('cluster: selective fan-out across instances, burst')
    const selectiveBurst = await deliver(clients, selectiveEvents(), burst, 60_000)
    check('selective burst', selectiveBurst)
    out.scenarios.selectiveBurst = selectiveBurst
    const feed = await Promise.all(clients.map((c) => c.rpc('subscribeFeed')))
    if (feed.some((f) => f.failures > 0)) out.failures.push('cluster: feed subscribe failures')
    for (const [name, how] of [['full', paced], ['fullBurst', burst]]) {
      log(`cluster: full fan-out across instances, ${how === paced ? 'paced' : 'burst'}`)
      const full = await deliver(clients, makeEvents(config.fanoutEvents, 'feed', () => 'feed'), how, 120_000)
      check(name === 'full' ? 'full fan-out' : 'full fan-out burst', full)
      full.deliveriesPerSec = full.received / ((full.lastAt - full.startedAt) / 1000)
      out.scenarios[name] = full
    }
    // Socket inserts through the write barrier, workers alternating between the instances (the
    // single instance's (e) "insert over socket" has the same concurrency from one client).
    log('cluster: socket inserts on both instances')
    out.crud = { 'insert-socket': await clients[1].rpc('crud', { mode: 'socket', op: 'insert', urls, concurrency: config.crudConcurrency, durationMs: config.crudMs, maxOps: config.crudMaxOps }) }
  } catch (error) {
    out.failures.push(`cluster: ${error.message}`)
  } finally {
    await Promise.all([...servers, ...clients].map((p) => p.stop()))
    redis.stop()
  }
  return out
}
