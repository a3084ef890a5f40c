import t from 'tap'
import { buildApp } from '../helpers/app.js'
import { openClient, jwtAuth } from '../helpers/users.js'

const ann = { id: 'ann', name: 'Ann' }
const bob = { id: 'bob', name: 'Bob' }

t.test('presence: members list, member_joined, member_updated (never leave+join), member_left', async (t) => {
  const { url } = await buildApp(t, jwtAuth)
  const a = await openClient(t, url, ann)
  const b = await openClient(t, url, bob)
  const joinedA = await a.request({ type: 'join', channel: 'presence-room', userInfo: { status: 'online' } })
  t.equal(joinedA.channelType, 'presence')
  t.equal(joinedA.me.id, 'ann')
  t.equal(joinedA.me.clientId, a.id)
  t.same(joinedA.me.userInfo, { status: 'online' })
  t.ok(!Number.isNaN(Date.parse(joinedA.me.joinedAt)), 'joinedAt is a timestamp')
  t.same(joinedA.members.map((m: { id: string }) => m.id), ['ann'])

  const joinedB = await b.request({ type: 'join', channel: 'presence-room', userInfo: { status: 'away' } })
  t.same(joinedB.members.map((m: { id: string }) => m.id).sort(), ['ann', 'bob'])
  t.equal(joinedB.memberCount, 2)
  const joinedEvent = await a.waitType('presence:member_joined')
  t.equal(joinedEvent.channel, 'presence-room')
  t.same({ id: joinedEvent.member.id, clientId: joinedEvent.member.clientId, userInfo: joinedEvent.member.userInfo }, { id: 'bob', clientId: b.id, userInfo: { status: 'away' } })

  const updated = await b.request({ type: 'channel:update', channel: 'presence-room', userInfo: { typing: true } })
  t.equal(updated.type, 'channel:updated')
  t.same(updated.member.userInfo, { status: 'away', typing: true }, 'userInfo is merged')
  const updateEvent = await a.waitType('presence:member_updated')
  t.same(updateEvent.member.userInfo, { status: 'away', typing: true })
  t.equal(updateEvent.member.joinedAt, joinedEvent.member.joinedAt, 'same membership, not a re-join')
  await a.request({ type: 'ping' })
  t.equal(a.ofType('presence:member_left').length + a.ofType('presence:member_joined').length, 0, 'an update is not a leave+join')
  t.equal(b.ofType('presence:member_updated').length, 0, 'the updater gets the reply, not the push')

  const sent = await a.request({ type: 'channel:message', channel: 'presence-room', event: 'chat', data: { text: 'hello' } })
  t.equal(sent.delivered, 1)
  const chat = await b.waitType('channel:message')
  t.same({ event: chat.event, data: chat.data, from: chat.from }, { event: 'chat', data: { text: 'hello' }, from: { clientId: a.id, userId: 'ann' } })

  await b.request({ type: 'leave', channel: 'presence-room' })
  const left = await a.waitType('presence:member_left')
  t.equal(left.member.id, 'bob')
  t.equal(left.channel, 'presence-room')
})

t.test('one user with two tabs is one member: joined once, left when the last tab goes', async (t) => {
  const { url, app } = await buildApp(t, jwtAuth)
  const observer = await openClient(t, url, bob)
  await observer.request({ type: 'join', channel: 'presence-doc' })
  const tab1 = await openClient(t, url, ann)
  const tab2 = await openClient(t, url, ann)
  await tab1.request({ type: 'join', channel: 'presence-doc', userInfo: { name: 'Ann' } })
  await observer.waitType('presence:member_joined')
  const second = await tab2.request({ type: 'join', channel: 'presence-doc', userInfo: { name: 'Ann' } })
  t.equal(second.members.length, 2, 'bob and ann, not ann twice')
  t.equal(second.me.id, 'ann')
  await observer.request({ type: 'ping' })
  t.equal(observer.ofType('presence:member_joined').length, 0, 'the second tab does not announce a new member')
  t.equal(app.realtime.getChannelMembers('presence-doc').length, 2)
  t.equal(app.realtime.getChannel('presence-doc')?.connectionCount, 3)

  const renamed = await tab2.request({ type: 'join', channel: 'presence-doc', userInfo: { name: 'Annie' } })
  t.same(renamed.me.userInfo, { name: 'Annie' })
  const update = await observer.waitType('presence:member_updated')
  t.equal(update.member.id, 'ann', 'a tab joining with new userInfo is an update')
  t.same((await tab1.waitType('presence:member_updated')).member.userInfo, { name: 'Annie' }, 'the other tab learns it too')

  await tab1.request({ type: 'leave', channel: 'presence-doc' })
  await observer.request({ type: 'ping' })
  t.equal(observer.ofType('presence:member_left').length, 0, 'ann still has a tab open')
  const members = app.realtime.getChannelMembers('presence-doc')
  t.equal(members.find((m) => m.id === 'ann')?.clientId, tab2.id, 'the member now answers to the remaining tab')

  tab2.close()
  const left = await observer.waitType('presence:member_left')
  t.equal(left.member.id, 'ann')
  t.same(app.realtime.getChannelMembers('presence-doc').map((m) => m.id), ['bob'])
})

