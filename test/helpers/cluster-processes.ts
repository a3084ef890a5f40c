import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { Database } from 's3db.js'
import type { Test } from 'tap'
import { connect, type Message, type TestClient } from './client.js'
import { RedisLink, startRedis, type RedisProcess } from './redis.js'
import { until } from './wait.js'

type Db = InstanceType<typeof Database>

const INSTANCE = fileURLToPath(new URL('../fixtures/cluster-node.ts', import.meta.url))
const WORKER = fileURLToPath(new URL('../fixtures/cluster-worker.ts', import.meta.url))

export interface ClusterProcess {
  readonly id: string
  readonly child: ChildProcess
  /** Every JSON line the process printed so far. */
  readonly said: Array<Record<string, unknown>>
  readonly exited: Promise<void>
  /** Resolves with the first printed line (past or future) that matches. */
  waitSaid: (match: (line: Record<string, unknown>) => boolean, what: string, timeoutMs?: number) => Promise<Record<string, unknown>>
  /** Sends one command line (workers). */
  command: (line: string) => void
}

export interface Instance extends ClusterProcess {
  readonly port: number
  readonly url: string
}

/**
 * A fresh file:// bucket shared by every process of one test (removed at teardown), with the
 * `messages` resource the fixtures use already created, so instances and workers can start at once.
 */
export async function sharedBucket (t: Test): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 's3db-realtime-liveness-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const bucket = `file://${dir}`
  const db = new Database({ connectionString: bucket, logLevel: 'silent' } as ConstructorParameters<typeof Database>[0])
  await db.connect()
  // The same definition as test/fixtures/cluster-node.ts.
  await db.createResource({ name: 'messages', attributes: { content: 'string|required', channel: 'string|required', author: 'string|optional' } } as Parameters<Db['createResource']>[0])
  await db.disconnect()
  return bucket
}

function run (t: Test, entry: string, id: string, env: Record<string, string>): ClusterProcess {
  const loader = process.execArgv.filter((arg) => arg.includes('typescript'))
  const child = spawn(process.execPath, [...loader, entry], { env: { ...process.env, TS_NODE_TRANSPILE_ONLY: '1', ...env, NODE_ID: id }, stdio: ['pipe', 'pipe', 'inherit'] })
  const exited = new Promise<void>((resolve) => { child.once('exit', () => { resolve() }) })
  t.teardown(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    child.kill('SIGKILL')
    await exited
  })
  const said: Array<Record<string, unknown>> = []
  const waiters = new Set<{ match: (line: Record<string, unknown>) => boolean, resolve: (line: Record<string, unknown>) => void }>()
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (text) => {
    let line: Record<string, unknown>
    try { line = JSON.parse(text) as Record<string, unknown> } catch { return }
    said.push(line)
    for (const waiter of [...waiters]) if (waiter.match(line)) { waiters.delete(waiter); waiter.resolve(line) }
  })
  const waitSaid = async (match: (line: Record<string, unknown>) => boolean, what: string, timeoutMs = 30_000): Promise<Record<string, unknown>> => {
    const found = said.find(match)
    if (found !== undefined) return found
    return await new Promise((resolve, reject) => {
      const waiter = { match, resolve: (line: Record<string, unknown>) => { clearTimeout(timer); resolve(line) } }
      const timer = setTimeout(() => { waiters.delete(waiter); reject(new Error(`${id}: timed out waiting for ${what}`)) }, timeoutMs)
      waiters.add(waiter)
      void exited.then(() => { if (waiters.delete(waiter)) { clearTimeout(timer); reject(new Error(`${id} exited before ${what}`)) } })
    })
  }
  return { id, child, said, exited, waitSaid, command: (line) => { child.stdin?.write(line + '\n') } }
}

/** test/fixtures/cluster-node.ts in its own process; resolves once it listens. */
export async function startInstance (t: Test, id: string, env: { BUCKET: string, REDIS_URL: string, PRESENCE_LEASE: string }): Promise<Instance> {
  const node = run(t, INSTANCE, id, env)
  const ready = await node.waitSaid((line) => typeof line.port === 'number', 'its port', 60_000)
  const port = ready.port as number
  return { ...node, port, url: `ws://127.0.0.1:${port}/ws` }
}

