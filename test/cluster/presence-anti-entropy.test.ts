/**
 * Presence anti-entropy in ClusterPresenceStore, without sockets (issue #18, fault 6): ops lost
 * on the way, a node dropped after its lease, a restarted node. Copies of other nodes' views
 * must converge through the heartbeat's version and full states, announcing only the difference.
 * The real-process version of these faults is presence-partition.test.ts.
 */
import t, { type Test } from 'tap'
import { ClusterPresenceStore, type PresenceOp } from '../../src/cluster/presence.js'
import type { PresenceMember } from '../../src/channels/types.js'

const ROOM = 'presence-room'

/** Stores wired to each other through a queue the test flushes, and may filter (a lossy bus). */
class Net {
  readonly stores = new Map<string, ClusterPresenceStore>()
  readonly heard = new Map<string, string[]>()
  readonly sent: Array<{ from: string, op: PresenceOp }> = []
  private queue: Array<{ from: string, op: PresenceOp }> = []
  /** Return false to lose an op on the way (to everyone). */
  pass: (from: string, op: PresenceOp) => boolean = () => true
  now = 0

  add (id: string): ClusterPresenceStore {
    const store = new ClusterPresenceStore((op) => { this.send(id, op) })
    const heard: string[] = []
    store.onRemoteChange((change, channel, member) => { heard.push(`${change}:${member.id}`) })
    this.stores.set(id, store)
    this.heard.set(id, heard)
    return store
  }

  send (from: string, op: PresenceOp): void {
    this.sent.push({ from, op })
    if (this.pass(from, op)) this.queue.push({ from, op })
  }

  /** Delivers until nothing is in flight (answers included). */
  flush (): void {
    while (this.queue.length > 0) {
      const { from, op } = this.queue.shift() as { from: string, op: PresenceOp }
      for (const [id, store] of this.stores) {
        if (id === from || (op.op === 'ask' && op.to !== id)) continue
        store.receive(from, op, this.now)
      }
    }
  }

  heartbeat (id: string): void {
    this.send(id, (this.stores.get(id) as ClusterPresenceStore).alive())
    this.flush()
  }

  hello (id: string): void {
    this.send(id, (this.stores.get(id) as ClusterPresenceStore).hello())
    this.flush()
  }

  ids (id: string): string[] {
    return (this.stores.get(id) as ClusterPresenceStore).members(ROOM).map((m) => m.id).sort()
  }

  asks (): number {
    return this.sent.filter(({ op }) => op.op === 'ask').length
  }
}

const member = (id: string, clientId: string): PresenceMember => ({ id, clientId, userInfo: {}, joinedAt: '2026-01-01T00:00:00.000Z' })
const join = (store: ClusterPresenceStore, id: string, clientId = `${id}-tab`): void => { store.join(ROOM, 'presence', member(id, clientId)) }

/** Two started stores that know each other, `a` holding ann and amy. */
function pair (t: Test): { net: Net, a: ClusterPresenceStore, b: ClusterPresenceStore } {
  const net = new Net()
  const a = net.add('a')
  const b = net.add('b')
  net.hello('a')
  net.hello('b')
  join(a, 'ann')
  join(a, 'amy')
  net.flush()
  t.same(net.ids('b'), ['amy', 'ann'], 'b sees a\'s members')
  net.heard.get('b')?.splice(0)
  return { net, a, b }
}

t.test('a lost op is repaired by the next heartbeat; only the difference is announced', async (t) => {
  const { net, a } = pair(t)
  net.pass = () => false // the bus loses everything for a while
  a.leave(ROOM, 'ann-tab')
  join(a, 'abe')
  net.pass = () => true
  net.flush()
  t.same(net.ids('b'), ['amy', 'ann'], 'b missed both changes')
  const asksBefore = net.asks()
  net.heartbeat('a')
  t.equal(net.asks() - asksBefore, 1, 'the heartbeat\'s version differs from b\'s copy: b asks once')
  t.same(net.ids('b'), ['abe', 'amy'], 'the state replaced b\'s copy')
  t.same(net.heard.get('b')?.sort(), ['joined:abe', 'left:ann'], 'each change announced once; amy, who stayed, not at all')
  net.heartbeat('a')
  t.equal(net.asks() - asksBefore, 1, 'a copy at the heartbeat\'s version asks nothing')
})

