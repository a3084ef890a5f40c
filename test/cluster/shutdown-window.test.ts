import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm, stat } from 'node:fs/promises'
import type { Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { Database } from 's3db.js'
import t, { type Test } from 'tap'
import { buildApp } from '../helpers/app.js'
import { connect, type Message, type TestClient } from '../helpers/client.js'
import { startRedis } from '../helpers/redis.js'
import { until } from '../helpers/wait.js'

// Issue #18, fault 4: a graceful shutdown (SIGTERM -> app.close()) while clients write through
// the instance and other code writes straight into its Database. Every record that reaches the
// store is announced to the cluster, or the cluster's clients are told RESYNC_REQUIRED after it.

const FIXTURE = fileURLToPath(new URL('../fixtures/shutdown-node.ts', import.meta.url))
const WRITERS = 6
const DEPTH = 4 // requests each writer keeps outstanding: frames are always queued on A
const LEASE = 300 // presence lease of both instances, ms

interface Node {
  child: ChildProcess
  port: number
  url: string
  exited: Promise<number | null>
}

async function startNode (t: Test, env: Record<string, string>): Promise<Node> {
  const loader = process.execArgv.filter((arg) => arg.includes('typescript'))
  const child = spawn(process.execPath, [...loader, FIXTURE], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] })
  const exited = new Promise<number | null>((resolve) => { child.once('exit', (code) => { resolve(code) }) })
  t.teardown(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    child.kill('SIGKILL')
    await exited
  })
  const port = await new Promise<number>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })
    lines.once('line', (line) => { resolve((JSON.parse(line) as { port: number }).port) })
    child.once('exit', (code) => { reject(new Error(`node ${env.NODE_ID ?? ''} exited with ${String(code)} before it was ready`)) })
  })
  return { child, port, url: `ws://127.0.0.1:${port}/ws`, exited }
}

/**
 * Redis, a shared file:// bucket, instance B (which creates the resource), then A (with direct
 * writers) and C. B's watcher sees both shutdowns: A's in the first test, C's in the second.
 */
