// What one change costs Redis, for the scaling model (docs/scaling.md "A million connections"):
// N instances joined by a real redis-server, real s3db inserts on one of them (through the write
// barrier), Redis' own counters (INFO commandstats / stats / cpu) read before and after.
// Usage: node bench/redis-cost.mjs [instances=2] [changes=2000]
import { spawn } from 'node:child_process'
import Fastify from 'fastify'
import { Redis } from 'ioredis'
import { Database } from 's3db.js'
import { freePort, sleep } from './lib/common.mjs'

const instances = Number(process.argv[2] ?? 2)
const changes = Number(process.argv[3] ?? 2000)
const { default: s3dbRealtime } = await import('../dist/index.js')

async function startRedis () {
  const port = await freePort()
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'ignore'] })
  await new Promise((resolve, reject) => {
    let out = ''
    child.stdout.on('data', (chunk) => { out += chunk; if (out.includes('Ready to accept')) resolve() })
    child.once('exit', (code) => { reject(new Error(`redis-server exited with ${code}`)) })
  })
  return { url: `redis://127.0.0.1:${port}`, stop: () => { child.kill('SIGKILL') } }
}

/** The numbers of INFO that matter here. */
async function counters (admin) {
  const info = await admin.info('all')
  const field = (name) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0)
  const calls = {}
  for (const [, cmd, n] of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls[cmd] = Number(n)
  return { calls, in: field('total_net_input_bytes'), out: field('total_net_output_bytes'), cpu: field('used_cpu_sys') + field('used_cpu_user'), memory: field('used_memory') }
}

const redis = await startRedis()
const apps = []
try {
  const bucket = `memory://redis-cost-${Date.now()}/db`
  for (let i = 0; i < instances; i++) {
    const db = new Database({ connectionString: bucket, logLevel: 'silent' })
    await db.connect()
    await db.createResource({ name: 'messages', attributes: { content: 'string|required', channel: 'string|required' } })
    const app = Fastify({ logger: false })
    await app.register(s3dbRealtime, { database: db, resources: { messages: true }, redis: redis.url })
    await app.listen({ port: 0, host: '127.0.0.1' })
    apps.push({ app, db })
  }
  const admin = new Redis(redis.url)
  await sleep(500)
  const before = await counters(admin)
  const content = 'x'.repeat(40)
  for (let n = 0; n < changes; n++) await apps[0].db.resources.messages.insert({ content, channel: `ch-${n % 100}` })
  await sleep(500)
  const after = await counters(admin)
  const idle = await counters(admin) // INFO itself costs: measured once more with nothing else running
  const perChange = (a, b) => (b - a) / changes
  const commands = Object.fromEntries(Object.keys(after.calls).map((c) => [c, perChange(before.calls[c] ?? 0, after.calls[c])]).filter(([c, v]) => v > 0.001 && c !== 'info'))
  console.log(JSON.stringify({
    instances,
    changes,
    commandsPerChange: commands,
    inputBytesPerChange: perChange(before.in, after.in),
    outputBytesPerChange: perChange(before.out, after.out - (idle.out - after.out)),
    redisCpuMicrosPerChange: perChange(before.cpu, after.cpu) * 1e6,
    memoryBytes: after.memory
  }, null, 1))
  admin.disconnect()
} finally {
  for (const { app, db } of apps) { await app.close(); await db.disconnect().catch(() => {}) }
  redis.stop()
}
