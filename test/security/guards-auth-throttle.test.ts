import t from 'tap'
import { AUTH_FAILURE_LIMIT, AUTH_FAILURE_WINDOW_MS } from '../../src/upgrade/message-auth.js'
import { buildApp } from '../helpers/app.js'
import type { Message } from '../helpers/client.js'
import { hsToken, SECRET } from '../helpers/jwt.js'
import { until } from '../helpers/wait.js'

// Issue #12, section 6: the `auth` message must not be an unthrottled way to guess credentials.

const apiKeys = { auth: { drivers: [{ driver: 'apiKey' as const, config: { keys: { sk_live_right: { id: 'svc', role: 'service' } } } }] } }
const jwt = { auth: { required: true, drivers: [{ driver: 'jwt' as const, config: { secret: SECRET } }] } }

t.test('regression: 200 wrong API keys on one socket get a few answers, then RATE_LIMIT_EXCEEDED and a 1008 close', async (t) => {
  const { client } = await buildApp(t, apiKeys)
  const guesser = await client()
  const bystander = await client()
  for (let i = 0; i < 200; i++) guesser.send({ type: 'auth', requestId: `g${i}`, token: `sk_live_guess_${i}` })
  const guessReplies = (): Message[] => guesser.received.filter((m) => typeof m.requestId === 'string' && m.requestId.startsWith('g'))
  await until(() => guesser.closeCode !== null || guessReplies().length === 200, 'the socket to close or every guess to be answered')
  t.equal(guesser.closeCode, 1008, 'the socket is closed with 1008 (policy)')
  const replies = guessReplies()
  t.equal(replies.filter((m) => m.code === 'UNAUTHORIZED').length, AUTH_FAILURE_LIMIT, `only ${AUTH_FAILURE_LIMIT} keys were tried`)
  const limited = replies.filter((m) => m.code === 'RATE_LIMIT_EXCEEDED')
  t.equal(limited.length, 1, 'the next attempt is refused as rate limited')
  t.match(limited[0]?.details, { limit: AUTH_FAILURE_LIMIT, windowMs: AUTH_FAILURE_WINDOW_MS }, 'with the limit that applies')
  t.equal(replies.length, AUTH_FAILURE_LIMIT + 1, 'nothing after the close')
  t.match(await bystander.request({ type: 'auth', token: 'sk_live_right' }), { type: 'authenticated', user: { id: 'svc' } },
    'another socket is not affected')
})

t.test('a throttled socket is refused even a right credential; tokens of another user count as failures', async (t) => {
  const { client } = await buildApp(t, jwt)
  const ws = await client(`?token=${hsToken({ sub: 'u1' })}`)
  t.match(await ws.request({ type: 'auth', token: 'garbage' }), { code: 'UNAUTHORIZED' })
  t.match(await ws.request({ type: 'auth', token: hsToken({ sub: 'u2' }) }), { code: 'UNAUTHORIZED' })
  t.match(await ws.request({ type: 'auth', token: hsToken({ sub: 'u1' }, { secret: 'not-the-secret-but-long-enough-too' }) }), { code: 'UNAUTHORIZED' })
  t.match(await ws.request({ type: 'auth', token: hsToken({ sub: 'u1' }) }), { code: 'RATE_LIMIT_EXCEEDED' },
    'not verified at all once throttled')
  await until(() => ws.closeCode !== null, 'the socket to close', 5000).catch(() => {})
  t.equal(ws.closeCode, 1008)
})

t.test('successful refreshes are not limited, and failures under the limit keep the socket usable', async (t) => {
  const { client } = await buildApp(t, jwt)
  const ws = await client(`?token=${hsToken({ sub: 'u1' })}`)
  for (let i = 0; i < 20; i++) {
    t.equal((await ws.request({ type: 'auth', token: hsToken({ sub: 'u1', n: i }) })).type, 'authenticated')
  }
  for (let i = 0; i < AUTH_FAILURE_LIMIT; i++) t.match(await ws.request({ type: 'auth', token: `bad${i}` }), { code: 'UNAUTHORIZED' })
  t.equal((await ws.request({ type: 'ping' })).type, 'pong', 'still open after the allowed failures')
  t.equal(ws.closeCode, null)
  t.equal(ws.ofType('error').length, 0, 'no other error was sent')
})
