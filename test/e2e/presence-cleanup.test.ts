import t from 'tap'
import { buildApp } from '../helpers/app.js'
import { openClient, jwtAuth } from '../helpers/users.js'
import { partsOf } from '../helpers/hub.js'

/**
 * 1,000 join/leave/disconnect cycles across presence, private and public channels, with the
 * three ways a socket can go: `leave`, a clean close, and a socket destroyed without a close
 * frame. Afterwards the hub must hold no channel, no member and no per-socket channel entry.
 */
t.test('after 1,000 join/leave/disconnect cycles no empty channel and no stale member remain', async (t) => {
  const { url, app } = await buildApp(t, jwtAuth)
  const observer = await openClient(t, url, { id: 'observer' })
  await observer.request({ type: 'join', channel: 'presence-0' })
  const batch = 50
  for (let start = 0; start < 1000; start += batch) {
    await Promise.all(Array.from({ length: batch }, async (_, k) => {
      const i = start + k
      const ws = await openClient(t, url, { id: `user-${i % 37}` })
      const channels = [`presence-${i % 5}`, `private-${i % 3}`, `public-${i % 7}`]
      for (const channel of channels) {
        const reply = await ws.request({ type: 'join', channel, userInfo: { i } })
        if (reply.type !== 'channel:joined') throw new Error(`join failed: ${JSON.stringify(reply)}`)
      }
      const mode = i % 3
      if (mode === 0) {
        for (const channel of channels) await ws.request({ type: 'leave', channel })
        ws.close()
      } else if (mode === 1) {
        ws.close()
      } else {
        ws.socket.terminate() // no close frame: the server sees the TCP connection drop
      }
      await ws.closed
    }))
  }
  // Sockets the server has not finished closing would still count: wait until it has seen all of them.
  while (app.realtime.getServerInfo().clients > 1) await new Promise((resolve) => setImmediate(resolve))
  await observer.request({ type: 'leave', channel: 'presence-0' })

  t.same(app.realtime.getChannelStats(), {
    channels: 0, totalMembers: 0, totalConnections: 0, byType: { public: 0, private: 0, presence: 0 }, clients: 0
  })
  t.same(app.realtime.listChannels(), [])
  t.equal(app.realtime.getChannelMembers('presence-0').length, 0)
  const service = partsOf(app).channels
  t.equal(service?.summarizer.pendingChannels, 0, 'no pending summaries for vanished channels')
})
