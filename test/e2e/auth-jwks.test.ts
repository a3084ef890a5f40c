import t from 'tap'
import { createSigner } from 'fast-jwt'
import { buildApp } from '../helpers/app.js'
import { connect } from '../helpers/client.js'
import { keyPair, signWith, startIdp } from '../helpers/jwt.js'
import { tryUpgrade } from '../helpers/upgrade.js'

t.test('jwt driver with jwksUri: RS256 and ES256 verified with fetched, cached keys', async (t) => {
  const rsa = keyPair('RS256')
  const ec = keyPair('ES256')
  const idp = await startIdp(t, [rsa, ec])
  const { url } = await buildApp(t, {
    auth: { required: true, drivers: [{ driver: 'jwt', config: { jwksUri: idp.jwksUri, issuer: idp.issuer, audience: 'realtime' } }] }
  })
  const good = { sub: 'alice', iss: idp.issuer, aud: 'realtime' }
  const viaRsa = await connect(`${url}?token=${signWith(rsa, good, { expiresIn: 60_000 })}`)
  t.equal(viaRsa.connected.user.id, 'alice')
  viaRsa.client.close()
  const viaEc = await connect(url, { headers: { authorization: `Bearer ${signWith(ec, { ...good, sub: 'bob' })}` } })
  t.equal(viaEc.connected.user.id, 'bob')
  viaEc.client.close()
  for (let i = 0; i < 3; i++) t.equal((await tryUpgrade(`${url}?token=${signWith(rsa, good)}`)).status, 101)
  t.equal(idp.requests.jwks, 1, 'one JWKS fetch serves every key, then the cache does')

  const refused: Record<string, string> = {
    'wrong issuer': signWith(rsa, { ...good, iss: 'http://evil.example' }),
    'wrong audience': signWith(rsa, { ...good, aud: 'another-api' }),
    'no audience': signWith(rsa, { sub: 'alice', iss: idp.issuer }),
    expired: signWith(rsa, { ...good, exp: Math.floor(Date.now() / 1000) - 30 }),
    'unknown kid': signWith(rsa, good, { kid: 'nope' }),
    'signed by a key the IdP does not publish': signWith({ ...keyPair('RS256'), kid: rsa.kid }, good)
  }
  for (const [name, token] of Object.entries(refused)) {
    t.equal((await tryUpgrade(`${url}?token=${token}`)).status, 401, name)
  }
  // Algorithm confusion: an HS256 token keyed with the public key's PEM must not pass.
  const publicPem = (await import('node:crypto')).createPublicKey(rsa.privateKey).export({ format: 'pem', type: 'spki' }).toString()
  const confused = createSigner({ key: publicPem, algorithm: 'HS256', kid: rsa.kid })(good)
  t.equal((await tryUpgrade(`${url}?token=${confused}`)).status, 401, 'HS256 with the public key as secret')
})

t.test('oidc driver discovers jwks_uri from the issuer and checks clientId as audience', async (t) => {
  const rsa = keyPair('RS256')
  const idp = await startIdp(t, [rsa])
  const { url } = await buildApp(t, {
    auth: { required: true, drivers: [{ driver: 'oidc', config: { issuer: idp.issuer, clientId: 'my-client-id' } }] }
  })
  const { client, connected } = await connect(`${url}?token=${signWith(rsa, { sub: 'carol', iss: idp.issuer, aud: 'my-client-id', email: 'c@x' })}`)
  t.equal(connected.user.id, 'carol')
  t.equal(connected.user.email, 'c@x')
  client.close()
  t.ok(idp.requests.discovery >= 1, 'the discovery document was read')
  t.equal(idp.requests.jwks, 1, 'keys fetched from the discovered jwks_uri')
  t.equal((await tryUpgrade(`${url}?token=${signWith(rsa, { sub: 'carol', iss: idp.issuer, aud: 'someone-else' })}`)).status, 401, 'other audience')
  t.equal((await tryUpgrade(`${url}?token=${signWith(rsa, { sub: 'carol', iss: 'http://127.0.0.1:1', aud: 'my-client-id' })}`)).status, 401, 'other issuer')
})
