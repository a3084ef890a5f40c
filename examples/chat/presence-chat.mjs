/**
 * Presence chat: two users (Ann and Bob) join `presence-lobby`, see each other arrive, Bob types
 * and says hello, then leaves — and Ann sees every step. One Node script, real server, real
 * sockets. Run: `npm run build && node examples/chat/presence-chat.mjs`
 * (or import `runPresenceChat` and pass your own logger).
 */
import Fastify from 'fastify'
import { Database } from 's3db.js'
import { WebSocket } from 'ws'
import s3dbRealtime from 's3db-realtime'

/** A tiny protocol client: send with a requestId and await the reply; collect pushes. */
async function connect (url, onPush) {
  const socket = new WebSocket(url)
  const pending = new Map()
  let next = 0
  const connected = new Promise((resolve, reject) => {
    socket.once('error', reject)
    socket.on('message', (data) => {
      const frame = JSON.parse(data.toString())
      if (frame.type === 'connected') resolve()
      else if (typeof frame.requestId === 'string' && pending.has(frame.requestId)) {
        pending.get(frame.requestId)?.(frame)
        pending.delete(frame.requestId)
      } else onPush(frame)
    })
  })
  await connected
  return {
    request: async (message) => await new Promise((resolve) => {
      const requestId = String(++next)
      pending.set(requestId, resolve)
      socket.send(JSON.stringify({ ...message, requestId }))
    }),
    close: () => { socket.close() }
  }
}

/** Resolves when `predicate` has seen a matching push (the example's only way to wait). */
function waiter () {
  const seen = []
  const waiting = []
  return {
    push (frame) {
      const index = waiting.findIndex((w) => w.test(frame))
      if (index >= 0) waiting.splice(index, 1)[0]?.resolve(frame)
      else seen.push(frame)
    },
    async next (type) {
      const found = seen.findIndex((f) => f.type === type)
      if (found >= 0) return seen.splice(found, 1)[0]
      return await new Promise((resolve) => waiting.push({ test: (f) => f.type === type, resolve }))
    }
  }
}

export async function runPresenceChat (log = console.log) {
  const db = new Database({ connectionString: 'memory://chat-example/db', logLevel: 'silent' })
  await db.connect()
  const app = Fastify({ logger: false })
  await app.register(s3dbRealtime, {
    database: db,
    path: '/ws',
    // Presence channels need an authenticated user: two API keys stand in for real logins.
    auth: { drivers: [{ driver: 'apiKey', config: { keys: { 'key-ann': { id: 'ann', name: 'Ann' }, 'key-bob': { id: 'bob', name: 'Bob' } } } }] },
    channels: {
      // Anyone signed in may join the lobby; other presence channels are for admins.
      guards: { lobby: () => true, '*': (user) => user.role === 'admin' ? true : { authorized: false, reason: 'Admins only' } }
    }
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address()
  const url = (key) => `ws://127.0.0.1:${port}/ws?token=${key}`

  try {
    const annSees = waiter()
    const ann = await connect(url('key-ann'), (frame) => { annSees.push(frame) })
    const bob = await connect(url('key-bob'), () => {})

    const joined = await ann.request({ type: 'join', channel: 'presence-lobby', userInfo: { status: 'online' } })
    log(`Ann joined ${joined.channel}; members: ${joined.members.map((m) => m.id).join(', ')}`)

    const bobJoined = await bob.request({ type: 'join', channel: 'presence-lobby', userInfo: { status: 'online' } })
    log(`Bob joined; members: ${bobJoined.members.map((m) => m.id).join(', ')}`)
    log(`Ann sees: ${(await annSees.next('presence:member_joined')).member.id} joined`)

    await bob.request({ type: 'channel:update', channel: 'presence-lobby', userInfo: { typing: true } })
    const typing = await annSees.next('presence:member_updated')
    log(`Ann sees: ${typing.member.id} is ${typing.member.userInfo.typing === true ? 'typing…' : 'idle'}`)

    await bob.request({ type: 'channel:message', channel: 'presence-lobby', event: 'chat', data: { text: 'Hi Ann!' } })
    const chat = await annSees.next('channel:message')
    log(`Ann sees: ${chat.from.userId} says "${chat.data.text}"`)

    bob.close() // closing the tab: the server announces the leave
    log(`Ann sees: ${(await annSees.next('presence:member_left')).member.id} left`)
    ann.close()
  } finally {
    await app.close()
    await db.disconnect()
  }
}

if (import.meta.url === `file://${process.argv[1] ?? ''}`) await runPresenceChat()
