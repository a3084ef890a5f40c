import t from 'tap'
import { buildApp } from '../helpers/app.js'
import { asUser, openClient, jwtAuth } from '../helpers/users.js'


t.test('public channel: anyone joins, channel:message reaches the others only, leave stops delivery', async (t) => {
  const { client, url } = await buildApp(t, jwtAuth)
  const a = await openClient(t, url)
  const b = await client()
  const outsider = await client()
  const joinA = await a.request({ type: 'join', channel: 'public-lobby' })
  t.same(joinA, { type: 'channel:joined', channel: 'public-lobby', channelType: 'public', requestId: joinA.requestId })
  await b.request({ type: 'join', channel: 'public-lobby' })

  const sent = await a.request({ type: 'channel:message', channel: 'public-lobby', event: 'typing', data: { text: 'hi' } })
  t.same({ type: sent.type, channel: sent.channel, delivered: sent.delivered }, { type: 'channel:sent', channel: 'public-lobby', delivered: 1 })
  const pushed = await b.waitType('channel:message')
  t.equal(pushed.channel, 'public-lobby')
  t.equal(pushed.event, 'typing')
  t.same(pushed.data, { text: 'hi' })
  t.equal(pushed.from.clientId, a.id, 'from carries the sender')
  t.equal(pushed.from.userId, null, 'anonymous sender')
  t.type(pushed.timestamp, 'string')

  const notMember = await outsider.request({ type: 'channel:message', channel: 'public-lobby', event: 'x', data: 1 })
  t.equal(notMember.code, 'NOT_IN_CHANNEL')

  const left = await b.request({ type: 'leave', channel: 'public-lobby' })
  t.equal(left.type, 'channel:left')
  t.equal(left.channel, 'public-lobby')
  const again = await b.request({ type: 'leave', channel: 'public-lobby' })
  t.equal(again.code, 'NOT_IN_CHANNEL', 'leaving twice is an error, not a crash')
  const none = await a.request({ type: 'channel:message', channel: 'public-lobby', event: 'typing', data: null })
  t.equal(none.delivered, 0, 'b no longer receives')
  await b.request({ type: 'ping' })
  t.equal(b.ofType('channel:message').length, 0)
  t.equal(a.ofType('channel:message').length, 0, 'the sender never gets its own message')
})

t.test('without guards, private and presence channels admit any authenticated user and no anonymous one', async (t) => {
  const { url } = await buildApp(t, jwtAuth)
  const anon = await openClient(t, url)
  const user = await openClient(t, url, { id: 'u1' })
  for (const channel of ['private-x', 'presence-x']) {
    const denied = await anon.request({ type: 'join', channel })
    t.equal(denied.code, 'FORBIDDEN', `anonymous refused from ${channel}`)
    t.equal((await user.request({ type: 'join', channel })).type, 'channel:joined', `user admitted to ${channel}`)
  }
  t.equal((await anon.request({ type: 'join', channel: 'lobby' })).channelType, 'public', 'unprefixed names are public')
})

t.test('private channels need a user, then the most specific guard by glob decides', async (t) => {
  const calls: Array<{ user: string, channel: string, info: unknown }> = []
  const { client } = await buildApp(t, {
    ...jwtAuth,
    channels: {
      guards: {
        '*': (user, channel, info) => { calls.push({ user: user.id, channel, info }); return user.role === 'admin' },
        'team-*': (user, channel) => channel.endsWith(`-${String(user.team)}`) ? true : { authorized: false, reason: 'Not your team' },
        'private-boom': () => { throw new Error('database password is hunter2') }
      }
    }
  })
  const anon = await client()
  const denied = await anon.request({ type: 'join', channel: 'private-team-red' })
  t.equal(denied.code, 'FORBIDDEN', 'anonymous clients cannot join private channels')
  const presenceDenied = await anon.request({ type: 'join', channel: 'presence-team-red' })
  t.equal(presenceDenied.code, 'FORBIDDEN')

  const red = await client('', asUser({ id: 'u1', team: 'red' }))
  const ok = await red.request({ type: 'join', channel: 'private-team-red' })
  t.equal(ok.type, 'channel:joined')
  t.equal(ok.channelType, 'private')
  const blue = await red.request({ type: 'join', channel: 'private-team-blue' })
  t.equal(blue.code, 'FORBIDDEN')
  t.equal(blue.message, 'Not your team', 'the guard reason is passed on')
  t.equal(calls.length, 0, "'team-*' is more specific than '*' and decides alone")

  const other = await red.request({ type: 'join', channel: 'private-ops', userInfo: { x: 1 } })
  t.equal(other.code, 'FORBIDDEN', "'*' applies where nothing more specific matches")
  t.same(calls, [{ user: 'u1', channel: 'private-ops', info: { x: 1 } }])
  const admin = await client('', asUser({ id: 'root', role: 'admin' }))
  t.equal((await admin.request({ type: 'join', channel: 'private-ops' })).type, 'channel:joined')

  const boom = await red.request({ type: 'join', channel: 'private-boom' })
  t.equal(boom.code, 'FORBIDDEN')
  t.notMatch(boom.message, /hunter2/, 'a throwing guard does not leak its message')
  t.equal((await red.request({ type: 'ping' })).type, 'pong', 'socket still usable')
})

