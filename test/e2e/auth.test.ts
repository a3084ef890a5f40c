import t from 'tap'
import { buildApp } from '../helpers/app.js'
import { connect } from '../helpers/client.js'
import { hsToken, noneToken, SECRET } from '../helpers/jwt.js'
import { tryUpgrade } from '../helpers/upgrade.js'

const jwtAuth = (required: boolean) => ({ auth: { required, drivers: [{ driver: 'jwt' as const, config: { secret: SECRET } }] } })

t.test('HS256 token via ?token= and Authorization: Bearer; user = claims, id falls back to sub', async (t) => {
  const { url } = await buildApp(t, jwtAuth(true))
  const token = hsToken({ sub: 'u1', role: 'admin', tenantId: 't1' }, { expiresIn: 60_000 })
  const viaQuery = await connect(`${url}?token=${token}`)
  t.equal(viaQuery.connected.user.id, 'u1')
  t.equal(viaQuery.connected.user.sub, 'u1')
  t.equal(viaQuery.connected.user.role, 'admin')
  t.equal(viaQuery.connected.user.tenantId, 't1')
  viaQuery.client.close()
  const viaHeader = await connect(url, { headers: { authorization: `Bearer ${hsToken({ id: 'explicit', sub: 'other' })}` } })
  t.equal(viaHeader.connected.user.id, 'explicit', 'an id claim wins over sub')
  viaHeader.client.close()
})

t.test('required: missing or invalid tokens get 401 before the handshake', async (t) => {
  const { url, app } = await buildApp(t, jwtAuth(true))
  let connects = 0
  app.realtime.on('client.connected', () => { connects++ })
  const cases: Record<string, string> = {
    missing: '',
    garbage: '?token=not-a-jwt',
    'bad signature': `?token=${hsToken({ sub: 'u1' }, { secret: 'another-secret-another-secret!!' })}`,
    expired: `?token=${hsToken({ sub: 'u1', exp: Math.floor(Date.now() / 1000) - 60 })}`,
    'not yet valid': `?token=${hsToken({ sub: 'u1', nbf: Math.floor(Date.now() / 1000) + 600 })}`,
    'alg none': `?token=${noneToken({ sub: 'u1' })}`,
    'no sub or id': `?token=${hsToken({ role: 'admin' })}`,
    'repeated token': `?token=${hsToken({ sub: 'u1' })}&token=${hsToken({ sub: 'u2' })}`
  }
  for (const [name, query] of Object.entries(cases)) {
    const res = await tryUpgrade(url + query)
    t.equal(res.status, 401, `${name}: 401`)
    t.match(JSON.parse(res.body), { code: 'UNAUTHORIZED' }, `${name}: coded body`)
  }
  const badHeader = await tryUpgrade(url, { authorization: 'Basic abc' })
  t.equal(badHeader.status, 401, 'a non-Bearer Authorization header is refused')
  const ok = await tryUpgrade(`${url}?token=${hsToken({ sub: 'u1' })}`)
  t.equal(ok.status, 101, 'a valid token upgrades')
  t.equal(connects, 1, 'no refused attempt ever reached the hub')
})

t.test('issuer and audience are enforced when configured on the HS256 driver', async (t) => {
  const { url } = await buildApp(t, { auth: { required: true, drivers: [{ driver: 'jwt', config: { secret: SECRET, issuer: 'https://me', audience: 'app' } }] } })
  t.equal((await tryUpgrade(`${url}?token=${hsToken({ sub: 'u', iss: 'https://me', aud: 'app' })}`)).status, 101)
  t.equal((await tryUpgrade(`${url}?token=${hsToken({ sub: 'u', iss: 'https://evil', aud: 'app' })}`)).status, 401, 'wrong issuer')
  t.equal((await tryUpgrade(`${url}?token=${hsToken({ sub: 'u', iss: 'https://me', aud: 'other' })}`)).status, 401, 'wrong audience')
  t.equal((await tryUpgrade(`${url}?token=${hsToken({ sub: 'u', iss: 'https://me' })}`)).status, 401, 'missing audience')
  t.equal((await tryUpgrade(`${url}?token=${hsToken({ sub: 'u', aud: 'app' })}`)).status, 401, 'missing issuer')
})

