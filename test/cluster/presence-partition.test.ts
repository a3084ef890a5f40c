/**
 * Presence anti-entropy with real processes (issue #18, fault 6): three instances, each behind
 * its own TCP relay to one redis-server, so one instance (or all) can be cut off from Redis while
 * members join and leave on both sides. After the cut heals, every instance's member list must
 * converge to the truth, and each real change must reach each watching socket once.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import t, { type Test } from 'tap'
import type { TestClient } from '../helpers/client.js'
import { openAs } from '../helpers/cluster-users.js'
import { startRedis, type RedisProcess } from '../helpers/redis.js'
import { TcpProxy } from '../helpers/tcp-proxy.js'
import { until } from '../helpers/wait.js'

const FIXTURE = fileURLToPath(new URL('../fixtures/cluster-node.ts', import.meta.url))
const LEASE = 300

interface Node {
  id: string
  port: number
  child: ChildProcess
  proxy: TcpProxy
  url: string
}

async function startNode (t: Test, id: string, env: Record<string, string>, proxy: TcpProxy): Promise<Node> {
  const loader = process.execArgv.filter((arg) => arg.includes('typescript'))
  const child: ChildProcess = spawn(process.execPath, [...loader, FIXTURE], {
    env: { ...process.env, TS_NODE_TRANSPILE_ONLY: '1', ...env, NODE_ID: id, REDIS_URL: proxy.url, PRESENCE_LEASE: String(LEASE) },
    stdio: ['ignore', 'pipe', 'inherit']
  })
  t.teardown(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGKILL')
    await exited
  })
  const port = await new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).once('line', (line) => { resolve((JSON.parse(line) as { port: number }).port) })
    child.once('exit', (code) => { reject(new Error(`node ${id} exited with ${String(code)} before it was ready`)) })
  })
  return { id, port, child, proxy, url: `ws://127.0.0.1:${port}/ws` }
}

/** Three instances on one bucket, each reaching the one redis-server through its own relay. */
async function threeNodes (t: Test): Promise<{ redis: RedisProcess, nodes: [Node, Node, Node] }> {
  const redis = await startRedis(t)
  const dir = await mkdtemp(join(tmpdir(), 's3db-realtime-presence-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const env = { BUCKET: `file://${dir}` }
  const proxies = await Promise.all([0, 1, 2].map(async () => await TcpProxy.start(t, redis.port)))
  // The first creates the resource in the shared bucket; the others then load it.
  const first = await startNode(t, 'n1', env, proxies[0] as TcpProxy)
  const [second, third] = await Promise.all([startNode(t, 'n2', env, proxies[1] as TcpProxy), startNode(t, 'n3', env, proxies[2] as TcpProxy)])
  return { redis, nodes: [first, second, third] }
}

/** Whether the instance's own bus connection is up, as its readiness probe reports it. */
async function busConnected (node: Node): Promise<boolean> {
  const response = await fetch(`http://127.0.0.1:${node.port}/health/ready`, { headers: { connection: 'close' }, signal: AbortSignal.timeout(5000) })
  const body = await response.json() as { checks?: { bus?: { connected?: boolean } } }
  return body.checks?.bus?.connected === true
}

type Announcement = `${'joined' | 'left'}:${string}`

/**
 * A member that watches a room: its view is the member list of its join reply, then every
 * member_joined / member_left it was sent, in order. A join for a member already in view, or a
 * leave for one not in view, is a wrong announcement and is recorded.
 */
class Watcher {
  private readonly initial: string[]

  private constructor (readonly client: TestClient, readonly room: string, members: Array<{ id: string }>) {
    this.initial = members.map((m) => m.id)
  }

  static async join (t: Test, node: Node, room: string, id: string): Promise<Watcher> {
    const { client } = await member(t, node, room, id)
    const reply = client.received.find((m) => m.type === 'channel:joined')
    return new Watcher(client, room, reply?.members as Array<{ id: string }>)
  }

  /** Every announcement so far, in order. */
  announcements (): Announcement[] {
    const frames = this.client.received.filter((m) => (m.type === 'presence:member_joined' || m.type === 'presence:member_left') && m.channel === this.room)
    return frames.map((m) => `${m.type === 'presence:member_joined' ? 'joined' : 'left'}:${m.member.id as string}` as const)
  }

  view (): { members: string[], wrong: Announcement[] } {
    const members = new Set(this.initial)
    const wrong: Announcement[] = []
    for (const event of this.announcements()) {
      const [change, id] = event.split(':') as [string, string]
      if ((change === 'joined') === members.has(id)) wrong.push(event)
      if (change === 'joined') members.add(id)
      else members.delete(id)
    }
    return { members: [...members].sort(), wrong }
  }

  /** Announcements after the first `mark` (a length of `announcements()`), sorted, probes left out. */
  since (mark: number): Announcement[] {
    return this.announcements().slice(mark).filter((e) => !e.includes(':probe-')).sort()
  }
}

interface Member {
  client: TestClient
  room: string
  id: string
}

async function member (t: Test, node: Node, room: string, id: string): Promise<Member> {
  const client = await openAs(t, node.url, { id })
  const reply = await client.request({ type: 'join', channel: room })
  if (reply.type !== 'channel:joined') throw new Error(JSON.stringify(reply))
  client.received.push(reply) // a Watcher reads its member list
  return { client, room, id }
}

async function leave (m: Member): Promise<void> {
  const reply = await m.client.request({ type: 'leave', channel: m.room })
  if (reply.type !== 'channel:left') throw new Error(JSON.stringify(reply))
}

async function converge (watchers: Watcher[], truth: string[], what: string, ms = 20_000): Promise<void> {
  const sorted = [...truth].sort()
  try {
    await until(() => watchers.every((w) => w.view().members.join(',') === sorted.join(',')), what, ms)
  } catch (error) {
    const views = watchers.map((w, i) => `  watcher on n${i + 1}: ${w.view().members.join(',')}`).join('\n')
    throw new Error(`${(error as Error).message}\n  truth: ${sorted.join(',')}\n${views}`)
  }
}

/** What a fresh socket joining the room on each instance is told the members are (probes left out). */
async function freshLists (t: Test, nodes: Node[], room: string): Promise<string[][]> {
  const lists: string[][] = []
  for (const node of nodes) {
    const probe = await member(t, node, room, `probe-${node.id}`)
    const reply = probe.client.received.find((m) => m.type === 'channel:joined')
    lists.push((reply?.members as Array<{ id: string }>).map((m) => m.id).filter((id) => !id.startsWith('probe-')).sort())
    await leave(probe)
  }
  return lists
}

const quiet = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

async function watch (t: Test, nodes: Node[], room: string): Promise<[Watcher, Watcher, Watcher]> {
  return await Promise.all(nodes.map(async (node, i) => await Watcher.join(t, node, room, `w${i + 1}`))) as [Watcher, Watcher, Watcher]
}

t.test('presence converges after an instance (or all) loses Redis, each change announced once', async (t) => {
  const { redis, nodes } = await threeNodes(t)
  const [n1, n2, n3] = nodes

  await t.test('one instance cut off for longer than the lease', async (t) => {
    const room = 'presence-cut-one'
    const watchers = await watch(t, nodes, room)
    const [w1, w2, w3] = watchers
    const stay1 = await member(t, n1, room, 'stay1')
    const gone1 = await member(t, n1, room, 'gone1')
    const stay3 = await member(t, n3, room, 'stay3')
    const gone3 = await member(t, n3, room, 'gone3')
    await converge(watchers, ['w1', 'w2', 'w3', 'stay1', 'gone1', 'stay3', 'gone3'], 'every watcher to list everyone before the cut')
    const marks = watchers.map((w) => w.announcements().length)

    n3.proxy.cut()
    await until(async () => !(await busConnected(n3)), 'n3 to notice it is cut off')
    // Longer than the lease: n1 and n2 drop n3, and its members leave there.
    await until(() => !w1.view().members.includes('w3') && !w2.view().members.includes('w3'), 'n1 and n2 to drop n3 after 3 leases', 10_000)
    // Changes on both sides of the cut.
    await leave(gone1)
    await member(t, n1, room, 'new1')
    await leave(gone3)
    await member(t, n3, room, 'new3')
    await quiet(2 * LEASE)
    n3.proxy.heal()

    const truth = ['w1', 'w2', 'w3', stay1.id, 'new1', stay3.id, 'new3'].sort()
    await converge(watchers, truth, 'every watcher to list the true members after the cut heals')
    t.same(await freshLists(t, nodes, room), [truth, truth, truth], 'each instance lists the true members to a newcomer')
    await quiet(5 * LEASE) // a flapping or repeated announcement would show
    for (const [i, w] of watchers.entries()) {
      t.same(w.view(), { members: truth, wrong: [] }, `watcher on n${i + 1}: the true members, no join of a present member, no leave of an absent one`)
    }
    // n3 could not hear anyone, so it dropped no one: it hears each change made on n1 once, nothing else.
    t.same(w3.since(marks[2] as number), ['joined:new1', 'joined:new3', 'left:gone1', 'left:gone3'], 'the cut-off side: each real change once')
    // n1 and n2 dropped n3 after the lease (its members left) and list them again once it is back.
    const expected = ['joined:new1', 'joined:new3', 'joined:stay3', 'joined:w3', 'left:gone1', 'left:gone3', 'left:stay3', 'left:w3']
    t.same(w1.since(marks[0] as number), expected, 'n1: the lease expiry, the return, and each change once')
    t.same(w2.since(marks[1] as number), expected, 'n2: the same')
  })

  await t.test('one instance paused (SIGSTOP) for longer than the lease', async (t) => {
    const room = 'presence-pause'
    const watchers = await watch(t, nodes, room)
    const [w1, w2, w3] = watchers
    await member(t, n1, room, 'stay1')
    const gone1 = await member(t, n1, room, 'gone1')
    await member(t, n3, room, 'stay3')
    await converge(watchers, ['w1', 'w2', 'w3', 'stay1', 'gone1', 'stay3'], 'every watcher to list everyone before the pause')
    const marks = watchers.map((w) => w.announcements().length)

    n3.child.kill('SIGSTOP')
    t.teardown(() => { n3.child.kill('SIGCONT') })
    await until(() => !w1.view().members.includes('w3') && !w2.view().members.includes('w3'), 'n1 and n2 to drop n3 after 3 leases', 10_000)
    await leave(gone1)
    await member(t, n1, room, 'new1')
    await member(t, n2, room, 'new2')
    await quiet(2 * LEASE)
    n3.child.kill('SIGCONT')

    const truth = ['w1', 'w2', 'w3', 'stay1', 'new1', 'new2', 'stay3'].sort()
    await converge(watchers, truth, 'every watcher to list the true members after the pause')
    t.same(await freshLists(t, nodes, room), [truth, truth, truth], 'each instance lists the true members to a newcomer')
    await quiet(5 * LEASE)
    for (const [i, w] of watchers.entries()) {
      t.same(w.view(), { members: truth, wrong: [] }, `watcher on n${i + 1}: the true members, no wrong announcement`)
    }
    // Standing still is not hearing others leave: n3 does not drop them for its own pause.
    t.same(w3.since(marks[2] as number), ['joined:new1', 'joined:new2', 'left:gone1'], 'the paused side: each real change once')
    const expected = ['joined:new1', 'joined:new2', 'joined:stay3', 'joined:w3', 'left:gone1', 'left:stay3', 'left:w3']
    t.same(w1.since(marks[0] as number), expected, 'n1: the lease expiry, the return, and each change once')
    t.same(w2.since(marks[1] as number), expected, 'n2: the same')
  })

  await t.test('Redis unreachable for every instance for longer than the lease', async (t) => {
    const room = 'presence-cut-all'
    const watchers = await watch(t, nodes, room)
    await member(t, n1, room, 'stay1')
    const gone1 = await member(t, n1, room, 'gone1')
    const gone2 = await member(t, n2, room, 'gone2')
    await member(t, n3, room, 'stay3')
    const gone3 = await member(t, n3, room, 'gone3')
    await converge(watchers, ['w1', 'w2', 'w3', 'stay1', 'gone1', 'gone2', 'stay3', 'gone3'], 'every watcher to list everyone before the outage')
    const marks = watchers.map((w) => w.announcements().length)

    for (const node of nodes) node.proxy.cut()
    await until(async () => !(await busConnected(n1)) && !(await busConnected(n2)) && !(await busConnected(n3)), 'every instance to notice Redis is gone')
    await leave(gone1)
    await leave(gone2)
    await leave(gone3)
    await member(t, n1, room, 'new1')
    await member(t, n2, room, 'new2')
    await member(t, n3, room, 'new3')
    await quiet(4 * LEASE) // no instance may drop another for its own outage
    for (const node of nodes) node.proxy.heal()

    const truth = ['w1', 'w2', 'w3', 'stay1', 'new1', 'new2', 'stay3', 'new3'].sort()
    await converge(watchers, truth, 'every watcher to list the true members after Redis is back')
    t.same(await freshLists(t, nodes, room), [truth, truth, truth], 'each instance lists the true members to a newcomer')
    await quiet(5 * LEASE)
    const changes = ['joined:new1', 'joined:new2', 'joined:new3', 'left:gone1', 'left:gone2', 'left:gone3']
    for (const [i, w] of watchers.entries()) {
      t.same(w.view(), { members: truth, wrong: [] }, `watcher on n${i + 1}: the true members, no wrong announcement`)
      t.same(w.since(marks[i] as number), changes, `watcher on n${i + 1}: each change once, no leave+join of a member that stayed`)
    }
  })

  await t.test('Redis frozen (SIGSTOP) for longer than the lease', async (t) => {
    const room = 'presence-freeze'
    const watchers = await watch(t, nodes, room)
    await member(t, n1, room, 'stay1')
    const gone1 = await member(t, n1, room, 'gone1')
    await member(t, n3, room, 'stay3')
    await converge(watchers, ['w1', 'w2', 'w3', 'stay1', 'gone1', 'stay3'], 'every watcher to list everyone before the freeze')
    const marks = watchers.map((w) => w.announcements().length)

    // Connections stay open and look healthy; nothing is delivered until the thaw.
    redis.pause()
    t.teardown(() => { redis.resume() })
    await leave(gone1)
    await member(t, n2, room, 'new2')
    await quiet(5 * LEASE)
    redis.resume()

    const truth = ['w1', 'w2', 'w3', 'stay1', 'new2', 'stay3'].sort()
    await converge(watchers, truth, 'every watcher to list the true members after the thaw')
    t.same(await freshLists(t, nodes, room), [truth, truth, truth], 'each instance lists the true members to a newcomer')
    await quiet(5 * LEASE)
    // Hearing nobody while its own heartbeats do not come back either says nothing about the
    // others: no instance drops another for the freeze.
    for (const [i, w] of watchers.entries()) {
      t.same(w.view(), { members: truth, wrong: [] }, `watcher on n${i + 1}: the true members, no wrong announcement`)
      t.same(w.since(marks[i] as number), ['joined:new2', 'left:gone1'], `watcher on n${i + 1}: each change once, no leave+join of a member that stayed`)
    }
  })
})
