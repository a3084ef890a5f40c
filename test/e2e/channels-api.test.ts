import t from 'tap'
import { buildApp } from '../helpers/app.js'
import { openClient, jwtAuth } from '../helpers/users.js'


t.test('server API: getChannel, listChannels, getChannelMembers, broadcastToChannel, getChannelStats', async (t) => {
  const { url, app } = await buildApp(t, jwtAuth)
  const hub = app.realtime
  t.equal(hub.getChannel('presence-team'), null, 'unknown channel')
  t.same(hub.getChannelMembers('presence-team'), [])
  t.equal(hub.broadcastToChannel('presence-team', { type: 'x' }), 0)

  const ann = await openClient(t, url, { id: 'ann' })
  const bob = await openClient(t, url, { id: 'bob' })
  const anon = await openClient(t, url)
  await ann.request({ type: 'join', channel: 'presence-team', userInfo: { name: 'Ann' } })
  await bob.request({ type: 'join', channel: 'presence-team' })
  await bob.request({ type: 'join', channel: 'private-ops' })
  await anon.request({ type: 'join', channel: 'public-news' })
  await ann.request({ type: 'join', channel: 'public-news' })

  const info = hub.getChannel('presence-team')
  t.equal(info?.name, 'presence-team')
  t.equal(info?.type, 'presence')
  t.equal(info?.memberCount, 2)
  t.equal(info?.connectionCount, 2)
  t.type(info?.createdAt, 'string')
  t.same(info?.members?.map((m) => m.id).sort(), ['ann', 'bob'])
  t.notOk('members' in (hub.getChannel('public-news') ?? {}), 'member lists only for presence channels')

  t.same(hub.listChannels().map((c) => c.name).sort(), ['presence-team', 'private-ops', 'public-news'])
  t.same(hub.listChannels({ type: 'public' }), [{ name: 'public-news', type: 'public', memberCount: 2 }])
  t.same(hub.listChannels({ prefix: 'pr' }).map((c) => c.name).sort(), ['presence-team', 'private-ops'])
  t.same(hub.listChannels({ type: 'private', prefix: 'presence-' }), [])

  const members = hub.getChannelMembers('presence-team')
  t.same(members.find((m) => m.id === 'ann')?.userInfo, { name: 'Ann' })
  t.equal(members.find((m) => m.id === 'ann')?.clientId, ann.id)

  t.equal(hub.broadcastToChannel('public-news', { type: 'announcement', text: 'hi' }), 2)
  t.same((await anon.waitType('announcement')).text, 'hi')
  t.same((await ann.waitType('announcement')).text, 'hi')
  t.equal(hub.broadcastToChannel('public-news', { type: 'announcement', text: 'not you' }, anon.id), 1, 'excludeClientId')
  await ann.waitType('announcement')
  await anon.request({ type: 'ping' })
  t.equal(anon.ofType('announcement').length, 0)

  t.same(hub.getChannelStats(), {
    channels: 3, totalMembers: 5, totalConnections: 5, byType: { public: 1, private: 1, presence: 1 }, clients: 3
  })
})

t.test('channel API answers empty when channels are disabled', async (t) => {
  const { app } = await buildApp(t, { channels: false })
  t.same(app.realtime.listChannels(), [])
  t.same(app.realtime.getChannelStats().channels, 0)
})
