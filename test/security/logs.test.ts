import t from 'tap'
import { Writable } from 'node:stream'
import Fastify from 'fastify'
import s3dbRealtime from '../../src/index.js'
import { connect } from '../helpers/client.js'
import { createDatabase } from '../helpers/db.js'
import { hsToken, SECRET } from '../helpers/jwt.js'
import { tryUpgrade } from '../helpers/upgrade.js'

t.test('tokens and tickets never reach the logs, even at debug level', async (t) => {
  const lines: string[] = []
  const stream = new Writable({ write (chunk: Buffer, _enc, done) { lines.push(chunk.toString()); done() } })
  const db = await createDatabase(t)
  const app = Fastify({ logger: { level: 'debug', stream } })
  await app.register(s3dbRealtime, { database: db, resources: { messages: true }, auth: { drivers: [{ driver: 'jwt', config: { secret: SECRET } }] } })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(async () => { await app.close() })
  const url = `ws://127.0.0.1:${(app.server.address() as { port: number }).port}/ws`

  const token = hsToken({ sub: 'u1' })
  const { client } = await connect(`${url}?token=${token}&x=1`)
  const refresh = hsToken({ sub: 'u1', role: 'again' })
  await client.request({ type: 'auth', token: refresh })
  client.close()
  const { ticket } = app.realtime.issueTicket({ id: 'u2' })
  const viaTicket = await connect(`${url}?ticket=${ticket}`)
  viaTicket.client.close()
  const rejected = hsToken({ sub: 'u3' }, { secret: 'wrong-secret-wrong-secret-wrong!!' })
  t.equal((await tryUpgrade(`${url}?token=${rejected}`)).status, 401)
  await app.close()

  const text = lines.join('')
  t.ok(lines.length > 0, 'the log stream was captured')
  for (const [name, secret] of Object.entries({ token, refresh, ticket, rejected })) {
    t.notOk(text.includes(secret), `${name} does not appear in the logs`)
    // The signature part alone must not appear either.
    t.notOk(text.includes(secret.split('.').pop() as string), `${name} signature does not appear`)
  }
  const urls = lines.map((l) => JSON.parse(l) as { req?: { url?: string } }).flatMap((l) => l.req?.url ?? [])
  t.ok(urls.includes('/ws?token=[REDACTED]&x=1'), 'the request is still logged, with the token redacted')
  t.ok(urls.includes('/ws?ticket=[REDACTED]'), 'ticket redacted')
})