t.test('invalid channel messages get INVALID_REQUEST and lose nothing', async (t) => {
  const { client } = await buildApp(t, { ...jwtAuth, channels: { maxUserInfoSize: 64 } })
  const ws = await client('', asUser({ id: 'u1' }))
  await ws.request({ type: 'join', channel: 'presence-room', userInfo: { name: 'Ann' } })
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ type: 'join' }, '/channel'],
    [{ type: 'join', channel: '' }, '/channel'],
    [{ type: 'join', channel: 'bad name!' }, '/channel'],
    [{ type: 'join', channel: 'x'.repeat(201) }, '/channel'],
    [{ type: 'join', channel: 'public-a', userInfo: 'Ann' }, '/userInfo'],
    [{ type: 'join', channel: 'public-a', userInfo: { bio: 'x'.repeat(100) } }, '/userInfo'],
    [{ type: 'join', channel: 'public-a', extra: 1 }, '/extra'],
    [{ type: 'leave' }, '/channel'],
    [{ type: 'channel:message', channel: 'presence-room' }, '/event'],
    [{ type: 'channel:message', channel: 'presence-room', event: '' }, '/event'],
    [{ type: 'channel:update', channel: 'presence-room' }, '/userInfo'],
    [{ type: 'channel:update', channel: 'presence-room', userInfo: { bio: 'x'.repeat(100) } }, '/userInfo']
  ]
  for (const [message, field] of cases) {
    const reply = await ws.request(message)
    t.equal(reply.code, 'INVALID_REQUEST', JSON.stringify(message).slice(0, 80))
    t.equal(reply.details?.field, field, `details name ${field}`)
  }
  await ws.request({ type: 'join', channel: 'public-a' })
  const notPresence = await ws.request({ type: 'channel:update', channel: 'public-a', userInfo: { a: 1 } })
  t.equal(notPresence.code, 'INVALID_REQUEST', 'channel:update is for presence channels')
  const notMember = await ws.request({ type: 'channel:update', channel: 'presence-other', userInfo: { a: 1 } })
  t.equal(notMember.code, 'NOT_IN_CHANNEL')
  const members = (await ws.request({ type: 'join', channel: 'presence-room' })).members
  t.same(members.map((m: { userInfo: unknown }) => m.userInfo), [{ name: 'Ann' }], 'rejected updates changed nothing')
})

t.test('channels.enabled false answers CHANNELS_DISABLED; publish still works', async (t) => {
  const { client } = await buildApp(t, { ...jwtAuth, channels: { enabled: false } })
  const ws = await client()
  for (const message of [
    { type: 'join', channel: 'public-a' },
    { type: 'join', channel: 'not valid!' },
    { type: 'leave', channel: 'public-a' },
    { type: 'channel:message', channel: 'public-a', event: 'e' },
    { type: 'channel:update', channel: 'presence-a', userInfo: {} }
  ]) {
    t.equal((await ws.request(message)).code, 'CHANNELS_DISABLED', message.type)
  }
  t.equal((await ws.request({ type: 'publish', channel: 'messages', message: 'hi' })).type, 'published')
})

t.test('a connection may be in at most maxChannelsPerConnection channels', async (t) => {
  const { client, app } = await buildApp(t, { ...jwtAuth, channels: { maxChannelsPerConnection: 2 } })
  const ws = await client()
  await ws.request({ type: 'join', channel: 'public-1' })
  await ws.request({ type: 'join', channel: 'public-2' })
  t.equal((await ws.request({ type: 'join', channel: 'public-2' })).type, 'channel:joined', 're-joining is idempotent')
  const third = await ws.request({ type: 'join', channel: 'public-3' })
  t.equal(third.code, 'LIMIT_EXCEEDED')
  t.same(app.realtime.listChannels().map((c) => c.name).sort(), ['public-1', 'public-2'])
})

t.test('invalid channels options throw a coded error at register', async (t) => {
  const bad: unknown[] = [
    'yes', { enabled: 'no' }, { guards: { '*': true } }, { guards: [] }, { maxMembers: 0 },
    { presenceSummaryInterval: 1 }, { maxChannelsPerConnection: 1.5 }, { unknownKey: 1 }, { guards: { '': () => true } }
  ]
  for (const channels of bad) {
    await t.rejects(buildApp(t, { channels } as never), { code: 'S3DB_REALTIME_INVALID_OPTION' }, JSON.stringify(channels))
  }
})
