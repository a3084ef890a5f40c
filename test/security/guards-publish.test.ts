import t from 'tap'
import type { RealtimeUser } from '../../src/index.js'
import { buildApp } from '../helpers/app.js'
import { jwtAuth, openClient } from '../helpers/users.js'

// Issue #12, section 4: publish is judged against every forced filter the sender is subject to,
// the `subscribe` guard's included, not only the `list` guard's.

type Tenant = RealtimeUser & { tenantId?: string }
const tenantOf = (user: RealtimeUser | null): string => (user as Tenant | null)?.tenantId ?? ''

t.test('regression: a resource guarded only by subscribe does not let tenant A publish into tenant B', async (t) => {
  const { url } = await buildApp(t, {
    ...jwtAuth,
    resources: { messages: { guard: { subscribe: (user) => ({ tenantId: tenantOf(user) }) } } }
  })
  const alice = await openClient(t, url, { id: 'alice', tenantId: 'A' })
  const ann = await openClient(t, url, { id: 'ann', tenantId: 'A' })
  const bob = await openClient(t, url, { id: 'bob', tenantId: 'B' })
  t.match(await ann.request({ type: 'subscribe', resource: 'messages' }), { type: 'subscribed', filter: { tenantId: 'A' } })
  t.match(await bob.request({ type: 'subscribe', resource: 'messages' }), { type: 'subscribed', filter: { tenantId: 'B' } })

  const spoof = await alice.request({ type: 'publish', channel: 'messages', message: { tenantId: 'B', content: 'spoof' } })
  t.match(spoof, { type: 'error', code: 'FORBIDDEN' }, 'a message shaped like tenant B data is refused')
  const untagged = await alice.request({ type: 'publish', channel: 'messages', message: { content: 'no tenant' } })
  t.match(untagged, { type: 'error', code: 'FORBIDDEN' }, 'a message outside the forced filter (field missing) is refused too')

  const own = await alice.request({ type: 'publish', channel: 'messages', message: { tenantId: 'A', content: 'hello A' } })
  t.match(own, { type: 'published', delivered: 1 }, 'publishing inside your own tenant still works')
  t.equal((await ann.waitType('message')).data.content, 'hello A')
  t.equal((await bob.request({ type: 'ping' })).type, 'pong')
  t.same(bob.ofType('message'), [], 'tenant B never got a message from tenant A')
})

t.test('publish must match the list AND the subscribe forced filters; a subscribe guard saying no refuses it', async (t) => {
  const { url } = await buildApp(t, {
    ...jwtAuth,
    resources: {
      messages: {
        guard: {
          list: (user) => ({ tenantId: tenantOf(user) }),
          subscribe: (user) => user?.role === 'banned' ? false : { region: 'eu' }
        }
      }
    }
  })
  const sender = await openClient(t, url, { id: 's', tenantId: 'A' })
  const reader = await openClient(t, url, { id: 'r', tenantId: 'A' })
  await reader.request({ type: 'subscribe', resource: 'messages' })

  t.match(await sender.request({ type: 'publish', channel: 'messages', message: { tenantId: 'A', content: 'x' } }),
    { code: 'FORBIDDEN' }, 'inside list but outside subscribe: refused')
  t.match(await sender.request({ type: 'publish', channel: 'messages', message: { region: 'eu', content: 'x' } }),
    { code: 'FORBIDDEN' }, 'inside subscribe but outside list: refused')
  t.match(await sender.request({ type: 'publish', channel: 'messages', message: { tenantId: 'A', region: 'eu', content: 'ok' } }),
    { type: 'published', delivered: 1 }, 'inside both: delivered')
  t.equal((await reader.waitType('message')).data.content, 'ok')

  const banned = await openClient(t, url, { id: 'b', tenantId: 'A', role: 'banned' })
  t.match(await banned.request({ type: 'publish', channel: 'messages', message: { tenantId: 'A', region: 'eu', content: 'x' } }),
    { code: 'FORBIDDEN' }, 'a sender the subscribe guard refuses cannot publish into the subscriptions')
  t.equal((await reader.request({ type: 'ping' })).type, 'pong')
  t.same(reader.ofType('message'), [], 'nothing refused reached the reader')
})
