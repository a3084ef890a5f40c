import t from 'tap'
import { buildApp } from '../helpers/app.js'
import type { Message, TestClient } from '../helpers/client.js'
import { partsOf } from '../helpers/hub.js'
import { hsToken } from '../helpers/jwt.js'
import { jwtAuth, openClient } from '../helpers/users.js'
import { until } from '../helpers/wait.js'
import type { RealtimeUser } from '../../src/index.js'

// Issue #16 §3: subscriptions share one compiled filter per distinct (client filter, guard
// filter) — over real sockets and the real s3db, many subscriptions with the same filter and a
// guard forcing a per-user value get exactly their deliveries; no user is ever matched with
// another user's guard, a token refresh that changes the guard's value moves the subscription,
// and nothing is kept once the sockets go.

// The guard forces the user's team: `author` is the team a message belongs to.
const guarded = { ...jwtAuth, resources: { messages: { guard: { subscribe: (user: RealtimeUser | null) => ({ author: String(user?.team) }) } } } }

interface Member { ws: TestClient & { id: string }, user: string, group: string }

const eventIds = (ws: TestClient): string[] => ws.ofType('event').map((e: Message) => e.data.id as string).sort()

t.test('many subscriptions, few filters: shared, and each gets exactly what its own guard and filter allow', async (t) => {
  const { app, url, db } = await buildApp(t, guarded)
  const { hub } = partsOf(app)
  // group = team/channel: 12 on red/general, 6 on blue/general (same client filter, other guard
  // value), 4 on red/random (same guard value, other client filter).
  const plan: Array<[string, string, number]> = [['red', 'general', 12], ['blue', 'general', 6], ['red', 'random', 4]]
  const members: Member[] = []
  let n = 0
  for (const [team, channel, count] of plan) {
    for (let i = 0; i < count; i++) {
      const user = `u${n++}`
      const ws = await openClient(t, url, { id: user, team })
      const reply = await ws.request({ type: 'subscribe', resource: 'messages', filter: { channel } })
      t.equal(reply.type, 'subscribed')
      members.push({ ws, user, group: `${team}/${channel}` })
    }
  }
  t.equal(hub.filters.size, 3, 'three distinct filters for 22 subscriptions')
  const filterOf = (m: Member): unknown => [...hub.connections.get(m.ws.id)!.subscriptions.values()][0]!.filter
  for (const group of ['red/general', 'blue/general', 'red/random']) {
    const inGroup = members.filter((m) => m.group === group)
    t.ok(inGroup.every((m) => filterOf(m) === filterOf(inGroup[0]!)), `${group}: one compiled filter`)
  }
  t.not(filterOf(members[0]!), filterOf(members[12]!), 'red and blue never share, though their client filters are equal')

  const messages = db.resources.messages!
  const write = async (id: string, author: string, channel: string): Promise<void> => { await messages.insert({ id, content: id, author, channel }) }
  await write('r-g1', 'red', 'general')
  await write('b-g1', 'blue', 'general')
  await write('r-r1', 'red', 'random')
  await write('g-g1', 'green', 'general') // nobody's team
  const expected: Record<string, string[]> = { 'red/general': ['r-g1'], 'blue/general': ['b-g1'], 'red/random': ['r-r1'] }
  for (const m of members) {
    await m.ws.request({ type: 'ping' }) // the fan-out wrote before this pong
    t.same(eventIds(m.ws), expected[m.group], `${m.ws.id} (${m.group}) got exactly its own`)
  }

  // A refresh whose token names another team: the guard's value changes, so does the entry.
  const mover = members[0]!
  t.equal((await mover.ws.request({ type: 'auth', token: hsToken({ sub: mover.user, team: 'blue' }) })).type, 'authenticated')
  t.equal(filterOf(mover), filterOf(members[12]!), 'it now shares blue/general\'s filter')
  t.not(filterOf(mover), filterOf(members[1]!), 'and no longer red\'s')
  t.equal(hub.filters.size, 3, 'red/general is still held by the other eleven')
  await write('r-g2', 'red', 'general')
  await write('b-g2', 'blue', 'general')
  for (const m of members) await m.ws.request({ type: 'ping' })
  t.same(eventIds(mover.ws), ['b-g2', 'r-g1'], 'the mover gets blue\'s message, not red\'s any more')
  t.same(eventIds(members[1]!.ws), ['r-g1', 'r-g2'], 'red keeps red\'s')
  t.same(eventIds(members[12]!.ws), ['b-g1', 'b-g2'], 'blue keeps blue\'s')

  // Unsubscribing and closing give every entry back.
  await members[20]!.ws.request({ type: 'unsubscribe', resource: 'messages' })
  for (const m of members) m.ws.close()
  await until(() => hub.connections.size === 0, 'every socket gone from the hub')
  t.equal(hub.filters.size, 0, 'no shared filter is kept once its subscriptions are gone')
})