async function cluster (t: Test): Promise<{ a: Node, b: Node, c: Node, dir: string }> {
  const redis = await startRedis(t)
  const dir = await mkdtemp(join(tmpdir(), 's3db-realtime-shutdown-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  // S3DB_DISABLE_CRON: file:// storage starts s3db's global CronManager with its defaults, whose
  // SIGTERM listener exits the process at once whatever the Database's `exitOnSignal` says.
  const env = (id: string, writers: number): Record<string, string> =>
    ({ BUCKET: `file://${dir}`, REDIS_URL: redis.url, NODE_ID: id, DIRECT_WRITERS: String(writers), PRESENCE_LEASE: String(LEASE), S3DB_DISABLE_CRON: 'true' })
  const b = await startNode(t, env('b', 0))
  const [a, c] = await Promise.all([startNode(t, env('a', 3)), startNode(t, env('c', 0))])
  return { a, b, c, dir }
}

/** A client on B that records every event and when each RESYNC_REQUIRED reached it. */
async function watch (t: Test, node: Node): Promise<{ delivered: () => Set<string>, resyncs: number[] }> {
  const { client } = await connect(node.url)
  t.teardown(() => { client.close() })
  const resyncs: number[] = []
  client.socket.on('message', (data) => {
    const frame = JSON.parse(data.toString()) as Message
    if (frame.type === 'error' && frame.code === 'RESYNC_REQUIRED') resyncs.push(Date.now())
  })
  t.equal((await client.request({ type: 'subscribe', resource: 'messages' })).type, 'subscribed')
  return { delivered: () => new Set(client.received.filter((m) => m.type === 'event').map((m) => String(m.data.id))), resyncs }
}

/** Keeps DEPTH inserts outstanding on one socket until it closes; records what was acknowledged. */
function pump (client: TestClient, prefix: string, acked: Set<string>): void {
  let next = 0
  const send = (): void => {
    if (client.socket.readyState !== client.socket.OPEN) return
    const id = `${prefix}-${next++}`
    client.send({ type: 'insert', requestId: id, resource: 'messages', data: { id, content: 'via socket', channel: 'socket' } })
  }
  client.socket.on('message', (data) => {
    const frame = JSON.parse(data.toString()) as Message
    if (typeof frame.requestId !== 'string') return
    if (frame.type === 'inserted') acked.add(frame.requestId)
    send()
  })
  for (let i = 0; i < DEPTH; i++) send()
}

/**
 * Once A is gone: waits (bounded) until every record in the store reached the watcher or a
 * RESYNC_REQUIRED reached it after the record landed, then asserts it. Returns what was missed.
 */
async function checkStore (t: Test, dir: string, watcher: { delivered: () => Set<string>, resyncs: number[] }): Promise<{ stored: string[], missing: string[] }> {
  const db = new Database({ connectionString: `file://${dir}`, logLevel: 'silent' } as ConstructorParameters<typeof Database>[0])
  await db.connect()
  t.teardown(async () => { await db.disconnect() })
  // A write cut off mid-way can leave a temporary file of the file:// client behind: not a record.
  type Listing = { listIds: (options: { limit: number }) => Promise<string[]> }
  const stored = (await (db.resources as Record<string, Listing>).messages?.listIds({ limit: 1_000_000 }) ?? []).filter((id) => !id.includes('.tmp.'))
  // When each record landed, by the store's own clock (file:// keeps one file per record).
  const landings = new Map<string, number>()
  const landedAt = async (id: string): Promise<number> => {
    const known = landings.get(id) ?? (await stat(join(dir, 'resource=messages', 'data', `id=${id}`))).mtimeMs
    landings.set(id, known)
    return known
  }
  const missed = (): string[] => { const seen = watcher.delivered(); return stored.filter((id) => !seen.has(id)) }
  const covered = async (): Promise<boolean> => {
    const missing = missed()
    if (missing.length === 0) return true
    return Math.max(-Infinity, ...watcher.resyncs) >= Math.max(...await Promise.all(missing.map(landedAt)))
  }
  await until(covered, 'every stored record delivered to B or a RESYNC_REQUIRED after it', 10_000).catch(() => {})
  const missing = missed()
  t.ok(await covered(), `every stored record reached B's watcher or was followed by RESYNC_REQUIRED (missing: ${missing.slice(0, 10).join(', ')})`)
  return { stored, missing }
}

const { a, b, c, dir } = await cluster(t)
const watcher = await watch(t, b)

t.test('SIGTERM while clients and other code write: every stored record is announced', async (t) => {
  const acked = new Set<string>()
  for (let w = 0; w < WRITERS; w++) {
    const { client } = await connect(a.url)
    t.teardown(() => { client.close() })
    pump(client, `socket-${w}`, acked)
  }
  // The Database's other users start writing too.
  t.equal((await fetch(`http://127.0.0.1:${a.port}/direct-writes`, { method: 'POST' })).status, 200)
  const flowing = (): boolean => { const seen = [...watcher.delivered()]; return seen.length >= 100 && seen.some((id) => id.startsWith('direct-')) }
  await until(flowing, 'writes of both kinds flowing to B')
  // A client that stopped reading: closing its socket takes drainTimeout, as in production.
  const { client: stuck } = await connect(a.url)
  t.teardown(() => { stuck.socket.terminate() }) // it reads nothing: a close handshake would wait 30 s
  ;(stuck.socket as unknown as { _socket: Socket })._socket.pause()

  a.child.kill('SIGTERM')
  t.equal(await a.exited, 0, 'A shut down cleanly')
  const { stored, missing } = await checkStore(t, dir, watcher)
  t.comment(`stored ${stored.length}, never announced ${missing.length} (acknowledged ${missing.filter((id) => acked.has(id)).length}, direct ${missing.filter((id) => id.startsWith('direct-')).length}), resyncs ${watcher.resyncs.length}`)
  t.ok(stored.length > 100, 'the test wrote through the shutdown')
})

t.test('a write still running when close stops waiting: the cluster is told to re-list', async (t) => {
  // Lands in the store at once; its change is not captured before close stops waiting.
  t.equal((await fetch(`http://127.0.0.1:${c.port}/stuck-write`, { method: 'POST' })).status, 200)
  await until(async () => await stat(join(dir, 'resource=messages', 'data', 'id=stuck-c')).then(() => true, () => false), 'the stuck write in the store')

  c.child.kill('SIGTERM')
  t.equal(await c.exited, 0, 'C shut down within its bound')
  const { missing } = await checkStore(t, dir, watcher)
  t.ok(missing.includes('stuck-c'), 'its change was never announced')
  t.ok(watcher.resyncs.length > 0, 'so B\'s clients were told to re-list')
})

t.test('one instance: frames arriving during close do not run; a write running then is announced before the 1001', async (t) => {
  const { app, db, client } = await buildApp(t)
  const messages = db.resources.messages as unknown as { addHook: (event: string, hook: (data: Record<string, unknown>) => Promise<unknown>) => void, insert: (data: Record<string, unknown>) => Promise<unknown>, exists: (id: string) => Promise<boolean> }
  const gates = new Map<string, () => void>()
  const held = new Map<string, Promise<void>>()
  for (const id of ['frame', 'direct']) held.set(id, new Promise<void>((resolve) => { gates.set(id, resolve) }))
  const started = new Set<string>()
  messages.addHook('beforeInsert', async (data) => {
    const gate = held.get(String(data.id))
    if (gate !== undefined) { started.add(String(data.id)); await gate }
    return data
  })
  const subscriber = await client()
  await subscriber.request({ type: 'subscribe', resource: 'messages' })
  const writer = await client()
  const late = await client()

  writer.send({ type: 'insert', requestId: 'frame', resource: 'messages', data: { id: 'frame', content: 'x', channel: 'c' } })
  const direct = messages.insert({ id: 'direct', content: 'x', channel: 'c' }) // the app's other code
  await until(() => started.size === 2, 'both writes running')
  const closing = app.close()
  await until(() => !app.realtime.getServerInfo().isRunning, 'close under way')
  late.send({ type: 'insert', requestId: 'late', resource: 'messages', data: { id: 'late', content: 'x', channel: 'c' } })
  // ws answers a ping after reading every frame sent before it: the insert has reached the server.
  await Promise.race([new Promise<void>((resolve) => { late.socket.once('pong', () => { resolve() }); late.socket.ping() }), late.closed])

  gates.get('frame')?.()
  t.equal((await writer.waitFor((m) => m.requestId === 'frame')).type, 'inserted', 'the frame already running finished and replied')
  gates.get('direct')?.() // lands after the socket request is answered
  await direct
  await closing
  t.equal((await subscriber.closed).code, 1001)
  const events = subscriber.received.filter((m) => m.type === 'event').map((m) => m.data.id)
  t.same(events.sort(), ['direct', 'frame'], 'both writes were announced before the socket closed')
  t.equal(late.received.find((m) => m.requestId === 'late'), undefined, 'the late frame got no answer')
  t.equal(await messages.exists('late'), false, 'and did not run')
})