t.test('a killed socket is detected by the heartbeat and leaves as presence:member_left', async (t) => {
  const { url, app } = await buildApp(t, { ...jwtAuth, heartbeatInterval: 50, heartbeatTimeout: 100 })
  const observer = await openClient(t, url, bob)
  await observer.request({ type: 'join', channel: 'presence-live' })
  const ghost = await openClient(t, url, ann)
  await ghost.request({ type: 'join', channel: 'presence-live' })
  await observer.waitType('presence:member_joined')
  // Stop reading: the peer is alive at TCP level but never answers pings (a frozen or unplugged client).
  const raw = (ghost.socket as unknown as { _socket: { pause: () => void } })._socket
  raw.pause()
  t.teardown(() => { ghost.socket.terminate() }) // a paused socket would wait out ws's close timeout
  const left = await observer.waitType('presence:member_left', 10_000)
  t.equal(left.member.id, 'ann')
  t.same(app.realtime.getChannelMembers('presence-live').map((m) => m.id), ['bob'], 'no ghost member')
  t.equal(app.realtime.getChannelStats().clients, 1)
})

t.test('a clean disconnect emits member_left and hub channel.left with reason', async (t) => {
  const { url, app } = await buildApp(t, jwtAuth)
  const events: string[] = []
  app.realtime.on('channel.joined', (e) => events.push(`joined ${e.channel} ${e.member.id}`))
  app.realtime.on('channel.left', (e) => events.push(`left ${e.channel} ${e.member.id} ${e.reason ?? ''}`))
  const observer = await openClient(t, url, bob)
  await observer.request({ type: 'join', channel: 'presence-x' })
  const a = await openClient(t, url, ann)
  await a.request({ type: 'join', channel: 'presence-x' })
  await a.request({ type: 'join', channel: 'public-y' })
  a.close()
  t.equal((await observer.waitType('presence:member_left')).member.id, 'ann')
  await a.closed
  await observer.request({ type: 'leave', channel: 'presence-x' })
  t.same(events, [
    'joined presence-x bob', 'joined presence-x ann', 'joined public-y ann',
    'left presence-x ann disconnect', 'left public-y ann disconnect', 'left presence-x bob leave'
  ])
  t.same(app.realtime.getChannelStats(), { channels: 0, totalMembers: 0, totalConnections: 0, byType: { public: 0, private: 0, presence: 0 }, clients: 0 })
})

t.test('maxMembers caps users per channel; another tab of a member still gets in', async (t) => {
  const { url } = await buildApp(t, { ...jwtAuth, channels: { maxMembers: 2 } })
  const a = await openClient(t, url, ann)
  const b = await openClient(t, url, bob)
  const c = await openClient(t, url, { id: 'cid' })
  const a2 = await openClient(t, url, ann)
  await a.request({ type: 'join', channel: 'presence-small' })
  await b.request({ type: 'join', channel: 'presence-small' })
  const full = await c.request({ type: 'join', channel: 'presence-small' })
  t.equal(full.code, 'LIMIT_EXCEEDED')
  t.equal(full.details.maxMembers, 2)
  t.equal((await a2.request({ type: 'join', channel: 'presence-small' })).type, 'channel:joined', 'a second tab is not a new member')
  await b.request({ type: 'leave', channel: 'presence-small' })
  t.equal((await c.request({ type: 'join', channel: 'presence-small' })).type, 'channel:joined', 'room again after a leave')
})

t.test('above presenceSummaryThreshold joins and leaves arrive as presence:count summaries', async (t) => {
  const { url } = await buildApp(t, { ...jwtAuth, channels: { presenceSummaryThreshold: 2, presenceSummaryInterval: 50 } })
  const observer = await openClient(t, url, { id: 'obs' })
  await observer.request({ type: 'join', channel: 'presence-big' })
  const u1 = await openClient(t, url, { id: 'u1' })
  await u1.request({ type: 'join', channel: 'presence-big' })
  t.equal((await observer.waitType('presence:member_joined')).member.id, 'u1', 'small channel: per-member event')

  const others = await Promise.all(['u2', 'u3', 'u4'].map(async (id) => await openClient(t, url, { id })))
  const replies = []
  for (const ws of others) replies.push(await ws.request({ type: 'join', channel: 'presence-big' }))
  t.equal(replies[2]?.memberCount, 5)
  t.notOk('members' in (replies[2] ?? {}), 'no member list above the threshold')
  t.ok(replies[2]?.me, 'but the joiner still learns its own member')
  const summary = await observer.waitType('presence:count')
  t.same({ channel: summary.channel, count: summary.count, joined: summary.joined, left: summary.left }, { channel: 'presence-big', count: 5, joined: 3, left: 0 })
  t.equal(observer.ofType('presence:member_joined').length, 0, 'no per-member events above the threshold')

  others[0]?.close()
  await others[1]?.request({ type: 'leave', channel: 'presence-big' })
  const summary2 = await observer.waitType('presence:count')
  t.same({ count: summary2.count, joined: summary2.joined, left: summary2.left }, { count: 3, joined: 0, left: 2 })
  t.equal(observer.ofType('presence:member_left').length, 0)
})
