// Scenario (f): two s3db-realtime instances joined by a real redis-server. Clients alternate
// between the instances (so every channel has subscribers on both), every event is fired on
// instance A, and each delivery must arrive exactly once on whichever instance holds the socket.
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
    const fire = (events) => servers[0].rpc('fire', { events })
    const channels = Math.ceil(size / 100)
    log('cluster: selective fan-out across instances')
    const selective = await deliver(clients, makeEvents(config.events, 'messages', (k) => channelOf((k % channels) * 100)), fire, 60_000)
    check('selective', selective)
    out.scenarios.selectiveMax = selective
    log('cluster: full fan-out across instances')
    const feed = await Promise.all(clients.map((c) => c.rpc('subscribeFeed')))
    if (feed.some((f) => f.failures > 0)) out.failures.push('cluster: feed subscribe failures')
    const full = await deliver(clients, makeEvents(config.fanoutEvents, 'feed', () => 'feed'), fire, 120_000)
    check('full fan-out', full)
    full.deliveriesPerSec = full.received / ((full.lastAt - full.startedAt) / 1000)
    out.scenarios.full = full
  } catch (error) {
    out.failures.push(`cluster: ${error.message}`)
  } finally {
    await Promise.all([...servers, ...clients].map((p) => p.stop()))
    redis.stop()
  }
  return out
}
