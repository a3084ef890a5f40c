import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import t, { type Test } from 'tap'
import { connect, type Message, type TestClient } from '../helpers/client.js'
import { startRedis } from '../helpers/redis.js'
import { openAs } from '../helpers/cluster-users.js'
import { until } from '../helpers/wait.js'

const FIXTURE = fileURLToPath(new URL('../fixtures/cluster-node.ts', import.meta.url))

interface Node {
  id: string
  port: number
  child: ChildProcess
  url: string
}

/** Starts test/fixtures/cluster-node.ts in its own process (same TS loader as this test). */
async function startNode (t: Test, env: Record<string, string>): Promise<Node> {
  const loader = process.execArgv.filter((arg) => arg.includes('typescript'))
  const child = spawn(process.execPath, [...loader, FIXTURE], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] })
  t.teardown(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGTERM')
    await exited
  })
  const port = await new Promise<number>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })
    lines.once('line', (line) => { resolve((JSON.parse(line) as { port: number }).port) })
    child.once('exit', (code) => { reject(new Error(`node ${env.NODE_ID ?? ''} exited with ${String(code)} before it was ready`)) })
  })
  return { id: env.NODE_ID as string, port, child, url: `ws://127.0.0.1:${port}/ws` }
}

async function open (t: Test, node: Node): Promise<TestClient> {
  const { client } = await connect(node.url)
  t.teardown(() => { client.close() })
  return client
}

const eventsOf = (client: TestClient): Message[] => client.received.filter((m) => m.type === 'event')

/** Inserts, then updates and deletes some of them, through one instance's socket; returns the ops. */
async function writeBurst (writer: TestClient, prefix: string, total: number): Promise<Array<{ id: string, event: string, channel: string }>> {
  const ops: Array<{ id: string, event: string, channel: string }> = []
  const inserts = 120
  const deletes = 20
  const updates = total - inserts - deletes
  const channelOf = (i: number): string => i % 3 === 0 ? 'general' : 'random'
  for (let i = 0; i < inserts; i++) {
    const reply = await writer.request({ type: 'insert', resource: 'messages', data: { id: `${prefix}-${i}`, content: `c${i}`, channel: channelOf(i) } })
    if (reply.type !== 'inserted') throw new Error(JSON.stringify(reply))
    ops.push({ id: `${prefix}-${i}`, event: 'insert', channel: channelOf(i) })
  }
  for (let i = 0; i < updates; i++) {
    const reply = await writer.request({ type: 'update', resource: 'messages', id: `${prefix}-${i}`, data: { content: `edited ${i}` } })
    if (reply.type !== 'updated') throw new Error(JSON.stringify(reply))
    ops.push({ id: `${prefix}-${i}`, event: 'update', channel: channelOf(i) })
  }
  for (let i = 0; i < deletes; i++) {
    const reply = await writer.request({ type: 'delete', resource: 'messages', id: `${prefix}-${i}` })
    if (reply.type !== 'deleted') throw new Error(JSON.stringify(reply))
    ops.push({ id: `${prefix}-${i}`, event: 'delete', channel: channelOf(i) })
  }
  return ops
}

