import t from 'tap'
import { buildApp } from '../helpers/app.js'
import { connect } from '../helpers/client.js'
import { hsToken, SECRET } from '../helpers/jwt.js'
import { tryUpgrade } from '../helpers/upgrade.js'
import { until } from '../helpers/wait.js'

// Issue #13, section 5: in-band authentication, the browser path that keeps tokens out of URLs.

const drivers = [{ driver: 'jwt' as const, config: { secret: SECRET } }]

t.test('required + inBand: a socket without credentials may only authenticate (or ping) until it does', async (t) => {
  const { url } = await buildApp(t, { auth: { required: true, inBand: true, drivers } })
  const { client, connected } = await connect(url)
  t.teardown(() => { client.close() })
  t.equal(connected.user, null)
  t.match(await client.request({ type: 'subscribe', resource: 'messages' }), { type: 'error', code: 'UNAUTHORIZED', message: /send \{type:"auth"/ }, 'subscribe is refused')
  t.match(await client.request({ type: 'list', resource: 'messages' }), { type: 'error', code: 'UNAUTHORIZED' }, 'so is list')
  t.match(await client.request({ type: 'ping' }), { type: 'pong' }, 'ping is answered')
  t.match(await client.request({ type: 'auth', token: hsToken({ sub: 'ann' }, { secret: 'wrong-secret-wrong-secret-123456' }) }), { type: 'error', code: 'UNAUTHORIZED' }, 'a bad token is a protocol error')
  t.match(await client.request({ type: 'auth', token: hsToken({ sub: 'ann' }) }), { type: 'authenticated', user: { id: 'ann' } })
  t.match(await client.request({ type: 'subscribe', resource: 'messages' }), { type: 'subscribed' }, 'then everything works')
})

t.test('required + inBand: no valid auth within handshakeTimeout closes the socket with 1008', async (t) => {
  const { url, app } = await buildApp(t, { auth: { required: true, inBand: true, handshakeTimeout: 150, drivers } })
  const { client } = await connect(url)
  const { code, reason } = await client.closed
  t.equal(code, 1008)
  t.match(reason, /Authentication required/)
  await until(() => app.realtime.getClients().length === 0, 'the server to drop the connection')
  const { client: good } = await connect(url)
  t.teardown(() => { good.close() })
  t.match(await good.request({ type: 'auth', token: hsToken({ sub: 'bob' }) }), { type: 'authenticated' })
  // Past the deadline (150 ms) by a wide margin: the timer must have been cleared, not fired.
  await new Promise((resolve) => setTimeout(resolve, 300))
  t.equal(good.closeCode, null, 'an authenticated socket outlives the deadline')
  t.match(await good.request({ type: 'ping' }), { type: 'pong' })
})

t.test('without inBand, required still refuses the upgrade with 401 (unchanged default)', async (t) => {
  const { url } = await buildApp(t, { auth: { required: true, drivers } })
  const refused = await tryUpgrade(url)
  t.equal(refused.status, 401)
  const invalid = await tryUpgrade(`${url}?token=nope`)
  t.equal(invalid.status, 401, 'with inBand too, a token in the URL must be valid')
  const { url: inBandUrl } = await buildApp(t, { auth: { required: true, inBand: true, drivers } })
  t.equal((await tryUpgrade(`${inBandUrl}?token=nope`)).status, 401, 'inBand does not weaken URL credentials')
})

t.test('in-band with a one-time ticket', async (t) => {
  const { url, app } = await buildApp(t, { auth: { required: true, inBand: true, drivers } })
  const { ticket } = app.realtime.issueTicket({ id: 'cat', role: 'admin' })
  const { client } = await connect(url)
  t.teardown(() => { client.close() })
  t.match(await client.request({ type: 'auth', ticket }), { type: 'authenticated', user: { id: 'cat' } })
  const { client: again } = await connect(url)
  t.teardown(() => { again.close() })
  t.match(await again.request({ type: 'auth', ticket }), { type: 'error', code: 'UNAUTHORIZED', message: /used or expired ticket/ }, 'once only')
})

t.test('auth.authenticate: the app decides on upgrade; auth messages with a token are refused saying why', async (t) => {
  const { url } = await buildApp(t, {
    auth: {
      required: true,
      authenticate: async (request) => request.headers['x-session'] === 'valid' ? { id: 'dan' } : null
    }
  })
  t.equal((await tryUpgrade(url)).status, 401, 'no session: 401')
  const { client, connected } = await connect(url, { headers: { 'x-session': 'valid' } })
  t.teardown(() => { client.close() })
  t.match(connected, { user: { id: 'dan' } })
  t.match(await client.request({ type: 'auth', token: hsToken({ sub: 'dan' }) }), { type: 'error', code: 'UNAUTHORIZED', message: /authenticates on upgrade only/ })
})

t.test('auth.authenticate returning an object without id: 401 that says so', async (t) => {
  const { url } = await buildApp(t, { auth: { authenticate: async () => ({ name: 'ghost' }) as never } })
  const refused = await tryUpgrade(url)
  t.equal(refused.status, 401)
  t.match(JSON.parse(refused.body), { message: /names no user/ })
})

t.test('a driver token without sub/id gets "names no user" on upgrade and in-band', async (t) => {
  const { url } = await buildApp(t, { auth: { drivers } })
  const token = hsToken({ name: 'nobody' })
  t.match(JSON.parse((await tryUpgrade(`${url}?token=${token}`)).body), { message: /names no user/ })
  const { client } = await connect(url)
  t.teardown(() => { client.close() })
  t.match(await client.request({ type: 'auth', token }), { type: 'error', code: 'UNAUTHORIZED', message: /names no user/ })
})

t.test('auth options are validated', async (t) => {
  await t.rejects(buildApp(t, { auth: { jwt: 'fastify', drivers } }), { code: 'S3DB_REALTIME_INVALID_OPTION', message: /auth.jwt and auth.drivers/ })
  await t.rejects(buildApp(t, { auth: { handshakeTimeout: 5 } }), { code: 'S3DB_REALTIME_INVALID_OPTION', message: /only applies with auth.inBand/ })
  await t.rejects(buildApp(t, { auth: { inBand: 'yes' as never } }), { code: 'S3DB_REALTIME_INVALID_OPTION' })
  await t.rejects(buildApp(t, { auth: { authenticate: 'x' as never } }), { code: 'S3DB_REALTIME_INVALID_OPTION' })
})
