import t from 'tap'
import { createSecretKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto'
import { createSigner } from 'fast-jwt'
import { buildApp } from '../helpers/app.js'
import { connect } from '../helpers/client.js'
import { SECRET } from '../helpers/jwt.js'
import { tryUpgrade } from '../helpers/upgrade.js'

const jwt = (config: Record<string, unknown>): never => ({ auth: { required: true, drivers: [{ driver: 'jwt', config }] } }) as never

function sign (key: KeyObject | string, algorithm: string, claims: Record<string, unknown>): string {
  const pem = typeof key === 'string' ? key : key.export({ format: 'pem', type: 'pkcs8' }).toString()
  return createSigner({ key: pem, algorithm: algorithm as 'RS256' })(claims)
}

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
const publicPem = rsa.publicKey.export({ format: 'pem', type: 'spki' }).toString()

t.test('an HS* secret that is really key material is refused at register, naming the option', async (t) => {
  const ed = generateKeyPairSync('ed25519')
  const jwk = JSON.stringify(rsa.publicKey.export({ format: 'jwk' }))
  const cases: Record<string, unknown> = {
    'public key PEM': publicPem,
    'PEM behind leading junk': `\u200b  \n${publicPem}`,
    'PKCS#1 RSA PEM': rsa.publicKey.export({ format: 'pem', type: 'pkcs1' }).toString(),
    'JWK JSON': jwk,
    'JWKS JSON': JSON.stringify({ keys: [JSON.parse(jwk)] }),
    'base64 DER public key': rsa.publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
    'base64 of a PEM (env var / Kubernetes secret)': Buffer.from(publicPem).toString('base64'),
    'base64url DER public key': rsa.publicKey.export({ format: 'der', type: 'spki' }).toString('base64url'),
    'hex DER public key': rsa.publicKey.export({ format: 'der', type: 'spki' }).toString('hex'),
    'lowercase PEM': publicPem.toLowerCase(),
    'OpenSSH public key': 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG9vdGhlcndpc2UgaGFybWxlc3MgdGV4dA== me@host',
    'asymmetric KeyObject': ed.publicKey,
    'private KeyObject': rsa.privateKey
  }
  for (const [name, secret] of Object.entries(cases)) {
    await t.rejects(buildApp(t, jwt({ secret })), { code: 'S3DB_REALTIME_INVALID_OPTION', message: /auth\.drivers\[0\]\.config\.secret/ }, name)
  }
})

t.test('an HS256 token forged with the public key never connects', async (t) => {
  // The same public key, now where it belongs: tokens HMAC-ed with its PEM are not RS256.
  const { url } = await buildApp(t, jwt({ publicKey: publicPem }))
  const forged = createSigner({ key: publicPem, algorithm: 'HS256' })({ sub: 'mallory' })
  t.equal((await tryUpgrade(`${url}?token=${forged}`)).status, 401)
  const good = sign(rsa.privateKey, 'RS256', { sub: 'alice' })
  const { client, connected } = await connect(`${url}?token=${good}`)
  t.equal(connected.user.id, 'alice')
  client.close()
})

t.test('real secrets still work: strings and secret KeyObjects', async (t) => {
  const raw = randomBytes(32)
  for (const secret of [SECRET, createSecretKey(raw), raw.toString('hex'), raw.toString('base64'), randomBytes(48).toString('base64url')]) {
    const { url } = await buildApp(t, jwt({ secret }))
    const key = typeof secret === 'string' ? secret : raw
    const token = createSigner({ key, algorithm: 'HS256' })({ sub: 'bob' })
    t.equal((await tryUpgrade(`${url}?token=${token}`)).status, 101, typeof secret)
  }
})

t.test('publicKey: algorithms inferred from the key; other header algorithms refused', async (t) => {
  const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' })
  const ed = generateKeyPairSync('ed25519')
  const cases = [
    { name: 'RSA PEM', publicKey: publicPem, privateKey: rsa.privateKey, alg: 'RS256', others: ['RS512', 'PS256'] },
    { name: 'EC P-384 KeyObject', publicKey: p384.publicKey, privateKey: p384.privateKey, alg: 'ES384', others: [] },
    { name: 'Ed25519 KeyObject', publicKey: ed.publicKey, privateKey: ed.privateKey, alg: 'EdDSA', others: [] }
  ]
  for (const c of cases) {
    const { url } = await buildApp(t, jwt({ publicKey: c.publicKey, issuer: 'me' }))
    t.equal((await tryUpgrade(`${url}?token=${sign(c.privateKey, c.alg, { sub: 'u', iss: 'me' })}`)).status, 101, `${c.name}: ${c.alg}`)
    t.equal((await tryUpgrade(`${url}?token=${sign(c.privateKey, c.alg, { sub: 'u', iss: 'other' })}`)).status, 401, `${c.name}: issuer checked`)
    for (const other of c.others) {
      // Validly signed by the right key, but with an algorithm the driver was not given.
      t.equal((await tryUpgrade(`${url}?token=${sign(c.privateKey, other, { sub: 'u', iss: 'me' })}`)).status, 401, `${c.name}: ${other} not allowed`)
    }
  }
  const { url } = await buildApp(t, jwt({ publicKey: rsa.publicKey, algorithms: ['PS256'] }))
  t.equal((await tryUpgrade(`${url}?token=${sign(rsa.privateKey, 'PS256', { sub: 'u' })}`)).status, 101, 'explicit PS256')
  t.equal((await tryUpgrade(`${url}?token=${sign(rsa.privateKey, 'RS256', { sub: 'u' })}`)).status, 401, 'RS256 not in the explicit list')
})

t.test('publicKey options are validated', async (t) => {
  const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' })
  // Each with the reason it names: a refusal must say what to fix.
  const cases: Record<string, [Record<string, unknown>, RegExp]> = {
    'secret and publicKey together': [{ secret: SECRET, publicKey: publicPem }, /exactly one of .*got secret and publicKey/],
    'publicKey and jwksUri together': [{ publicKey: publicPem, jwksUri: 'http://127.0.0.1:1/jwks.json', issuer: 'i', audience: 'a' }, /got publicKey and jwksUri/],
    'a private key PEM': [{ publicKey: rsa.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString() }, /publicKey is a private key/],
    'a private KeyObject': [{ publicKey: rsa.privateKey }, /publicKey is a private key/],
    'a secret KeyObject': [{ publicKey: createSecretKey(randomBytes(32)) }, /publicKey is a secret key/],
    'not PEM': [{ publicKey: 'hello' }, /publicKey must be a PEM public key/],
    'an unreadable PEM': [{ publicKey: '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----' }, /publicKey is not a readable PEM/],
    'an unsupported curve': [{ publicKey: k1.publicKey }, /publicKey: ec keys are not supported/],
    'ES256 for an RSA key': [{ publicKey: publicPem, algorithms: ['ES256'] }, /"ES256" cannot be verified with this rsa key/],
    'ES384 for a P-256 key': [{ publicKey: p256.publicKey, algorithms: ['ES384'] }, /"ES384" cannot be verified with this ec key \(it supports ES256\)/],
    'HS256 with a public key': [{ publicKey: publicPem, algorithms: ['HS256'] }, /algorithms: algorithm "HS256" is not allowed here/],
    'none': [{ publicKey: publicPem, algorithms: ['none'] }, /algorithm "none" is not allowed here/],
    'no algorithm': [{ publicKey: publicPem, algorithms: [] }, /algorithms must list at least one/]
  }
  for (const [name, [config, message]] of Object.entries(cases)) {
    await t.rejects(buildApp(t, jwt(config)), { code: 'S3DB_REALTIME_INVALID_OPTION', message }, name)
  }
})