t.test('three instances in separate processes, one Redis: exactly-once delivery, presence, kill -9, resume', async (t) => {
  const redis = await startRedis(t)
  const dir = await mkdtemp(join(tmpdir(), 's3db-realtime-cluster-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const env = (id: string): Record<string, string> => ({ BUCKET: `file://${dir}`, REDIS_URL: redis.url, NODE_ID: id, PRESENCE_LEASE: '300' })
  // The first creates the resource in the shared bucket; the others then load it.
  const nodes: Node[] = [await startNode(t, env('n1'))]
  nodes.push(...await Promise.all([startNode(t, env('n2')), startNode(t, env('n3'))]))

  const all: TestClient[] = []
  const general: TestClient[] = []
  for (const node of nodes) {
    const a = await open(t, node)
    const g = await open(t, node)
    await a.request({ type: 'subscribe', resource: 'messages' })
    await g.request({ type: 'subscribe', resource: 'messages', filter: { channel: 'general' } })
    all.push(a)
    general.push(g)
  }
  // Two writers per instance, each on its own records, so per-record order is the writer's order.
  const writers = await Promise.all([...nodes, ...nodes].map(async (node) => await open(t, node)))

  const ops = (await Promise.all(writers.map(async (w, i) => await writeBurst(w, `w${i}`, i < 4 ? 167 : 166)))).flat()
  t.equal(ops.length, 1000, 'a burst of 1,000 mixed events')
  const expectedGeneral = ops.filter((o) => o.channel === 'general').length
  await until(() => all.every((c) => eventsOf(c).length >= 1000) && general.every((c) => eventsOf(c).length >= expectedGeneral), 'the burst on every client', 60_000)

  const reference = eventsOf(all[0] as TestClient).map((e) => `${e.seq as number}:${e.event as string}:${e.data.id as string}`)
  t.same(eventsOf(all[0] as TestClient).map((e) => e.seq), [...Array(1000).keys()].map((i) => i + 1), 'seqs 1..1000, in order, no gap')
  for (const client of all) {
    t.same(eventsOf(client).map((e) => `${e.seq as number}:${e.event as string}:${e.data.id as string}`), reference, 'every instance delivered the same 1,000 events exactly once')
  }
  const counts = (list: Message[], event: string): number => list.filter((e) => e.event === event).length
  t.same([counts(eventsOf(all[1] as TestClient), 'insert'), counts(eventsOf(all[1] as TestClient), 'update'), counts(eventsOf(all[1] as TestClient), 'delete')], [720, 160, 120])
  for (const client of general) {
    const got = eventsOf(client)
    t.equal(got.length, expectedGeneral, 'filtered clients got exactly the matching events')
    t.ok(got.every((e) => e.data.channel === 'general'))
  }
  // Per-record order: insert, then update, then delete, as written.
  const order = new Map<string, string[]>()
  for (const e of eventsOf(all[2] as TestClient)) order.set(e.data.id, [...(order.get(e.data.id) ?? []), e.event])
  t.ok([...order.values()].every((seq) => seq.join(',') === ['insert', 'update', 'delete'].slice(0, seq.length).join(',')), 'per-record order kept')

  // Cluster presence: one member per instance; each sees the others join.
  const members = await Promise.all(['ann', 'bob', 'carl'].map(async (id, i) => await openAs(t, (nodes[i] as Node).url, { id })))
  for (const member of members) await member.request({ type: 'join', channel: 'presence-lobby' })
  const annOnN1 = members[0] as TestClient
  const bobOnN2 = members[1] as TestClient
  await annOnN1.waitFor((m) => m.type === 'presence:member_joined' && m.member.id === 'carl')
  await bobOnN2.waitFor((m) => m.type === 'presence:member_joined' && m.member.id === 'carl')

  // kill -9 one instance: its clients drop; the others go on; a dropped client resumes elsewhere.
  const victim = nodes[2] as Node
  const dropped = all[2] as TestClient
  const lastSeen = eventsOf(dropped).at(-1)?.seq as number
  const epoch = (await (writers[0] as TestClient).request({ type: 'subscribe', resource: 'messages', filter: { channel: 'none' } })).epoch as string
  victim.child.kill('SIGKILL')
  await dropped.closed
  t.not(dropped.closeCode, 1000, 'an abrupt close, not a clean one')

  for (let i = 0; i < 50; i++) {
    await (writers[i % 2] as TestClient).request({ type: 'insert', resource: 'messages', data: { id: `after-${i}`, content: 'x', channel: i % 2 === 0 ? 'general' : 'random' } })
  }
  await until(() => eventsOf(all[0] as TestClient).length === 1050 && eventsOf(all[1] as TestClient).length === 1050, 'writes after the kill on the survivors', 60_000)

  // The survivors cannot tell whether the killed instance left writes in the store it never
  // numbered (issue #18): once they miss it for 3 leases they start a new epoch and tell every
  // subscriber to re-list, so a position from before the kill no longer resumes anywhere.
  const isResync = (m: Message): boolean => m.type === 'error' && m.code === 'RESYNC_REQUIRED'
  await until(() => [all[0], all[1]].every((c) => (c as TestClient).received.some(isResync)), 'the survivors to announce the lost instance', 10_000)
  const back = await open(t, nodes[1] as Node)
  const reply = await back.request({ type: 'subscribe', resource: 'messages', filter: { channel: 'general' }, since: lastSeen, epoch })
  t.equal(reply.code, 'RESYNC_REQUIRED', 'the dropped client resuming on another instance is told to re-list')
  t.equal((await back.request({ type: 'subscribe', resource: 'messages', filter: { channel: 'general' } })).type, 'subscribed', 'then subscribes afresh')
  await (writers[0] as TestClient).request({ type: 'insert', resource: 'messages', data: { id: 'after-resync', content: 'x', channel: 'general' } })
  await until(() => eventsOf(back).length === 1, 'the next matching change', 60_000)
  t.same(eventsOf(back).map((e) => e.data.id), ['after-resync'], 'and gets every later matching change')
  // Carl's instance died without a word: its lease runs out and Carl leaves, once, everywhere.
  for (const member of [annOnN1, bobOnN2]) {
    const left = await member.waitFor((m) => m.type === 'presence:member_left' && m.member.id === 'carl', 10_000)
    t.equal(left.channel, 'presence-lobby', 'members of a kill -9\'d instance leave')
  }
  await new Promise((resolve) => setTimeout(resolve, 1500)) // 5 more leases: a duplicate would show
  for (const member of [annOnN1, bobOnN2]) {
    await member.request({ type: 'ping' })
    t.equal(member.ofType('presence:member_left').length, 0, 'member_left sent once')
  }
  const health = await fetch(`http://127.0.0.1:${(nodes[0] as Node).port}/health/ready`)
  t.equal(health.status, 200, 'survivors stay ready')
})
