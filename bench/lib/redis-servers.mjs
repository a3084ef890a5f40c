// Real redis-server processes for the Redis cost bench: one plain server, or an N-primary Redis
// Cluster started the way the tests do (test/helpers/redis-cluster.ts; bench/ does not import
// from test/). Every process started here is killed by `stopAll`, and synchronously when this
// process exits for any other reason (an uncaught error, Ctrl-C included).
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { freePort, sleep } from './common.mjs'

const SLOTS = 16384
const children = new Set()
const dirs = new Set()

function killAll () {
  for (const child of children) child.kill('SIGKILL')
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
}
process.once('exit', killAll)
// Ctrl-C or a kill: first, because other modules' handlers (s3db.js' dependencies) exit or
// re-raise the signal, which can end the process without an 'exit' event.
for (const signal of ['SIGINT', 'SIGTERM']) process.prependListener(signal, () => { killAll(); process.exit(130) })

/** Starts one redis-server (no persistence) and resolves once it accepts connections. */
export async function startRedis (extraArgs = [], port = null) {
  port ??= await freePort()
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...extraArgs], { stdio: ['ignore', 'pipe', 'ignore'] })
  children.add(child)
  child.once('exit', () => { children.delete(child) })
  await new Promise((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => { reject(new Error(`redis-server on ${port} not ready after 10 s`)) }, 10_000)
    child.stdout.on('data', (chunk) => {
      out += chunk
      if (out.includes('Ready to accept')) { clearTimeout(timer); child.stdout.resume(); resolve() }
    })
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`redis-server exited with ${code}`)) })
  })
  return { port, pid: child.pid, url: `redis://127.0.0.1:${port}` }
}

/**
 * A Redis Cluster of `size` primaries (no replicas): slots split evenly, joined with CLUSTER MEET,
 * ready once every node reports cluster_state:ok and knows every other node.
 */
export async function startRedisCluster (size) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-redis-cluster-'))
  dirs.add(dir)
  const servers = []
  for (let i = 0; i < size; i++) {
    const port = await freePort()
    servers.push(await startRedis(['--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `nodes-${port}.conf`), '--cluster-node-timeout', '2000'], port))
  }
  const admins = servers.map((server) => new Redis(server.port, '127.0.0.1'))
  try {
    const per = Math.ceil(SLOTS / size)
    for (const [i, admin] of admins.entries()) {
      await admin.call('CLUSTER', 'ADDSLOTSRANGE', String(i * per), String(Math.min(SLOTS, (i + 1) * per) - 1))
    }
    for (const server of servers.slice(1)) await admins[0].call('CLUSTER', 'MEET', '127.0.0.1', String(server.port))
    const deadline = Date.now() + 20_000
    for (;;) {
      const states = await Promise.all(admins.map(async (admin) => String(await admin.call('CLUSTER', 'INFO'))))
      if (states.every((info) => info.includes('cluster_state:ok') && info.includes(`cluster_known_nodes:${size}`))) break
      if (Date.now() > deadline) throw new Error('the Redis Cluster did not become ok in 20 s')
      await sleep(100)
    }
  } finally {
    for (const admin of admins) admin.disconnect()
  }
  return servers
}

/** Kills every redis-server started here and waits for them to exit. */
export async function stopAll () {
  await Promise.all([...children].map((child) => new Promise((resolve) => {
    child.once('exit', resolve)
    child.kill('SIGKILL')
  })))
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
  dirs.clear()
}
