import fastifyJwt from '@fastify/jwt'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import t from 'tap'
import { buildApp } from '../helpers/app.js'
import { connect } from '../helpers/client.js'
import { SECRET } from '../helpers/jwt.js'
import { tryUpgrade } from '../helpers/upgrade.js'

// Issue #13, section 4: an app-wide onRequest hook calling request.jwtVerify() must not break
// ?token= upgrades (FST_JWT_NO_AUTHORIZATION_IN_HEADER), and in-band clients need the skip pattern.

/** The hook as @fastify/jwt's README shows it, registered before s3db-realtime. */
async function appWideJwt (app: FastifyInstance, skipWebSocket: boolean): Promise<void> {
  await app.register(fastifyJwt, { secret: SECRET })
  app.addHook('onRequest', async (request: FastifyRequest) => {
    if (skipWebSocket && (request.routeOptions.config as { websocket?: boolean }).websocket === true) return
    await request.jwtVerify()
  })
  app.get('/api/me', async (request) => ({ user: request.user }))
}

t.test('regression: an app-wide jwtVerify hook accepts ?token= on the WS route', async (t) => {
  const { app, url } = await buildApp(t, { auth: { jwt: 'fastify', required: true } }, {
    before: async (app) => { await appWideJwt(app, false) }
  })
  const token = app.jwt.sign({ sub: 'ann' })
  const { client, connected } = await connect(`${url}?token=${token}`)
  t.teardown(() => { client.close() })
  t.match(connected, { type: 'connected', user: { id: 'ann' } }, 'the app\'s hook saw the query token as a Bearer header')
  const header = await tryUpgrade(url, { authorization: `Bearer ${token}` })
  t.equal(header.status, 101, 'a header still works')
  const bad = await tryUpgrade(`${url}?token=not-a-jwt`)
  t.equal(bad.status, 401, 'a bad query token is still refused')
  const rest = await app.inject({ url: '/api/me?token=' + token })
  t.equal(rest.statusCode, 401, 'other routes are untouched: no query tokens there')
})

t.test('the documented skip pattern lets in-band clients through an app-wide jwtVerify hook', async (t) => {
  const { app, url } = await buildApp(t, { auth: { jwt: 'fastify', required: true, inBand: true } }, {
    before: async (app) => { await appWideJwt(app, true) }
  })
  const { client, connected } = await connect(url)
  t.teardown(() => { client.close() })
  t.equal(connected.user, null, 'accepted without credentials, to authenticate in-band')
  const reply = await client.request({ type: 'auth', token: app.jwt.sign({ sub: 'bob' }) })
  t.match(reply, { type: 'authenticated', user: { id: 'bob' } })
  const rest = await app.inject({ url: '/api/me' })
  t.equal(rest.statusCode, 401, 'the app\'s REST routes stay protected')
})
