import t from 'tap'
import { backoffDelay, jwtExpiry, resolveReconnect } from '../../src/client/index.js'

t.test('backoff grows by factor, is capped at maxDelay, and jitter only ever shortens it', async (t) => {
  const policy = resolveReconnect({ initialDelay: 100, maxDelay: 1000, factor: 2, jitter: 0.5 })
  t.same([0, 1, 2, 3, 4, 5].map((n) => backoffDelay(policy, n, () => 0)), [100, 200, 400, 800, 1000, 1000], 'no jitter at random()=0')
  t.same([0, 1, 4].map((n) => backoffDelay(policy, n, () => 1)), [50, 100, 500], 'at most `jitter` of the delay is taken off')
  const spread = new Set(Array.from({ length: 50 }, () => backoffDelay(policy, 3)))
  t.ok(spread.size > 1, 'clients dropped together do not retry in lockstep')
  for (const delay of spread) t.ok(delay >= 400 && delay <= 800)
})

t.test('reconnect options are validated', async (t) => {
  t.throws(() => resolveReconnect({ jitter: 2 }), /jitter/)
  t.throws(() => resolveReconnect({ initialDelay: -1 }), /initialDelay/)
  t.throws(() => resolveReconnect({ initialDelay: 500, maxDelay: 100 }), /maxDelay/)
  t.throws(() => resolveReconnect({ maxAttempts: 0 }), /maxAttempts/)
  t.same(resolveReconnect({}), { initialDelay: 500, maxDelay: 10000, factor: 2, jitter: 0.5, maxAttempts: Infinity })
})

t.test('jwtExpiry reads exp without verifying; other tokens have none', async (t) => {
  const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url')
  t.equal(jwtExpiry(`${b64({ alg: 'HS256' })}.${b64({ sub: 'u', exp: 2000000000 })}.sig`), 2000000000 * 1000)
  t.equal(jwtExpiry(`${b64({ alg: 'HS256' })}.${b64({ sub: 'u' })}.sig`), null)
  t.equal(jwtExpiry('api_key_123'), null)
  t.equal(jwtExpiry('a.b.c'), null)
})
