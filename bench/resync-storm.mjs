// Time to converge after a fault that forces RESYNC_REQUIRED (issue #18, "Also seen").
//
// Two s3db-realtime instances (child processes, built dist/) on one file:// bucket and one
// redis-server; N clients subscribed to `messages` (which holds M records), split over the two
// instances. The fault: redis-server is killed and restarted on the same port, so the cluster's
// numbering is gone; the instances rotate the epoch and push RESYNC_REQUIRED to every
// subscriber, and every client has to re-list. Measured, from the restart: the moment each
// client holds a fresh snapshot again (min / median / p90 / max), how many listings or refused
// snapshots that took, and the latency of writes made during the storm.
//
// Clients are either the typed client (`s3db-realtime/client`, re-list = subscribe + paged list,
// spread by its `resyncJitter` option) or, with --raw, bare sockets that ask the server for the
// snapshot (`subscribe {snapshot: true}`) at once and again on each RESYNC_REQUIRED refusal.
//
//   npm run build && node bench/resync-storm.mjs [--clients=90] [--records=200] [--jitter=0,1000,3000] [--raw]
import { fork, spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { WebSocket } from 'ws'
import { freePort, now, sleep } from './lib/common.mjs'

const arg = (name, fallback) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback
const SELF = fileURLToPath(import.meta.url)

if (process.argv[2] === '--serve') await serve(process.argv[3], process.argv[4], process.argv[5])
else await main()

/** One instance (child process): reports its port over IPC, closes on 'close'. */
async function serve (bucket, redisUrl, nodeId) {
  const { default: Fastify } = await import('fastify')
  const { Database } = await import('s3db.js')
  const { default: s3dbRealtime } = await import('../dist/index.js')
  const db = new Database({ connectionString: bucket, logLevel: 'silent' })
  await db.connect()
  if (db.resources.messages === undefined) {
    await db.createResource({ name: 'messages', attributes: { content: 'string|required', channel: 'string|required' } })
  }
  const app = Fastify({ logger: false })
  await app.register(s3dbRealtime, { database: db, resources: { messages: true }, redis: redisUrl, nodeId, historySize: 5000 })
  await app.listen({ port: 0, host: '127.0.0.1' })
  process.send({ port: app.server.address().port })
  process.on('message', (msg) => {
    if (msg === 'close') app.close().then(() => db.disconnect()).finally(() => process.exit(0))
  })
}

async function startRedis (port) {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'ignore'] })
  await new Promise((resolve, reject) => {
    let output = ''
    child.stdout.on('data', (chunk) => { output += chunk; if (output.includes('Ready to accept connections')) resolve() })
    child.once('exit', (code) => { reject(new Error(`redis-server exited with ${code}`)) })
  })
  child.stdout.resume()
  return child
}

async function startInstance (bucket, redisUrl, nodeId) {
  const child = fork(SELF, ['--serve', bucket, redisUrl, nodeId], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const { port } = await new Promise((resolve, reject) => {
    child.once('message', resolve)
    child.once('exit', (code) => { reject(new Error(`instance ${nodeId} exited with ${code}`)) })
  })
  return { child, url: `ws://127.0.0.1:${port}/ws` }
}

/**
 * A typed client; resolves `back` with the time of its first snapshot after `arm()`, and
 * `notice()` gives the time of the first RESYNC_REQUIRED pushed to it after `arm()`.
 */
async function typedClient (createClient, url, jitter, stats) {
  let armedAt = null
  let noticeAt = null
  let resolveBack
  const back = new Promise((resolve) => { resolveBack = resolve })
  const client = createClient({
    url,
    resyncJitter: jitter,
    requestTimeout: 60_000,
    socketFactory: (target) => {
      const ws = new WebSocket(target)
      const send = ws.send.bind(ws)
      ws.send = (data) => { if (armedAt !== null && JSON.parse(data).type === 'list') stats.lists++; send(data) }
      ws.on('message', (data) => {
        const frame = JSON.parse(data.toString())
        if (armedAt === null || frame.code !== 'RESYNC_REQUIRED' || frame.requestId !== undefined) return
        stats.pushes++
        noticeAt ??= now()
      })
      return ws
    }
  })
  await client.subscribe('messages', {}, (event) => {
    if (event.event !== 'snapshot' || armedAt === null) return
    stats.snapshots++
    resolveBack(now())
  })
  return { client, back, arm: () => { armedAt = now() }, notice: () => noticeAt }
}

/** A bare socket that asks for the server's snapshot after each pushed RESYNC_REQUIRED. */
async function rawClient (url, stats) {
  const ws = new WebSocket(url)
  let armed = false
  let noticeAt = null
  let resolveBack
  const back = new Promise((resolve) => { resolveBack = resolve })
  let next = 0
  const ask = () => { ws.send(JSON.stringify({ type: 'subscribe', resource: 'messages', snapshot: true, requestId: `s${next++}` })) }
  await new Promise((resolve, reject) => {
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString())
      if (frame.type === 'connected') ask()
      else if (frame.type === 'subscribed' && !armed) resolve()
      else if (frame.type === 'subscribed' && armed) resolveBack(now())
      else if (frame.code === 'RESYNC_REQUIRED' && armed) {
        if (frame.requestId === undefined) noticeAt ??= now()
        if (typeof frame.requestId === 'string') {
          stats.refused++
          stats.reasons[frame.message] = (stats.reasons[frame.message] ?? 0) + 1
        }
        ask()
      }
    })
    ws.once('error', reject)
  })
  return { client: { close: () => { ws.close() } }, back, arm: () => { armed = true }, notice: () => noticeAt }
}

