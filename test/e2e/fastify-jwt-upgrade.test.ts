import { generateKeyPairSync } from 'node:crypto'
import { Writable } from 'node:stream'
import fastifyJwt from '@fastify/jwt'
import Fastify from 'fastify'
import t from 'tap'
import s3dbRealtime from '../../src/index.js'
import { buildApp } from '../helpers/app.js'
import { connect } from '../helpers/client.js'
import { createDatabase } from '../helpers/db.js'
import { SECRET } from '../helpers/jwt.js'
import { tryUpgrade } from '../helpers/upgrade.js'

// Issue #13, section 1: the upgrade authenticates with the app's own @fastify/jwt.

const rsa = (): { privateKey: string, publicKey: string } => {
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 })
  return {
    privateKey: pair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicKey: pair.publicKey.export({ format: 'pem', type: 'spki' }).toString()
  }
}

t.test('HS256: the app\'s secret verifies ?token= and the Authorization header; nothing else gets in', async (t) => {
  const { app, url } = await buildApp(t, { auth: { jwt: 'fastify', required: true } }, {
    before: async (app) => { await app.register(fastifyJwt, { secret: SECRET }) }
  })
  const token = app.jwt.sign({ sub: 'ann', role: 'admin' })
  const byQuery = await connect(`${url}?token=${token}`)
  t.teardown(() => { byQuery.client.close() })
  t.match(byQuery.connected, { type: 'connected', user: { id: 'ann', role: 'admin' } })
  t.equal(app.realtime.getClients()[0]?.user?.id, 'ann', 'the user comes from the app\'s token')
  const byHeader = await tryUpgrade(url, { authorization: `Bearer ${token}` })
  t.equal(byHeader.status, 101, 'a Bearer header works too')
  const forged = await tryUpgrade(`${url}?token=x.y.z`)
  t.equal(forged.status, 401, 'a malformed token is refused')
  const otherApp = Fastify()
  await otherApp.register(fastifyJwt, { secret: 'another-secret-entirely-123' })
  await otherApp.ready()
  const foreign = await tryUpgrade(`${url}?token=${otherApp.jwt.sign({ sub: 'ann' })}`)
  t.equal(foreign.status, 401, 'a token signed with another secret is refused')
  await otherApp.close()
  const none = await tryUpgrade(url)
  t.equal(none.status, 401, 'no token with required: 401')
  t.match(JSON.parse(none.body), { code: 'UNAUTHORIZED', message: 'Authentication required' })
})

t.test('RS256 key pair: tokens the app signs with its private key are verified with its public key', async (t) => {
  const keys = rsa()
  const { app, client } = await buildApp(t, { auth: { jwt: 'fastify', required: true } }, {
    before: async (app) => {
      await app.register(fastifyJwt, { secret: { private: keys.privateKey, public: keys.publicKey }, sign: { algorithm: 'RS256' } })
    }
  })
  const token = app.jwt.sign({ sub: 'bob' })
  t.match(JSON.parse(Buffer.from(token.split('.')[0] as string, 'base64url').toString()), { alg: 'RS256' })
  const socket = await client(`?token=${token}`)
  const reply = await socket.request({ type: 'auth', token: app.jwt.sign({ sub: 'bob', fresh: true }) })
  t.match(reply, { type: 'authenticated', user: { id: 'bob', fresh: true } }, 'an auth refresh is verified with the same key pair')
})

t.test('a JWKS-style secret callback, formatUser, trusted and decoratorName apply on upgrade and on refresh', async (t) => {
  const keys = rsa()
  let secretCalls = 0
  const decorated: unknown[] = []
  const { app, url, client } = await buildApp(t, { auth: { jwt: 'fastify' } }, {
    before: async (app) => {
      await app.register(fastifyJwt, {
        // The get-jwks pattern: the key is looked up from the decoded token.
        secret: {
          private: keys.privateKey,
          // @fastify/jwt calls it with (request, decodedToken); its types declare one argument.
          public: (async (_request: unknown, token: { header: { kid?: string } }) => {
            secretCalls++
            if (token.header.kid !== 'k1') throw Object.assign(new Error('unknown kid'), { statusCode: 401 })
            return keys.publicKey
          }) as never
        },
        sign: { algorithm: 'RS256', kid: 'k1' },
        decode: { complete: true },
        decoratorName: 'account',
        formatUser: (payload) => ({ id: (payload as { uid: string }).uid, role: (payload as { r: string }).r }),
        trusted: async (_request, decoded) => (decoded as { jti?: string }).jti !== 'revoked'
      })
      // Route hooks run after the plugin's auth hook: the preHandler sees what jwtVerify set.
      app.addHook('preHandler', async (request) => { if (request.url.startsWith('/ws')) decorated.push(request) })
    }
  })
  const token = app.jwt.sign({ uid: 'cat', r: 'editor' })
  const socket = await client(`?token=${token}`)
  t.match(app.realtime.getClients()[0]?.user, { id: 'cat', role: 'editor' }, 'formatUser shapes the user')
  t.notOk('uid' in (app.realtime.getClients()[0]?.user ?? {}), 'only formatUser\'s fields')
  t.match((decorated[0] as { account?: unknown }).account, { id: 'cat' }, 'decoratorName receives the user')
  t.ok(secretCalls >= 1, 'the secret callback was asked for the key')
  const revoked = await tryUpgrade(`${url}?token=${app.jwt.sign({ uid: 'cat', r: 'editor', jti: 'revoked' })}`)
  t.equal(revoked.status, 401, 'trusted() refuses a revoked token on upgrade')
  const refreshed = await socket.request({ type: 'auth', token: app.jwt.sign({ uid: 'cat', r: 'viewer' }) })
  t.match(refreshed, { type: 'authenticated', user: { id: 'cat', role: 'viewer' } }, 'refresh: formatUser applies')
  const refusedRefresh = await socket.request({ type: 'auth', token: app.jwt.sign({ uid: 'cat', r: 'viewer', jti: 'revoked' }) })
  t.match(refusedRefresh, { type: 'error', code: 'UNAUTHORIZED' }, 'refresh: trusted() refuses a revoked token')
})

