import { randomUUID } from 'node:crypto'
import t from 'tap'
import { buildApp, type TestApp } from '../helpers/app.js'
import { createDatabase } from '../helpers/db.js'
import { REDIS_KINDS, startRedisTarget } from '../helpers/redis-target.js'
import { clusterJwtAuth, openAs } from '../helpers/cluster-users.js'

const ann = { id: 'ann', name: 'Ann' }
const bob = { id: 'bob', name: 'Bob' }
const cat = { id: 'cat', name: 'Cat' }

for (const kind of REDIS_KINDS) {
t.test(`${kind}: channels and presence across two instances: union of members, each push once`, async (t) => {
  const redis = await startRedisTarget(t, kind)
  const bucket = `memory://presence-${randomUUID()}/db`
  const node = async (name: string): Promise<TestApp> => await buildApp(t, { ...clusterJwtAuth, redis: redis({ presenceLease: 200 }), nodeId: name }, {
    db: await createDatabase(t, { connectionString: bucket })
  })
  const appA = await node('a')
  const appB = await node('b')
  const [urlA, urlB] = [appA.url, appB.url]
  const a = await openAs(t, urlA, ann)
  const b = await openAs(t, urlB, bob)

  const joinedA = await a.request({ type: 'join', channel: 'presence-room', userInfo: { status: 'online' } })
  t.same(joinedA.members.map((m: { id: string }) => m.id), ['ann'])
  // Replication is asynchronous: wait until B's view has Ann (server API), then join there.
  for (let i = 0; appB.app.realtime.getChannelMembers('presence-room').length === 0; i++) {
    if (i > 500) throw new Error('B never saw Ann')
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  t.same(appB.app.realtime.getChannel('presence-room')?.memberCount, 1, 'getChannel on B counts the member on A')
  const joinedB = await b.request({ type: 'join', channel: 'presence-room', userInfo: { status: 'away' } })
  t.same(joinedB.members.map((m: { id: string }) => m.id).sort(), ['ann', 'bob'], 'members are the union across instances')

  const bobJoined = await a.waitFor((m) => m.type === 'presence:member_joined' && m.member.id === 'bob')
  t.equal(bobJoined.member.userInfo.status, 'away', 'a join on B reaches a member on A')

  await b.request({ type: 'channel:update', channel: 'presence-room', userInfo: { typing: true } })
  const updated = await a.waitType('presence:member_updated')
  t.same(updated.member.userInfo, { status: 'away', typing: true })

  const sent = await a.request({ type: 'channel:message', channel: 'presence-room', event: 'chat', data: { text: 'hi' } })
  t.equal(sent.delivered, 0, 'delivered counts this instance only')
  const chat = await b.waitType('channel:message')
  t.same([chat.event, chat.data, chat.from.userId], ['chat', { text: 'hi' }, 'ann'])

  // A second tab of Bob on A: still one member, no second member_joined.
  const b2 = await openAs(t, urlA, bob)
  const again = await b2.request({ type: 'join', channel: 'presence-room' })
  t.equal(again.memberCount, 2, 'one user on two instances is one member')

  // Cat watches from B. Bob's two tabs (one per instance) leave at the same moment: each
  // instance thinks the other still has Bob, yet Ann and Cat must each hear he left, once.
  const c = await openAs(t, urlB, cat)
  await c.request({ type: 'join', channel: 'presence-room' })
  await a.waitFor((m) => m.type === 'presence:member_joined' && m.member.id === 'cat')
  await Promise.all([b.request({ type: 'leave', channel: 'presence-room' }), b2.request({ type: 'leave', channel: 'presence-room' })])
  for (const watcher of [a, c]) {
    const left = await watcher.waitFor((m) => m.type === 'presence:member_left' && m.member.id === 'bob')
    t.equal(left.channel, 'presence-room')
  }
  await new Promise((resolve) => setTimeout(resolve, 300))
  await a.request({ type: 'ping' })
  await c.request({ type: 'ping' })
  t.equal(a.ofType('presence:member_left').length + c.ofType('presence:member_left').length, 0, 'member_left once on each instance')
  t.same(appA.app.realtime.getChannelMembers('presence-room').map((m) => m.id).sort(), ['ann', 'cat'], 'both views agree')
  t.same(appB.app.realtime.getChannelMembers('presence-room').map((m) => m.id).sort(), ['ann', 'cat'])
  t.equal(a.ofType('presence:member_joined').filter((m) => m.member.id === 'bob').length, 0, 'no second member_joined for the second tab')
  t.equal(b.ofType('channel:message').length, 0, 'the chat message arrived once')
})

t.test(`${kind}: publish reaches subscribers of the resource on every instance, never the sender`, async (t) => {
  const redis = await startRedisTarget(t, kind)
  const bucket = `memory://publish-${randomUUID()}/db`
  const a = await buildApp(t, { ...clusterJwtAuth, redis: redis() }, { db: await createDatabase(t, { connectionString: bucket }) })
  const b = await buildApp(t, { ...clusterJwtAuth, redis: redis() }, { db: await createDatabase(t, { connectionString: bucket }) })
  const sender = await openAs(t, a.url, ann)
  const onA = await openAs(t, a.url, cat)
  const onB = await openAs(t, b.url, bob)
  await sender.request({ type: 'subscribe', resource: 'messages' })
  await onA.request({ type: 'subscribe', resource: 'messages' })
  await onB.request({ type: 'subscribe', resource: 'messages' })
  const published = await sender.request({ type: 'publish', channel: 'messages', message: { text: 'typing…' } })
  t.equal(published.delivered, 1, 'counts this instance')
  const got = await onB.waitType('message')
  t.same([got.channel, got.data, got.from.userId], ['messages', { text: 'typing…' }, 'ann'])
  await onA.waitType('message')
  await sender.request({ type: 'ping' })
  await onB.request({ type: 'ping' })
  t.equal(sender.ofType('message').length, 0, 'never back to the sender')
  t.equal(onB.ofType('message').length, 0, 'once')
})

t.test(`${kind}: big presence channels: each instance sends its own presence:count, covering joins made elsewhere`, async (t) => {
  const redis = await startRedisTarget(t, kind)
  const bucket = `memory://count-${randomUUID()}/db`
  const options = { ...clusterJwtAuth, redis: redis(), channels: { presenceSummaryThreshold: 2, presenceSummaryInterval: 50 } }
  const a = await buildApp(t, options, { db: await createDatabase(t, { connectionString: bucket }) })
  const b = await buildApp(t, options, { db: await createDatabase(t, { connectionString: bucket }) })
  const observer = await openAs(t, a.url, { id: 'obs' })
  await observer.request({ type: 'join', channel: 'presence-big' })
  const u1 = await openAs(t, b.url, { id: 'u1' })
  await u1.request({ type: 'join', channel: 'presence-big' })
  t.equal((await observer.waitType('presence:member_joined')).member.id, 'u1', 'small channel: a per-member event from the other instance')
  for (const id of ['u2', 'u3', 'u4']) await (await openAs(t, b.url, { id })).request({ type: 'join', channel: 'presence-big' })
  const summaries = []
  for (let count = 0; count !== 5;) {
    const summary = await observer.waitType('presence:count')
    summaries.push(summary)
    count = summary.count
  }
  t.equal(summaries.reduce((n, s) => n + (s.joined as number), 0), 3, 'the three joins on the other instance, counted once')
  t.equal(observer.ofType('presence:member_joined').length, 0, 'no per-member events above the threshold')
})

t.test(`${kind}: disconnectUser on one instance closes that user's sockets on every instance`, async (t) => {
  const redis = await startRedisTarget(t, kind)
  const bucket = `memory://kick-${randomUUID()}/db`
  const node = async (name: string): Promise<TestApp> => await buildApp(t, { ...clusterJwtAuth, redis: redis(), nodeId: name }, {
    db: await createDatabase(t, { connectionString: bucket })
  })
  const appA = await node('a')
  const appB = await node('b')
  const onA = await openAs(t, appA.url, bob)
  const onB = await openAs(t, appB.url, bob)
  const bystander = await openAs(t, appB.url, ann)

  t.equal(appA.app.realtime.disconnectUser('bob', 'account suspended'), 1, 'counts this instance')
  t.same(await onA.closed, { code: 1008, reason: 'account suspended' })
  t.same(await onB.closed, { code: 1008, reason: 'account suspended' }, 'the other instance closed its socket too')
  t.equal((await bystander.request({ type: 'ping' })).type, 'pong', 'other users stay')
  t.throws(() => appA.app.realtime.disconnectUser('' as string), TypeError)
})
}
