import t from 'tap'
import { buildApp } from '../helpers/app.js'
import { jwtAuth, openClient } from '../helpers/users.js'

// Issue #12, section 4: a private channel is judged only by guards for private channels. A
// pattern with a type prefix (`presence-*`) must not decide `private-presence-board`.

t.test('regression: a presence-* guard does not decide private-presence-board', async (t) => {
  const { url } = await buildApp(t, {
    ...jwtAuth,
    channels: {
      guards: {
        'presence-*': () => true, // anyone may be in a presence channel ...
        'private-*': (user) => user.role === 'admin' // ... private ones are for admins
      }
    }
  })
  const user = await openClient(t, url, { id: 'u1' })
  const admin = await openClient(t, url, { id: 'root', role: 'admin' })

  t.match(await user.request({ type: 'join', channel: 'private-presence-board' }), { type: 'error', code: 'FORBIDDEN' },
    'the private guard decides, though presence-* is longer and matches the name without its prefix')
  t.match(await user.request({ type: 'join', channel: 'presence-board' }), { type: 'channel:joined', channelType: 'presence' })
  t.match(await admin.request({ type: 'join', channel: 'private-presence-board' }), { type: 'channel:joined', channelType: 'private' })
  t.match(await user.request({ type: 'join', channel: 'presence-private-ops' }), { type: 'channel:joined', channelType: 'presence' },
    'symmetrically, private-* does not decide a presence channel')
})

t.test('typed patterns only fall back to untyped ones; documented untyped patterns still cover both types', async (t) => {
  const { url } = await buildApp(t, {
    ...jwtAuth,
    channels: {
      guards: {
        'presence-*': () => true,
        'team-*': (user, channel) => channel.endsWith(`-${String(user.team)}`),
        '*': (user) => user.role === 'admin'
      }
    }
  })
  const red = await openClient(t, url, { id: 'u1', team: 'red' })
  t.match(await red.request({ type: 'join', channel: 'private-presence-x' }), { code: 'FORBIDDEN' }, "'*' decides, not 'presence-*'")
  t.match(await red.request({ type: 'join', channel: 'private-team-red' }), { type: 'channel:joined' }, "'team-*' covers private-team-red")
  t.match(await red.request({ type: 'join', channel: 'private-team-blue' }), { code: 'FORBIDDEN' })
  t.match(await red.request({ type: 'join', channel: 'presence-team-red' }), { type: 'channel:joined' }, "'team-*' covers presence-team-red too")
  t.match(await red.request({ type: 'join', channel: 'private-ops' }), { code: 'FORBIDDEN' }, "'*' where nothing else matches")
})
