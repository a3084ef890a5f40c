import t from 'tap'
import { buildApp } from '../helpers/app.js'
import { openClient, jwtAuth } from '../helpers/users.js'


t.test('publish reaches subscribers of the resource, never the sender or non-subscribers', async (t) => {
  const { url } = await buildApp(t, jwtAuth)
  const sender = await openClient(t, url, { id: 'ann' })
  const sub1 = await openClient(t, url)
  const sub2 = await openClient(t, url)
  const bystander = await openClient(t, url)
  await sender.request({ type: 'subscribe', resource: 'messages' })
  await sub1.request({ type: 'subscribe', resource: 'messages', filter: { channel: 'general' } })
  await sub1.request({ type: 'subscribe', resource: 'messages', filter: { channel: 'random' } })
  await sub2.request({ type: 'subscribe', resource: 'messages' })
  await bystander.request({ type: 'subscribe', resource: 'users' })

  const reply = await sender.request({ type: 'publish', channel: 'messages', message: { type: 'alert', text: 'New feature!' } })
  t.same({ type: reply.type, channel: reply.channel, delivered: reply.delivered }, { type: 'published', channel: 'messages', delivered: 2 })
  for (const ws of [sub1, sub2]) {
    const pushed = await ws.waitType('message')
    t.equal(pushed.channel, 'messages')
    t.same(pushed.data, { type: 'alert', text: 'New feature!' })
    t.same(pushed.from, { clientId: sender.id, userId: 'ann' })
    t.type(pushed.timestamp, 'string')
  }
  await Promise.all([sender, sub1, bystander].map(async (ws) => await ws.request({ type: 'ping' })))
  t.equal(sub1.ofType('message').length, 0, 'two subscriptions, one copy')
  t.equal(sender.ofType('message').length, 0, 'the sender never receives its own message')
  t.equal(bystander.ofType('message').length, 0, 'subscribers of other resources do not')
  const scalar = await sender.request({ type: 'publish', channel: 'messages', message: 42 })
  t.equal(scalar.delivered, 2, 'any JSON value can be published')
  t.equal((await sub2.waitType('message')).data, 42)
})

t.test('protected fields are stripped from a published record, the sender object untouched', async (t) => {
  const { url } = await buildApp(t, {
    ...jwtAuth,
    resources: { users: { protected: ['password', 'meta.secret'] } }
  })
  const sender = await openClient(t, url, { id: 'ann' })
  const sub = await openClient(t, url)
  await sub.request({ type: 'subscribe', resource: 'users' })
  const record = { id: 'u1', name: 'Ann', password: 'p4ss', _etag: 'x', meta: { kind: 'k', secret: 's' } }
  await sender.request({ type: 'publish', channel: 'users', message: record })
  t.same((await sub.waitType('message')).data, { id: 'u1', name: 'Ann', meta: { kind: 'k' } })
  await sender.request({ type: 'publish', channel: 'users', message: { type: 'user-changed', data: record, record } })
  const wrapped = await sub.waitType('message')
  t.same(wrapped.data.data, { id: 'u1', name: 'Ann', meta: { kind: 'k' } }, 'stripped inside data')
  t.same(wrapped.data.record, { id: 'u1', name: 'Ann', meta: { kind: 'k' } }, 'stripped inside record')
  t.equal(wrapped.data.type, 'user-changed')
})

t.test('publishAuth by roles or by function; resource auth applies too', async (t) => {
  const seen: unknown[] = []
  const { url } = await buildApp(t, {
    ...jwtAuth,
    resources: {
      messages: { publishAuth: ['editor'] },
      users: {
        publishAuth: (user, message) => {
          seen.push(message)
          if ((message as { boom?: boolean }).boom === true) throw new Error('secret internals')
          return user?.id === 'ann'
        }
      }
    }
  })
  const anon = await openClient(t, url)
  const editor = await openClient(t, url, { id: 'ed', roles: ['editor'] })
  const ann = await openClient(t, url, { id: 'ann', role: 'viewer' })
  t.equal((await anon.request({ type: 'publish', channel: 'messages', message: 'x' })).code, 'FORBIDDEN', 'anonymous: no roles')
  t.equal((await ann.request({ type: 'publish', channel: 'messages', message: 'x' })).code, 'FORBIDDEN', 'wrong role')
  t.equal((await editor.request({ type: 'publish', channel: 'messages', message: 'x' })).type, 'published', 'role matches')

  t.equal((await ann.request({ type: 'publish', channel: 'users', message: { hi: 1 } })).type, 'published', 'function allows')
  t.equal((await editor.request({ type: 'publish', channel: 'users', message: { hi: 2 } })).code, 'FORBIDDEN', 'function denies')
  const boom = await ann.request({ type: 'publish', channel: 'users', message: { boom: true } })
  t.equal(boom.code, 'FORBIDDEN', 'a throwing publishAuth denies')
  t.notMatch(boom.message, /secret internals/)
  t.same(seen, [{ hi: 1 }, { hi: 2 }, { boom: true }], 'the function sees the message')

  const locked = await buildApp(t, { ...jwtAuth, resources: { messages: { auth: ['admin'] } } })
  const viewer = await openClient(t, locked.url, { id: 'v', role: 'viewer' })
  t.equal((await viewer.request({ type: 'publish', channel: 'messages', message: 'x' })).code, 'FORBIDDEN', 'resource roles gate publish')
  const admin = await openClient(t, locked.url, { id: 'a', role: 'admin' })
  t.equal((await admin.request({ type: 'publish', channel: 'messages', message: 'x' })).type, 'published')
})

t.test('bad publish requests get clear errors', async (t) => {
  const { client } = await buildApp(t, jwtAuth)
  const ws = await client()
  t.equal((await ws.request({ type: 'publish', channel: 'nope', message: 'x' })).code, 'RESOURCE_NOT_FOUND')
  const missing = await ws.request({ type: 'publish', channel: 'messages' })
  t.equal(missing.code, 'INVALID_REQUEST')
  t.equal(missing.details.field, '/message')
  const noChannel = await ws.request({ type: 'publish', message: 'x' })
  t.equal(noChannel.code, 'INVALID_REQUEST')
  t.equal(noChannel.details.field, '/channel')
  t.equal((await ws.request({ type: 'ping' })).type, 'pong')
})