t.test('a gap in the versions is noticed at the next op, without waiting for the heartbeat', async (t) => {
  const { net, a } = pair(t)
  let lose = 1
  net.pass = (_from, op) => !(op.op === 'leave' && lose-- > 0)
  a.leave(ROOM, 'amy-tab') // lost
  join(a, 'abe') // its version shows one is missing
  net.flush()
  t.same(net.ids('b'), ['abe', 'ann'], 'the gap was repaired by asking for the state')
  t.same(net.heard.get('b')?.sort(), ['joined:abe', 'left:amy'], 'each change once')
})

t.test('a node dropped after its lease is listed again from its next heartbeat', async (t) => {
  const { net, b } = pair(t)
  net.now = 10_000
  b.sweep(5_000) // a was not heard from for 3 leases (cut off from the bus)
  t.same(net.ids('b'), [], 'its members left')
  t.same(net.heard.get('b')?.sort(), ['left:amy', 'left:ann'])
  net.heartbeat('a')
  t.same(net.ids('b'), ['amy', 'ann'], 'its heartbeat made b ask for its state')
  t.same(net.heard.get('b')?.sort(), ['joined:amy', 'joined:ann', 'left:amy', 'left:ann'], 'back once')
})

t.test('a hello replaces the sender\'s copy (both directions) and is answered with a state', async (t) => {
  const { net, a, b } = pair(t)
  net.pass = () => false
  join(b, 'bea') // b's side of a cut
  a.leave(ROOM, 'ann-tab') // a's side
  net.pass = () => true
  net.hello('a') // a gets the bus back first
  t.same(net.ids('b'), ['amy', 'bea'], 'b has a\'s view from its hello')
  t.same(net.ids('a'), ['amy', 'bea'], 'a has b\'s view from b\'s answer')
  t.same(net.heard.get('b'), ['left:ann'])
  t.same(net.heard.get('a'), ['joined:bea'])
})

t.test('a restarted node (same id, new run) replaces its old view: its old members leave', async (t) => {
  const { net } = pair(t)
  const restarted = new ClusterPresenceStore((op) => { net.send('a', op) })
  net.stores.set('a', restarted)
  net.pass = (_from, op) => op.op !== 'hello' // even when its hello is lost…
  net.send('a', restarted.hello())
  net.flush()
  net.heartbeat('a') // …its heartbeat names another run than b's copy
  t.same(net.ids('b'), [], 'no ghosts of the old run')
  t.same(net.heard.get('b')?.sort(), ['left:amy', 'left:ann'])
})

t.test('a state at the version already held (answering another node\'s ask) changes and announces nothing', async (t) => {
  const { net, a } = pair(t)
  net.add('c')
  net.hello('c')
  net.heard.get('b')?.splice(0)
  const state = a.view()
  net.send('a', { op: 'state', ...state, incarnation: state.incarnation, n: 10_000 })
  net.send('a', { op: 'state', ...state, incarnation: state.incarnation, n: 10_001 })
  net.flush()
  t.same(net.ids('b'), ['amy', 'ann'])
  t.same(net.heard.get('b'), [], 'nothing announced twice')
})

t.test('while answers are lost, a node asks once per heartbeat, not more', async (t) => {
  const { net, a } = pair(t)
  net.pass = (_from, op) => op.op !== 'state' && op.op !== 'join'
  join(a, 'abe')
  join(a, 'art')
  const asksBefore = net.asks()
  for (let i = 0; i < 5; i++) net.heartbeat('a')
  t.equal(net.asks() - asksBefore, 5, 'one ask per heartbeat of the stale node')
  net.pass = () => true
  net.heartbeat('a')
  t.same(net.ids('b'), ['abe', 'amy', 'ann', 'art'], 'converged once answers get through')
})

