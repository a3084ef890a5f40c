import type { FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import { createClient, RealtimeError, type ChannelMessage, type Member, type PublishedMessage, type RealtimeClient } from '../../src/client/index.js'
import { buildApp } from '../helpers/app.js'
import { hsToken, SECRET } from '../helpers/jwt.js'
import { partsOf } from '../helpers/hub.js'

const auth = { auth: { required: true, drivers: [{ driver: 'jwt' as const, config: { secret: SECRET } }] } }
interface Info { name: string, status?: string }

function clientAs (t: Test, url: string, user: string): RealtimeClient {
  const client = createClient({ url, token: () => hsToken({ sub: user }), reconnect: { initialDelay: 10, maxDelay: 50 } })
  t.teardown(() => { client.close() })
  return client
}

/** Collects a channel's (or client's) events so assertions can wait for one. */
function recorder<T> (): { seen: T[], push: (value: T) => void, until: (match: (value: T) => boolean) => Promise<T> } {
  const seen: T[] = []
  const waiters: Array<{ match: (value: T) => boolean, resolve: (value: T) => void }> = []
  return {
    seen,
    push: (value) => {
      seen.push(value)
      for (const waiter of [...waiters]) {
        if (waiter.match(value)) { waiters.splice(waiters.indexOf(waiter), 1); waiter.resolve(value) }
      }
    },
    until: async (match) => {
      const found = seen.find(match)
      if (found !== undefined) return found
      return await new Promise<T>((resolve) => { waiters.push({ match, resolve }) })
    }
  }
}

function killUser (app: FastifyInstance, userId: string): void {
  for (const connection of partsOf(app).hub.connections.values()) if (connection.user?.id === userId) connection.socket.terminate()
}

t.test('presence: members, joins, leaves, updates and channel messages between two clients', async (t) => {
  const { url } = await buildApp(t, auth)
  const ann = clientAs(t, url, 'ann')
  const bob = clientAs(t, url, 'bob')
  const annRoom = await ann.join<Info>('presence-lobby', { name: 'Ann' })
  t.same(annRoom.members.map((m) => m.id), ['ann'])
  t.equal(annRoom.me?.userInfo.name, 'Ann')
  const joined = recorder<Member<Info>>()
  const left = recorder<Member<Info>>()
  const updated = recorder<Member<Info>>()
  const messages = recorder<ChannelMessage>()
  annRoom.on('member_joined', joined.push)
  annRoom.on('member_left', left.push)
  annRoom.on('member_updated', updated.push)
  annRoom.on('message', messages.push)

  const bobRoom = await bob.join<Info>('presence-lobby', { name: 'Bob' })
  t.same(bobRoom.members.map((m) => m.id).sort(), ['ann', 'bob'])
  const bobMember = await joined.until((m) => m.id === 'bob')
  t.equal(bobMember.userInfo.name, 'Bob')
  t.same(annRoom.members.map((m) => m.id).sort(), ['ann', 'bob'], 'members follow joins')
  t.equal(annRoom.memberCount, 2)

  t.equal(await bobRoom.send('chat', { text: 'hi' }), 1)
  const message = await messages.until((m) => m.event === 'chat')
  t.same(message.data, { text: 'hi' })

  await bobRoom.update({ status: 'away' })
  const change = await updated.until((m) => m.id === 'bob')
  t.equal(change.userInfo.status, 'away')

  await bobRoom.leave()
  await left.until((m) => m.id === 'bob')
  t.same(annRoom.members.map((m) => m.id), ['ann'])
  t.equal(annRoom.memberCount, 1, 'the count follows leaves')
  const error = await bobRoom.send('chat', 'after leaving').then(() => null, (e: unknown) => e)
  t.equal((error as RealtimeError).code, 'NOT_IN_CHANNEL')
})

t.test('a dropped client re-joins its channels on reconnect, with the userInfo it last set', async (t) => {
  const { url, app } = await buildApp(t, auth)
  const ann = clientAs(t, url, 'ann')
  const bob = clientAs(t, url, 'bob')
  const annRoom = await ann.join<Info>('presence-lobby', { name: 'Ann' })
  const messages = recorder<ChannelMessage>()
  annRoom.on('message', messages.push)
  const bobRoom = await bob.join<Info>('presence-lobby', { name: 'Bob' })
  await bobRoom.update({ status: 'busy' })
  const oldClientId = bob.clientId

  const gone = new Promise<void>((resolve) => {
    app.realtime.on('client.disconnected', ({ clientId }) => { if (clientId === oldClientId) resolve() })
  })
  const reopened = new Promise<void>((resolve) => { const off = bob.on('open', () => { off(); resolve() }) })
  killUser(app, 'bob')
  await gone
  await reopened
  t.not(bob.clientId, oldClientId, 'a new socket')
  const member = app.realtime.getChannelMembers('presence-lobby').find((m) => m.id === 'bob')
  t.equal(member?.clientId, bob.clientId, 'the server has bob in the channel on the new socket')
  t.same(member?.userInfo, { name: 'Bob', status: 'busy' }, 're-joined with the latest userInfo')
  t.same(bobRoom.members.map((m) => m.id).sort(), ['ann', 'bob'])
  t.equal(await bobRoom.send('chat', 'back'), 1, 'the channel object keeps working')
  await messages.until((m) => m.data === 'back')
})

t.test('joining a presence channel anonymously is refused with FORBIDDEN', async (t) => {
  const { url } = await buildApp(t, { auth: { required: false, drivers: [{ driver: 'jwt' as const, config: { secret: SECRET } }] } })
  const anonymous = createClient({ url })
  t.teardown(() => { anonymous.close() })
  const error = await anonymous.join('presence-lobby').then(() => null, (e: unknown) => e)
  t.ok(error instanceof RealtimeError)
  t.equal((error as RealtimeError).code, 'FORBIDDEN')
  const room = await anonymous.join('lobby')
  t.equal(room.channelType, 'public', 'public channels admit anyone')
})

t.test('publish reaches the other subscribers of the resource as a message event', async (t) => {
  const { url } = await buildApp(t, auth)
  const ann = clientAs(t, url, 'ann')
  const bob = clientAs(t, url, 'bob')
  const received = recorder<PublishedMessage>()
  ann.on('message', received.push)
  await ann.subscribe('messages', {}, () => {})
  t.equal(await bob.publish('messages', { typing: true }), 1)
  const message = await received.until(() => true)
  t.equal(message.channel, 'messages')
  t.same(message.data, { typing: true })
})