/** test/fixtures/cluster-worker.ts in its own process; resolves once its publisher is attached. */
export async function startWorker (t: Test, id: string, env: { BUCKET: string, REDIS_URL: string, PRESENCE_LEASE: string }): Promise<ClusterProcess> {
  const worker = run(t, WORKER, id, env)
  await worker.waitSaid((line) => line.ready === true, 'the publisher', 60_000)
  return worker
}

/** A plain client of an instance, closed at teardown. */
export async function openClient (t: Test, instance: Instance): Promise<TestClient> {
  const { client } = await connect(instance.url)
  t.teardown(() => { client.close() })
  return client
}

/** Whether the instance's own bus connection is up, as its readiness probe reports it. */
export async function busConnected (instance: Instance): Promise<boolean> {
  const response = await fetch(`http://127.0.0.1:${instance.port}/health/ready`)
  const body = await response.json() as { checks?: { bus?: { connected?: boolean } } }
  return body.checks?.bus?.connected === true
}

/** The ids of the `messages` records in the shared bucket, read straight from the store. */
export async function storedIds (t: Test, bucket: string): Promise<() => Promise<string[]>> {
  const db = new Database({ connectionString: bucket, logLevel: 'silent' } as ConstructorParameters<typeof Database>[0])
  await db.connect()
  t.teardown(async () => { await db.disconnect() })
  return async () => {
    const resource = (db.resources as Record<string, { listIds: () => Promise<string[]> } | undefined>).messages
    return resource === undefined ? [] : await resource.listIds()
  }
}

export const eventIds = (client: TestClient): Set<string> => new Set(client.received.filter((m) => m.type === 'event').map((m) => m.data.id as string))

export const isResync = (m: Message): boolean => m.type === 'error' && m.code === 'RESYNC_REQUIRED'

/** When (this process's clock, ms) each RESYNC_REQUIRED reached `client`, from now on. */
export function resyncTimes (client: TestClient): number[] {
  const times: number[] = []
  client.socket.on('message', (data) => { if (isResync(JSON.parse(data.toString()) as Message)) times.push(Date.now()) })
  return times
}

/** What the two-instance tests share: A reaches Redis only through `link`; `watcher` is on B. */
export interface TwoInstances {
  readonly redis: RedisProcess
  readonly bucket: string
  readonly a: Instance
  readonly b: Instance
  readonly link: RedisLink
  /** Subscribed to messages on B. */
  readonly watcher: TestClient
  /** When each RESYNC_REQUIRED reached the watcher. */
  readonly resyncs: number[]
  readonly lease: number
}

/** Redis, instances A (behind a RedisLink) and B on one bucket, a watcher subscribed on B. */
export async function twoInstances (t: Test, lease: number): Promise<TwoInstances> {
  const redis = await startRedis(t)
  const link = await RedisLink.start(t, redis)
  const bucket = await sharedBucket(t)
  const [a, b] = await Promise.all([
    startInstance(t, 'a', { BUCKET: bucket, REDIS_URL: link.url, PRESENCE_LEASE: String(lease) }),
    startInstance(t, 'b', { BUCKET: bucket, REDIS_URL: redis.url, PRESENCE_LEASE: String(lease) })
  ])
  const watcher = await openClient(t, b)
  const resyncs = resyncTimes(watcher)
  await watcher.request({ type: 'subscribe', resource: 'messages' })
  return { redis, bucket, a, b, link, watcher, resyncs, lease }
}

/**
 * Waits (bounded: 20 leases) until every record in `ids` reached the watcher, or it was told to
 * re-list after `since` (when the last record it misses was already in the store), then asserts it.
 */
export async function assertSeenOrTold (t: Test, setup: { watcher: TestClient, resyncs: number[], lease: number }, ids: string[], since: number): Promise<void> {
  const told = (): boolean => setup.resyncs.some((at) => at > since)
  const missing = (): string[] => { const seen = eventIds(setup.watcher); return ids.filter((id) => !seen.has(id)) }
  await until(() => missing().length === 0 || told(), 'every stored record or a resync', 20 * setup.lease).catch(() => {})
  t.ok(missing().length === 0 || told(), `every stored record reached the watcher, or it was told to re-list after them (missing: ${missing().join(', ') || 'none'})`)
}
