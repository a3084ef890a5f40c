import { createServer } from 'node:net'
import t from 'tap'
import { createClient, type RealtimeError } from '../../src/client/index.js'
import { buildApp } from '../helpers/app.js'
import { hsToken, SECRET } from '../helpers/jwt.js'

// Issue #13, section 5: the client says why it could not connect, stops retrying on auth
// errors, and connect() settles.

const drivers = [{ driver: 'jwt' as const, config: { secret: SECRET } }]

/** A port nothing listens on (bound, then released). */
async function deadPort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  await new Promise<void>((resolve) => server.close(() => { resolve() }))
  return port
}

t.test('regression: connect() against a server that is down rejects after connectTimeout', async (t) => {
  const port = await deadPort()
  const client = createClient({ url: `ws://127.0.0.1:${port}/ws`, connectTimeout: 300, reconnect: { initialDelay: 20, maxDelay: 50 } })
  t.teardown(() => { client.close() })
  const error = await client.connect().then(() => null, (e: RealtimeError) => e)
  t.match(error, { code: 'CONNECT_FAILED', message: /within 300 ms/ })
  t.match(error?.message, /ECONNREFUSED|closed|1006/, 'with the last failure')
  await t.rejects(client.connect({ timeoutMs: 100 }), { code: 'CONNECT_FAILED', message: /within 100 ms/ }, 'a per-call timeout')
})

t.test('regression: a refused token (401 on upgrade) ends with UNAUTHORIZED, no endless retries', async (t) => {
  const { url } = await buildApp(t, { auth: { required: true, drivers } })
  const client = createClient({ url, token: 'bad-token', reconnect: { initialDelay: 10, maxDelay: 20 } })
  t.teardown(() => { client.close() })
  let reconnects = 0
  const errors: RealtimeError[] = []
  client.on('reconnecting', () => { reconnects++ })
  client.on('error', (error) => { errors.push(error) })
  await t.rejects(client.connect(), { code: 'UNAUTHORIZED', message: /HTTP 401/ })
  t.equal(client.state, 'closed')
  t.equal(reconnects, 0, 'not retried')
  t.match(errors, [{ code: 'UNAUTHORIZED' }], 'reported on error too')
  await t.rejects(client.insert('messages', { content: 'x' }), { code: 'UNAUTHORIZED' }, 'requests say why')
})

t.test('inBandAuth: the token goes in the first message, never in the URL', async (t) => {
  const urls: string[] = []
  const { url, app } = await buildApp(t, { auth: { required: true, inBand: true, drivers } }, {
    before: (app) => { app.addHook('onRequest', async (request) => { urls.push(request.url) }) }
  })
  const token = hsToken({ sub: 'ann' })
  const client = createClient({ url, token: () => token, inBandAuth: true })
  t.teardown(() => { client.close() })
  await client.connect()
  t.match(client.user, { id: 'ann' }, 'authenticated in-band')
  t.equal(app.realtime.getClients()[0]?.user?.id, 'ann')
  t.notOk(urls.some((u) => u.includes(token) || u.includes('token=')), 'no token in any request URL')
  const inserted = await client.insert('messages', { content: 'hi', channel: 'general' })
  t.match(inserted, { content: 'hi' }, 'requests work once authenticated')
})

t.test('inBandAuth: a refused token ends with UNAUTHORIZED from the server, no retries', async (t) => {
  const { url } = await buildApp(t, { auth: { required: true, inBand: true, drivers } })
  const client = createClient({ url, token: hsToken({ sub: 'ann' }, { secret: 'not-the-secret-not-the-secret-12' }), inBandAuth: true, reconnect: { initialDelay: 10 } })
  t.teardown(() => { client.close() })
  let reconnects = 0
  client.on('reconnecting', () => { reconnects++ })
  await t.rejects(client.connect(), { code: 'UNAUTHORIZED', message: /Invalid or expired token/ })
  t.equal(client.state, 'closed')
  t.equal(reconnects, 0)
})

t.test('a 1008 auth close (handshake timeout) stops the client with UNAUTHORIZED', async (t) => {
  const { url } = await buildApp(t, { auth: { required: true, inBand: true, handshakeTimeout: 100, drivers } })
  // No token: connects anonymously and never authenticates.
  const client = createClient({ url, reconnect: { initialDelay: 10 } })
  t.teardown(() => { client.close() })
  let reconnects = 0
  client.on('reconnecting', () => { reconnects++ })
  const closed = new Promise<{ code: number | null }>((resolve) => { client.on('closed', resolve) })
  const errors: RealtimeError[] = []
  client.on('error', (error) => { errors.push(error) })
  await client.connect()
  t.match(await closed, { code: 1008 })
  t.equal(reconnects, 0)
  t.match(errors, [{ code: 'UNAUTHORIZED', message: /Authentication required/ }])
})

t.test('a token provider that hands back the refused token is not retried again', async (t) => {
  const { url } = await buildApp(t, { auth: { required: true, drivers } })
  const bad = hsToken({ sub: 'ann' }, { secret: 'not-the-secret-not-the-secret-12' })
  let calls = 0
  const client = createClient({ url, token: () => { calls++; return bad }, reconnect: { initialDelay: 5, maxDelay: 10 } })
  t.teardown(() => { client.close() })
  const errors: RealtimeError[] = []
  client.on('error', (error) => { errors.push(error) })
  await t.rejects(client.connect(), { code: 'UNAUTHORIZED' })
  t.equal(client.state, 'closed')
  t.equal(calls, 2, 'asked once more for a fresh token, then stopped')
  t.ok(errors.length >= 1 && errors.every((e) => e.code === 'UNAUTHORIZED'), 'each refusal is reported')
})