t.test('optional auth: anonymous connects with user null; a presented bad token is still refused', async (t) => {
  const { url } = await buildApp(t, jwtAuth(false))
  const anonymous = await connect(url)
  t.equal(anonymous.connected.user, null)
  anonymous.client.close()
  t.equal((await tryUpgrade(`${url}?token=bogus`)).status, 401)
})

t.test('apiKey driver: keys map to users; unknown keys refused; drivers tried in order', async (t) => {
  const { url } = await buildApp(t, {
    auth: {
      required: true,
      drivers: [
        { driver: 'jwt', config: { secret: SECRET } },
        { driver: 'apiKey', config: { keys: { sk_live_abc123: { id: 'service1', role: 'service', scopes: ['read'] } } } }
      ]
    }
  })
  const viaKey = await connect(`${url}?token=sk_live_abc123`)
  t.same(viaKey.connected.user, { id: 'service1', role: 'service', scopes: ['read'] })
  viaKey.client.close()
  const viaJwt = await connect(`${url}?token=${hsToken({ sub: 'jwt-user' })}`)
  t.equal(viaJwt.connected.user.id, 'jwt-user', 'the jwt driver (first) accepts its token')
  viaJwt.client.close()
  t.equal((await tryUpgrade(`${url}?token=sk_live_abc124`)).status, 401, 'a near-miss key is refused')
  t.equal((await tryUpgrade(url, { authorization: 'Bearer sk_live_abc123' })).status, 101, 'keys work as Bearer too')
})

t.test('invalid auth options throw a coded error at register', async (t) => {
  const bad: unknown[] = [
    { required: 'yes' },
    { drivers: {} },
    { drivers: [{ driver: 'magic', config: {} }] },
    { drivers: [{ driver: 'jwt', config: {} }] },
    { drivers: [{ driver: 'jwt', config: { secret: SECRET, jwksUri: 'http://x/jwks' } }] },
    { drivers: [{ driver: 'jwt', config: { jwksUri: 'http://x/jwks' } }] },
    { drivers: [{ driver: 'jwt', config: { jwksUri: 'ftp://x/jwks', issuer: 'i', audience: 'a' } }] },
    { drivers: [{ driver: 'jwt', config: { secret: SECRET, algorithms: ['none'] } }] },
    { drivers: [{ driver: 'jwt', config: { secret: SECRET, algorithms: ['RS256'] } }] },
    { drivers: [{ driver: 'oidc', config: { issuer: 'http://idp' } }] },
    { drivers: [{ driver: 'apiKey', config: { keys: {} } }] },
    { drivers: [{ driver: 'apiKey', config: { keys: { k: { role: 'x' } } } }] },
    { drivers: [{ driver: 'jwt', config: { secret: SECRET, extra: 1 } }] }
  ]
  for (const auth of bad) {
    await t.rejects(buildApp(t, { auth } as never), { code: 'S3DB_REALTIME_INVALID_OPTION' }, JSON.stringify(auth))
  }
})

t.test('WebSocketPlugin (the seed API) takes the same auth, cors and rateLimit options', async (t) => {
  const { WebSocketPlugin } = await import('../../src/index.js')
  const { createDatabase } = await import('../helpers/db.js')
  const db = await createDatabase(t)
  const plugin = new WebSocketPlugin({
    port: 0,
    host: '127.0.0.1',
    startupBanner: false,
    logLevel: 'silent',
    auth: { required: true, drivers: [{ driver: 'jwt', config: { secret: SECRET } }] },
    cors: { origin: 'https://app.example' },
    rateLimit: { enabled: true, maxRequests: 2 },
    resources: { messages: true }
  })
  await db.usePlugin(plugin as never)
  t.teardown(async () => { await plugin.stop() })
  const url = `ws://127.0.0.1:${String(plugin.getServerInfo().port)}`
  t.equal((await tryUpgrade(url)).status, 401, 'auth required on ws://host:port')
  t.equal((await tryUpgrade(`${url}?token=${hsToken({ sub: 'u' })}`, { origin: 'https://evil.example' })).status, 403)
  const { client, connected } = await connect(`${url}?token=${hsToken({ sub: 'u' })}`)
  t.equal(connected.user.id, 'u')
  await client.request({ type: 'ping' })
  await client.request({ type: 'ping' })
  t.match(await client.request({ type: 'ping' }), { code: 'RATE_LIMIT_EXCEEDED' })
  client.close()
})
