import t from 'tap'
import { ClusterPresenceStore, type PresenceOp } from '../../src/cluster/presence.js'
import type { PresenceMember } from '../../src/channels/types.js'
import { prng } from '../helpers/fuzz.js'

const member = (id: string, clientId: string): PresenceMember => ({ id, clientId, userInfo: {}, joinedAt: '2026-01-01T00:00:00.000Z' })

t.test('the union count and membership stay exact through random local and remote joins, leaves, states and expiries', async (t) => {
  const random = prng(0x5EED)
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T
  const store = new ClusterPresenceStore(() => {})
  const joined: number[] = []
  const gone: number[] = []
  store.onRemoteChange((change) => { (change === 'joined' ? joined : gone).push(1) })
  const channels = ['presence-a', 'presence-b']
  const users = ['u1', 'u2', 'u3', 'u4']
  const nodes = ['n1', 'n2', 'n3']
  /** What each remote node holds, to build valid leave and state ops. */
  const remote = new Map(nodes.map((n) => [n, new Map<string, { channel: string, id: string }>()]))
  /** Each remote node's run: its view version (ops arrive without gaps) and message count. */
  const runs = new Map(nodes.map((n) => [n, { incarnation: `${n}-0`, version: 0, n: 0 }]))
  const run = (node: string): { incarnation: string, version: number, n: number } => runs.get(node) as { incarnation: string, version: number, n: number }
  const next = (node: string): number => ++run(node).version
  const stamp = (node: string): { incarnation: string, n: number } => ({ incarnation: run(node).incarnation, n: ++run(node).n })
  const localClients = new Map<string, string>()
  let nextClient = 0
  let checked = 0

  for (let step = 0; step < 3000; step++) {
    const roll = random()
    if (roll < 0.25) {
      const clientId = `local${nextClient++}`
      const channel = pick(channels)
      store.join(channel, 'presence', member(pick(users), clientId))
      localClients.set(clientId, channel)
    } else if (roll < 0.4 && localClients.size > 0) {
      const clientId = pick([...localClients.keys()])
      store.leave(localClients.get(clientId) as string, clientId)
      localClients.delete(clientId)
    } else if (roll < 0.65) {
      const node = pick(nodes)
      const clientId = `${node}-c${nextClient++}`
      const op = { op: 'join', v: next(node), channel: pick(channels), type: 'presence', clientId, member: member(pick(users), clientId), ...stamp(node) } as const
      store.receive(node, op, step)
      remote.get(node)?.set(clientId, { channel: op.channel, id: op.member.id })
    } else if (roll < 0.85) {
      const node = pick(nodes)
      const held = remote.get(node) as Map<string, { channel: string, id: string }>
      if (held.size > 0) {
        const clientId = pick([...held.keys()])
        store.receive(node, { op: 'leave', v: next(node), channel: held.get(clientId)?.channel as string, clientId, ...stamp(node) }, step)
        held.delete(clientId)
      }
    } else if (roll < 0.95) {
      // A node's full state replaces what was known of it.
      const node = pick(nodes)
      const held = remote.get(node) as Map<string, { channel: string, id: string }>
      held.clear()
      const state = channels.map((channel) => {
        const ids = users.filter(() => random() < 0.5)
        return { channel, type: 'presence' as const, createdAt: '2026-01-01T00:00:00.000Z', members: ids.map((id) => ({ member: member(id, `${node}-s${nextClient}-${id}`), clients: [`${node}-s${nextClient}-${id}`] })) }
      })
      for (const entry of state) for (const { member: m, clients } of entry.members) held.set(clients[0] as string, { channel: entry.channel, id: m.id })
      nextClient++
      const op: PresenceOp = { op: 'state', version: next(node), channels: state, ...stamp(node) }
      store.receive(node, op, step)
    } else {
      const node = pick(nodes)
      store.receive(node, { op: 'bye' }, step)
      remote.get(node)?.clear()
      runs.set(node, { incarnation: `${node}-${step}`, version: 0, n: 0 }) // it comes back as a new run
    }
    for (const channel of channels) {
      const union = new Set(store.members(channel).map((m) => m.id))
      if (store.memberCount(channel) !== union.size) t.fail(`step ${step}: memberCount ${store.memberCount(channel)} but ${union.size} members in ${channel}`)
      for (const id of users) if (store.hasMember(channel, id) !== union.has(id)) t.fail(`step ${step}: hasMember(${channel}, ${id}) disagrees with members()`)
      checked++
    }
  }
  t.equal(checked, 6000, 'every step checked against the full union')
  t.ok(joined.length > 0 && gone.length > 0, 'remote joins and leaves were announced along the way')
  // Everyone leaves: nothing may remain counted.
  for (const [clientId, channel] of localClients) store.leave(channel, clientId)
  for (const node of nodes) store.receive(node, { op: 'bye' }, 0)
  t.same(channels.map((c) => store.memberCount(c)), [0, 0], 'empty when everyone left')
})