function summary (times) {
  const sorted = [...times].sort((a, b) => a - b)
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]
  return { min: Math.round(sorted[0]), p50: Math.round(at(0.5)), p90: Math.round(at(0.9)), max: Math.round(sorted[sorted.length - 1]) }
}

async function run ({ clients, records, jitter, raw }) {
  const dir = await mkdtemp(join(tmpdir(), 'resync-storm-'))
  const port = await freePort()
  const redisUrl = `redis://127.0.0.1:${port}`
  let redis = await startRedis(port)
  const instances = [await startInstance(`file://${dir}`, redisUrl, 'a')]
  instances.push(await startInstance(`file://${dir}`, redisUrl, 'b'))
  const { createClient } = await import('../dist/client/index.js')
  const writer = createClient({ url: instances[0].url, requestTimeout: 60_000 })
  try {
    for (let i = 0; i < records; i++) await writer.insert('messages', { content: `m${i}`, channel: 'c' })
    const stats = { lists: 0, refused: 0, snapshots: 0, pushes: 0, reasons: {} }
    const subscribers = []
    for (let i = 0; i < clients; i++) {
      const url = instances[i % 2].url
      subscribers.push(raw ? await rawClient(url, stats) : await typedClient(createClient, url, jitter, stats))
    }
    await sleep(500)
    for (const s of subscribers) s.arm()
    // The fault: Redis restarts empty.
    redis.kill('SIGKILL')
    await new Promise((resolve) => redis.once('exit', resolve))
    redis = await startRedis(port)
    const t0 = now()
    // Writes during the storm, one at a time, on the other instance.
    const writes = []
    let storming = true
    const writing = (async () => {
      const other = createClient({ url: instances[1].url, requestTimeout: 60_000 })
      for (let i = 0; storming; i++) {
        const started = now()
        await other.insert('messages', { content: `w${i}`, channel: 'c' }).then(() => { writes.push(now() - started) }, () => {})
        await sleep(100)
      }
      other.close()
    })()
    let timer
    const deadline = new Promise((resolve) => { timer = setTimeout(() => { resolve(null) }, 120_000) })
    const times = await Promise.all(subscribers.map(async (s) => await Promise.race([s.back, deadline])))
    clearTimeout(timer)
    storming = false
    await writing
    const converged = times.filter((t) => t !== null).map((t) => t - t0)
    const notices = subscribers.map((s) => s.notice()).filter((t) => t !== null)
    const fromNotice = subscribers.map((s, i) => times[i] !== null && s.notice() !== null ? times[i] - s.notice() : null).filter((t) => t !== null)
    for (const s of subscribers) s.client.close()
    return {
      clients,
      records,
      mode: raw ? 'raw subscribe {snapshot}' : `typed client, resyncJitter ${jitter} ms`,
      converged: `${converged.length}/${clients}`,
      faultToNoticeMs: notices.length > 0 ? summary(notices.map((t) => t - t0)) : null,
      noticeToSnapshotMs: fromNotice.length > 0 ? summary(fromNotice) : null,
      faultToSnapshotMs: converged.length > 0 ? summary(converged) : null,
      listRequests: raw ? undefined : stats.lists,
      snapshots: raw ? undefined : stats.snapshots,
      resyncNotices: raw ? undefined : stats.pushes,
      refusedSnapshots: raw ? stats.refused : undefined,
      refusals: raw ? stats.reasons : undefined,
      writesDuringStorm: writes.length > 0 ? summary(writes) : null
    }
  } finally {
    writer.close()
    for (const instance of instances) instance.child.send('close')
    await Promise.all(instances.map(async (i) => await new Promise((resolve) => { i.child.once('exit', resolve); setTimeout(() => { i.child.kill('SIGKILL'); resolve() }, 10_000) })))
    redis.kill('SIGKILL')
    await rm(dir, { recursive: true, force: true })
  }
}

async function main () {
  const clients = Number(arg('clients', '90'))
  const records = Number(arg('records', '200'))
  const raw = process.argv.includes('--raw')
  const jitters = raw ? [0] : arg('jitter', '0,1000,3000').split(',').map(Number)
  for (const jitter of jitters) {
    const result = await run({ clients, records, jitter, raw })
    console.log(JSON.stringify(result))
  }
}