t.test('a token that verifies but names no user: 401 saying so, and a warning without the token', async (t) => {
  const lines: string[] = []
  const stream = new Writable({ write (chunk: Buffer, _e, done) { lines.push(chunk.toString()); done() } })
  const db = await createDatabase(t)
  const app = Fastify({ logger: { level: 'warn', stream } })
  await app.register(fastifyJwt, { secret: SECRET })
  await app.register(s3dbRealtime, { database: db, resources: { messages: true }, auth: { jwt: 'fastify', required: true } })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(async () => { await app.close() })
  const url = `ws://127.0.0.1:${(app.server.address() as { port: number }).port}/ws`
  const token = app.jwt.sign({ name: 'nobody', email: 'n@example.com' })
  const refused = await tryUpgrade(`${url}?token=${token}`)
  t.equal(refused.status, 401)
  const body = JSON.parse(refused.body) as { message: string }
  t.match(body.message, /names no user/, 'the reason is given, not "invalid or expired"')
  const warning = lines.find((line) => line.includes('names no user'))
  t.ok(warning, 'logged at warn')
  t.match(warning, /"claimNames":\["name","email","iat"\]/, 'with the claim names')
  t.notOk(lines.some((line) => line.includes(token) || line.includes('n@example.com')), 'neither the token nor claim values are logged')
})

t.test('auth.jwt without @fastify/jwt registered: a coded error at register', async (t) => {
  const db = await createDatabase(t)
  const app = Fastify({ logger: false })
  t.teardown(async () => { await app.close() })
  await t.rejects(async () => {
    await app.register(s3dbRealtime, { database: db, auth: { jwt: 'fastify' } })
    await app.ready()
  }, { code: 'S3DB_REALTIME_INVALID_OPTION', message: /@fastify\/jwt.*not registered/ })
})

t.test('auth.jwt with a namespace uses that registration', async (t) => {
  const { app, url } = await buildApp(t, { auth: { jwt: { namespace: 'users' }, required: true } }, {
    before: async (app) => {
      await app.register(fastifyJwt, { secret: 'admins-secret-admins-secret-1234', namespace: 'admins' })
      await app.register(fastifyJwt, { secret: SECRET, namespace: 'users' })
    }
  })
  const jwt = app.jwt as unknown as Record<string, { sign: (payload: object) => string }>
  t.equal((await tryUpgrade(`${url}?token=${jwt.users?.sign({ sub: 'u1' }) ?? ''}`)).status, 101)
  t.equal((await tryUpgrade(`${url}?token=${jwt.admins?.sign({ sub: 'a1' }) ?? ''}`)).status, 401, 'the other namespace\'s tokens are not accepted')
  const db = await createDatabase(t)
  const missing = Fastify({ logger: false })
  t.teardown(async () => { await missing.close() })
  await missing.register(fastifyJwt, { secret: SECRET, namespace: 'admins' })
  await t.rejects(async () => {
    await missing.register(s3dbRealtime, { database: db, auth: { jwt: { namespace: 'users' } } })
    await missing.ready()
  }, { code: 'S3DB_REALTIME_INVALID_OPTION', message: /namespace "users"/ })
})

t.test('an invalid token is refused even when auth is optional; none is anonymous', async (t) => {
  const { app, url } = await buildApp(t, { auth: { jwt: 'fastify' } }, {
    before: async (app) => { await app.register(fastifyJwt, { secret: SECRET }) }
  })
  const { client, connected } = await connect(url)
  t.teardown(() => { client.close() })
  t.equal(connected.user, null, 'anonymous')
  const expired = app.jwt.sign({ sub: 'ann', exp: Math.floor(Date.now() / 1000) - 60 })
  const refused = await tryUpgrade(`${url}?token=${expired}`)
  t.equal(refused.status, 401)
  t.match(JSON.parse(refused.body), { code: 'UNAUTHORIZED', message: /expired/i })
})
