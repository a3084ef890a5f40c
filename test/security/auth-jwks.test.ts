import t, { type Test } from 'tap'
import { createServer } from 'node:http'
import { randomUUID } from 'node:crypto'
import Fastify from 'fastify'
import { createSigner } from 'fast-jwt'
import { buildApp } from '../helpers/app.js'
import { keyPair, noneToken, signWith, type KeyPair } from '../helpers/jwt.js'
import { tryUpgrade } from '../helpers/upgrade.js'
import { JwksSource } from '../../src/upgrade/drivers/jwks.js'

/** A local IdP on 127.0.0.1 whose key set and health the test changes; it counts every request. */
async function idp (t: Test, keys: KeyPair[]): Promise<{ issuer: string, jwksUri: string, requests: { jwks: number, discovery: number }, status: { code: number } }> {
  const requests = { jwks: 0, discovery: 0 }
  const status = { code: 200 }
  let issuer = ''
  const server = createServer((req, res) => {
    if (req.url === '/.well-known/openid-configuration') {
      requests.discovery++
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks.json` }))
      return
    }
    requests.jwks++
    res.statusCode = status.code
    res.setHeader('content-type', 'application/json')
    res.end(status.code === 200 ? JSON.stringify({ keys: keys.map((k) => k.jwk) }) : '{"error":"down"}')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => { await new Promise((resolve) => server.close(resolve)) })
  issuer = `http://127.0.0.1:${(server.address() as { port: number }).port}`
  return { issuer, jwksUri: `${issuer}/jwks.json`, requests, status }
}

const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url')
/** A token with any header, its signature garbage: only the header matters before a fetch. */
const withHeader = (header: Record<string, unknown>, claims: Record<string, unknown>): string => `${b64(header)}.${b64(claims)}.c2lnbmF0dXJl`

async function jwksApp (t: Test, driver: 'jwt' | 'oidc', server: { issuer: string, jwksUri: string }): Promise<string> {
  const config = driver === 'jwt'
    ? { jwksUri: server.jwksUri, issuer: server.issuer, audience: 'realtime' }
    : { issuer: server.issuer, clientId: 'realtime' }
  const { url } = await buildApp(t, { auth: { required: true, drivers: [{ driver, config }] } } as never)
  return url
}

for (const driver of ['jwt', 'oidc'] as const) {
  t.test(`${driver}: headers with a disallowed alg or no kid are refused before any fetch`, async (t) => {
    const rsa = keyPair('RS256')
    const server = await idp(t, [rsa])
    const url = await jwksApp(t, driver, server)
    const claims = { sub: 'mallory', iss: server.issuer, aud: 'realtime' }
    const forged = {
      'HS256 with a published kid': createSigner({ key: 'anything-at-all-anything-at-all!', algorithm: 'HS256', kid: rsa.kid })(claims),
      'HS512 with a random kid': withHeader({ alg: 'HS512', kid: randomUUID() }, claims),
      'alg none': noneToken(claims),
      'alg none with a kid': withHeader({ alg: 'none', kid: rsa.kid }, claims).replace(/\.[^.]+$/, '.'),
      'unknown alg': withHeader({ alg: 'XX256', kid: rsa.kid }, claims),
      'RS256 without a kid': withHeader({ alg: 'RS256' }, claims),
      'kid that is not a string': withHeader({ alg: 'RS256', kid: 42 }, claims),
      'header that is not JSON': `${Buffer.from('nope').toString('base64url')}.${b64(claims)}.c2ln`
    }
    for (const [name, token] of Object.entries(forged)) {
      for (let i = 0; i < 3; i++) t.equal((await tryUpgrade(`${url}?token=${token}`)).status, 401, name)
    }
    t.same(server.requests, { jwks: 0, discovery: 0 }, 'the IdP was never asked')
  })

  t.test(`${driver}: unknown kids and concurrent lookups are bounded to one fetch`, async (t) => {
    const rsa = keyPair('RS256')
    const ec = keyPair('ES256')
    const server = await idp(t, [rsa, ec])
    const url = await jwksApp(t, driver, server)
    const claims = { sub: 'alice', iss: server.issuer, aud: 'realtime' }
    // Cold cache, many lookups at once: two published kids and several unknown ones share one fetch.
    const stranger = keyPair('RS256')
    const tokens = [
      signWith(rsa, claims), signWith(ec, claims), signWith(rsa, claims), signWith(ec, claims),
      ...Array.from({ length: 6 }, () => signWith(stranger, claims, { kid: randomUUID() }))
    ]
    const statuses = await Promise.all(tokens.map(async (token) => (await tryUpgrade(`${url}?token=${token}`)).status))
    t.same(statuses, [101, 101, 101, 101, 401, 401, 401, 401, 401, 401])
    t.equal(server.requests.jwks, 1, 'one JWKS fetch for all of them')

    // A stream of forged tokens, each naming a new kid: no more fetches.
    for (let i = 0; i < 25; i++) {
      t.equal((await tryUpgrade(`${url}?token=${signWith(stranger, claims, { kid: randomUUID() })}`)).status, 401)
    }
    t.equal(server.requests.jwks, 1, 'random kids do not reach the IdP')
    t.equal((await tryUpgrade(`${url}?token=${signWith(rsa, claims)}`)).status, 101, 'known keys still verify')
  })
}

t.test('a failing IdP is asked once, not once per token', async (t) => {
  const rsa = keyPair('RS256')
  const server = await idp(t, [rsa])
  server.status.code = 500
  const url = await jwksApp(t, 'jwt', server)
  const claims = { sub: 'alice', iss: server.issuer, aud: 'realtime' }
  for (let i = 0; i < 10; i++) t.equal((await tryUpgrade(`${url}?token=${signWith(rsa, claims, { kid: randomUUID() })}`)).status, 401)
  t.equal((await tryUpgrade(`${url}?token=${signWith(rsa, claims)}`)).status, 401, 'the real kid cannot be checked either')
  t.equal(server.requests.jwks, 1, 'one failed fetch, then the refetch interval holds')
})

t.test('JwksSource over time: refetch interval, miss lifetime, rotation, stale keys', async (t) => {
  const rsa = keyPair('RS256')
  const keys = [rsa]
  const server = await idp(t, keys)
  let now = 1_000_000
  const source = new JwksSource<string>({
    jwksUri: server.jwksUri,
    algorithms: ['RS256', 'ES256'],
    build: (_pem, algorithms) => algorithms.join(','),
    log: Fastify().log,
    now: () => now
  })
  // The JWK says alg RS256, so that is all the key is used with.
  t.equal(await source.keyFor(rsa.kid, 'RS256'), 'RS256')
  t.equal(await source.keyFor(rsa.kid, 'ES256'), null, 'an RSA key is not an ES256 key')
  t.equal(await source.keyFor('gone', 'RS256'), null)
  t.equal(server.requests.jwks, 1, 'within the refetch interval nothing is fetched')

  now += 31_000
  t.equal(await source.keyFor('other', 'RS256'), null)
  t.equal(server.requests.jwks, 2, 'a new unknown kid after the interval: one refetch')
  now += 31_000 // 62 s after "gone" was missed: its miss has expired, but "other" was just fetched
  t.equal(await source.keyFor('other', 'RS256'), null)
  t.equal(server.requests.jwks, 2, 'a kid missed less than a minute ago is not looked up again')

  // Rotation: the IdP publishes a new key; it is found at the next allowed refetch.
  const ec = keyPair('ES256')
  keys.push(ec)
  t.equal(await source.keyFor(ec.kid, 'ES256'), 'ES256', 'the new kid triggers the refetch (interval passed)')
  t.equal(server.requests.jwks, 3)

  // The IdP goes down: the last key set stays in use once stale, refetches stay bounded.
  server.status.code = 503
  now += 11 * 60_000
  t.equal(await source.keyFor(rsa.kid, 'RS256'), 'RS256', 'stale key used while the refresh fails')
  t.equal(await source.keyFor(rsa.kid, 'RS256'), 'RS256')
  t.equal(server.requests.jwks, 4, 'one failed refresh')
  t.equal(source.fetches, 4)
})
