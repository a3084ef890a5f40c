import { generateKeyPairSync } from 'node:crypto'
import fastifyJwt from '@fastify/jwt'
import { createSigner } from 'fast-jwt'
import t, { type Test } from 'tap'
import { buildApp, type TestApp } from '../helpers/app.js'
import { connect } from '../helpers/client.js'
import { tryUpgrade } from '../helpers/upgrade.js'
import type { RealtimeUser } from '../../src/index.js'

// Attack review of the app-JWT path (#13): a formatUser that drops `exp` must not make tokens
// immortal; fast-jwt refusals are 401/UNAUTHORIZED (and count as failures), not 500; sockets
// still waiting for in-band auth get no broadcast.
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
const privatePem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()
const publicPem = publicKey.export({ format: 'pem', type: 'spki' }).toString()
const sign = (claims: Record<string, unknown>, options: { expiresIn?: number, notBefore?: number } = {}): string =>
  createSigner({ key: privatePem, algorithm: 'RS256', ...options })(claims)

async function appWithJwt (t: Test, inBand = false): Promise<TestApp> {
  return await buildApp(t, { auth: { jwt: 'fastify', required: true, inBand }, resources: { messages: true } }, {
    before: async (app) => {
      await app.register(fastifyJwt, { secret: { private: privatePem, public: publicPem }, sign: { algorithm: 'RS256' }, formatUser: (payload) => ({ id: (payload as { sub: string }).sub }) })
    }
  })
}

t.test('a formatUser that drops exp: the socket still closes with 4001 when the token expires', async (t) => {
  const app = await appWithJwt(t, true)
  const token = sign({ sub: 'ann' }, { expiresIn: 1500 })
  const { client: byHeader } = await connect(app.url, { headers: { Authorization: `Bearer ${token}` } })
  const inBand = await app.client()
  const reply = await inBand.request({ type: 'auth', token })
  t.type(reply.expiresAt, 'string', 'the in-band reply names the expiry')
  t.equal((await byHeader.closed).code, 4001)
  t.equal((await inBand.closed).code, 4001)
})

t.test('fast-jwt refusals (algorithm confusion, future nbf) are 401 / UNAUTHORIZED and count toward the throttle', async (t) => {
  const app = await appWithJwt(t, true)
  const confused = createSigner({ key: publicPem, algorithm: 'HS256' })({ sub: 'mallory' })
  const early = sign({ sub: 'ann' }, { notBefore: 3_600_000 })
  for (const token of [confused, early]) t.equal((await tryUpgrade(`${app.url}?token=${token}`)).status, 401)
  const ws = await app.client()
  for (let i = 0; i < 3; i++) t.match(await ws.request({ type: 'auth', token: i % 2 === 0 ? confused : early }), { code: 'UNAUTHORIZED' })
  t.match(await ws.request({ type: 'auth', token: confused }), { code: 'RATE_LIMIT_EXCEEDED' })
  t.equal((await ws.closed).code, 1008)
})

t.test('a socket still waiting for in-band auth gets no broadcast', async (t) => {
  const app = await appWithJwt(t, true)
  const waiting = await app.client()
  const { client: member } = await connect(app.url, { headers: { Authorization: `Bearer ${sign({ sub: 'ann' }, { expiresIn: 60_000 })}` } })
  t.teardown(() => { member.close() })
  t.equal(app.app.realtime.broadcast({ type: 'announcement' }), 1, 'only the authenticated socket')
  await member.waitType('announcement')
  await waiting.request({ type: 'ping' })
  t.equal(waiting.ofType('announcement').length, 0)
  await waiting.request({ type: 'auth', token: sign({ sub: 'bob' }, { expiresIn: 60_000 }) })
  t.equal(app.app.realtime.broadcast({ type: 'announcement' }), 2, 'once authenticated it gets them')
})

t.test('an authenticate hook that throws: a generic 500, its message never sent; a 4xx it throws passes through', async (t) => {
  const app = await buildApp(t, {
    auth: {
      authenticate: async (request) => {
        if (request.headers['x-mode'] === 'deny') throw Object.assign(new Error('Go away'), { statusCode: 403 })
        throw new Error('boom secret detail')
      }
    },
    tickets: { route: { authenticate: async () => ({ name: 'no id here' }) as unknown as RealtimeUser } },
    resources: { messages: true }
  })
  const boom = await tryUpgrade(app.url)
  t.equal(boom.status, 500)
  t.notMatch(boom.body, /boom|secret detail/)
  t.equal((await tryUpgrade(app.url, { 'x-mode': 'deny' })).status, 403)
  const ticket = await fetch(app.url.replace(/^ws/, 'http') + '/ticket', { method: 'POST' })
  t.equal(ticket.status, 500)
  t.notMatch(await ticket.text(), /id|no id here/i)
})
