import t, { type Test } from 'tap'
import { Writable } from 'node:stream'
import Fastify, { type FastifyInstance } from 'fastify'
import s3dbRealtime from '../../src/index.js'
import { redactUrl, scrubLogLine } from '../../src/upgrade/redact.js'
import { createDatabase } from '../helpers/db.js'
import { hsToken, SECRET } from '../helpers/jwt.js'
import { tryUpgrade } from '../helpers/upgrade.js'

interface Captured { app: FastifyInstance, base: string, lines: string[] }

/** An app logging at info to a captured stream (a pino destination), the plugin registered after a route of the app's own. */
async function loggedApp (t: Test, fastifyOptions: Record<string, unknown> = {}): Promise<Captured> {
  const lines: string[] = []
  const stream = new Writable({ write (chunk: Buffer, _enc, done) { lines.push(chunk.toString()); done() } })
  const app = Fastify({ logger: { level: 'info', stream, ...fastifyOptions } })
  app.get('/hello', async () => ({ ok: true })) // registered before the plugin
  await app.register(s3dbRealtime, { database: await createDatabase(t), resources: { messages: true }, auth: { drivers: [{ driver: 'jwt', config: { secret: SECRET } }] } })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(async () => { await app.close() })
  return { app, base: `127.0.0.1:${(app.server.address() as { port: number }).port}`, lines }
}

t.test('credentials never reach the app\'s logs: encoded names, near-miss paths, neighbouring routes', async (t) => {
  const { app, base, lines } = await loggedApp(t)
  const secrets: string[] = []
  const token = (): string => {
    const value = hsToken({ sub: `u${secrets.length}` })
    secrets.push(value)
    return value
  }
  // Percent-encoded names authenticate (the query parser decodes them) and must be redacted too.
  t.equal((await tryUpgrade(`ws://${base}/ws?%74oken=${token()}`)).status, 101, '%74oken authenticates')
  t.equal((await tryUpgrade(`ws://${base}/ws?a=1&to%6Ben=${token()}`)).status, 101, 'to%6Ben authenticates')
  t.equal((await tryUpgrade(`ws://${base}/ws?x=1&%2574oken=${token()}`)).status, 101, 'double encoded: not a credential, still redacted')
  // Near misses and neighbours: 404s log the URL both as req.url and inside the message.
  for (const path of ['/ws/', '/ws/ticket', '/wss', '/nope', '/hello']) {
    await fetch(`http://${base}${path}?token=${token()}`)
    await fetch(`http://${base}${path}?x=1&%74oken=${token()}#frag`)
    await fetch(`http://${base}${path}?access%5Ftoken=${token()}&ticket=${token()}`)
    await fetch(`http://${base}${path}?api_key=${token()}&apiKey=${token()}&KEY=${token()}`)
  }
  await tryUpgrade(`ws://${base}/ws/?token=${token()}`) // an upgrade to a near-miss path
  await app.close()

  const text = lines.join('')
  t.ok(text.includes('not found'), 'the 404s were logged')
  for (const secret of secrets) {
    t.notOk(text.includes(secret.split('.').pop() as string), 'no token signature in the logs')
  }
  const notFound = lines.find((l) => l.includes('Route GET:/ws/?token='))
  t.match(notFound, /Route GET:\/ws\/\?token=\[REDACTED\] not found/, 'the 404 message keeps the URL, redacted')
  const urls = lines.map((l) => JSON.parse(l) as { req?: { url?: string } }).flatMap((l) => l.req?.url ?? [])
  t.ok(urls.includes('/ws?%74oken=[REDACTED]'), 'the encoded name is kept, the value redacted')
  t.ok(urls.includes('/hello?api_key=[REDACTED]&apiKey=[REDACTED]&KEY=[REDACTED]'), 'a neighbouring route of the app, every credential name')
  t.ok(urls.includes('/nope?x=1&%74oken=[REDACTED]'), 'other parameters stay readable')
})

t.test('the app\'s own streamWrite hook still runs; other loggers in the process are left alone', async (t) => {
  const { base, lines } = await loggedApp(t, { hooks: { streamWrite: (s: string) => s.replace('incoming request', 'INCOMING') } })
  const secret = hsToken({ sub: 'x' })
  await fetch(`http://${base}/nope?token=${secret}`)
  const text = lines.join('')
  t.ok(text.includes('INCOMING'), 'the app\'s hook ran')
  t.notOk(text.includes(secret), 'and the token was scrubbed')

  // A second app without the plugin shares pino's defaults: it must not have been changed.
  const other: string[] = []
  const plain = Fastify({ logger: { stream: new Writable({ write (chunk: Buffer, _enc, done) { other.push(chunk.toString()); done() } }) } })
  plain.log.info('plain ?token=visible')
  t.ok(other.join('').includes('?token=visible'), 'untouched')
})

t.test('redactUrl and scrubLogLine', async (t) => {
  const cases: Array<[string, string]> = [
    ['/ws?token=abc', '/ws?token=[REDACTED]'],
    ['/ws?%74oken=abc&x=1', '/ws?%74oken=[REDACTED]&x=1'],
    ['/ws?%2574oken=abc', '/ws?%2574oken=[REDACTED]'],
    ['/ws?+token+=abc', '/ws?+token+=[REDACTED]'],
    ['/ws?token[]=abc&token[0]=def', '/ws?token[]=[REDACTED]&token[0]=[REDACTED]'],
    ['/ws?Access_Token=abc#f', '/ws?Access_Token=[REDACTED]#f'],
    ['/ws?tokens=abc&monkey=1', '/ws?tokens=abc&monkey=1'],
    ['/ws?token=', '/ws?token=[REDACTED]'],
    ['/ws?%zz=1&ticket=t', '/ws?%zz=1&ticket=[REDACTED]']
  ]
  for (const [input, expected] of cases) t.equal(redactUrl(input), expected, input)
  // Inside a JSON line an escaped character does not end the value early.
  const line = JSON.stringify({ req: { url: '/ws?token=ab"cd\\ef&x=1' }, msg: 'Route GET:/ws/?key=k1 not found' })
  const scrubbed = scrubLogLine(line)
  t.same(JSON.parse(scrubbed), { req: { url: '/ws?token=[REDACTED]&x=1' }, msg: 'Route GET:/ws/?key=[REDACTED] not found' })
})