t.test('an op older than the copy (a publish delivered again after a newer state) changes nothing', async (t) => {
  const { net, a } = pair(t)
  const ops: PresenceOp[] = []
  net.pass = (_from, op) => { if (op.op === 'join') ops.push(op); return true }
  join(a, 'abe')
  a.leave(ROOM, 'abe-tab')
  net.flush()
  t.same(net.ids('b'), ['amy', 'ann'])
  net.heard.get('b')?.splice(0)
  const asksBefore = net.asks()
  net.send('a', ops[0] as PresenceOp) // abe's join again, after his leave
  net.flush()
  t.same(net.ids('b'), ['amy', 'ann'], 'no ghost of abe')
  t.same(net.heard.get('b'), [], 'nothing announced')
  t.equal(net.asks(), asksBefore, 'nothing asked')
})

t.test('a message delivered again later (ioredis re-sends an unanswered PUBLISH after reconnecting) is ignored, even after its node was dropped', async (t) => {
  const { net, a, b } = pair(t)
  const copies: PresenceOp[] = []
  net.pass = (_from, op) => { copies.push(op); return true }
  join(a, 'abe')
  net.heartbeat('a')
  a.leave(ROOM, 'abe-tab')
  net.flush()
  net.pass = () => true
  const abeJoin = copies.find((op) => op.op === 'join') as PresenceOp
  net.send('a', abeJoin) // again, while the copy is current
  net.flush()
  t.same(net.ids('b'), ['amy', 'ann'], 'no ghost of abe')
  net.now = 10_000
  b.sweep(5_000) // a is cut off for longer than the lease
  net.heard.get('b')?.splice(0)
  for (const op of copies) net.send('a', op) // all of them again, after the drop
  net.flush()
  t.same(net.ids('b'), [], 'nothing revived by old messages')
  t.same(net.heard.get('b'), [], 'nothing announced')
  net.hello('a') // a is back
  t.same(net.ids('b'), ['amy', 'ann'])
  t.same(net.heard.get('b')?.sort(), ['joined:amy', 'joined:ann'], 'its members once, abe never')
})

t.test('a node heard again after it was dropped: an old view sent again does not bring back who left meanwhile', async (t) => {
  const { net, a, b } = pair(t)
  const held: PresenceOp[] = []
  // Cut: a answers an ask, but Redis never gets the answer (ioredis will send it again later).
  net.pass = (from, op) => { if (from === 'a') held.push(op); return from !== 'a' }
  net.send('b', { op: 'ask', to: 'a', id: 'before-the-cut' })
  net.flush()
  a.leave(ROOM, 'amy-tab') // amy leaves while a is cut off
  net.now = 10_000
  b.sweep(5_000)
  t.same(net.heard.get('b')?.sort(), ['left:amy', 'left:ann'], 'b dropped a after the lease')
  net.heard.get('b')?.splice(0)
  net.pass = () => true
  for (const op of held) net.send('a', op) // sent again on reconnect: the old answer first…
  net.flush()
  t.same(net.ids('b'), ['ann'], 'not the old view: b asked, and a\'s answer brought it back')
  net.hello('a') // …then a's hello
  t.same(net.ids('b'), ['ann'])
  t.same(net.heard.get('b'), ['joined:ann'], 'ann back once; amy, who left, never')
})

t.test('a node dropped and heard again unchanged comes back through the answer to an ask', async (t) => {
  const { net, b } = pair(t)
  net.now = 10_000
  b.sweep(5_000)
  net.heard.get('b')?.splice(0)
  net.heartbeat('a') // its heartbeat (no hello: it never lost the bus) makes b ask
  t.same(net.ids('b'), ['amy', 'ann'], 'its view at the same version as when dropped is taken as the answer')
  t.same(net.heard.get('b')?.sort(), ['joined:amy', 'joined:ann'])
})
