import t, { type Test } from 'tap'
import Fastify from 'fastify'
import s3dbRealtime from '../../src/index.js'
import { createDatabase } from '../helpers/db.js'
import { Writable } from 'node:stream'
import fastifyCors, { type FastifyCorsOptions } from '@fastify/cors'
import type { FastifyInstance } from 'fastify'
import { buildApp, type TestApp } from '../helpers/app.js'
import { tryUpgrade } from '../helpers/upgrade.js'

// The cross-site WebSocket hijack (CSWSH): a page on another site opens a socket to the API with
// the visitor's credentials. The app's @fastify/cors says which sites may use the API; the
// upgrade must follow it, with a 403 before any socket opens.

const APP = 'https://app.example.com'
const EVIL = 'https://evil.example'
const apiKey = { required: true, drivers: [{ driver: 'apiKey' as const, config: { keys: { k1: { id: 'visitor' } } } }] }

async function withAppCors (t: Test, cors: FastifyCorsOptions, options: Record<string, unknown> = {}): Promise<TestApp & { connects: () => number }> {
  const built = await buildApp(t, options, { before: async (app: FastifyInstance) => { await app.register(fastifyCors, cors) } })
  let connects = 0
  built.app.realtime.on('client.connected', () => { connects++ })
  return { ...built, connects: () => connects }
}

t.test('app @fastify/cors only: a foreign Origin is refused with 403 before auth and before any socket', async (t) => {
  const { url, connects } = await withAppCors(t, { origin: APP, credentials: true }, { auth: apiKey })
  const evil = await tryUpgrade(`${url}?token=k1`, { origin: EVIL })
  t.equal(evil.status, 403, 'even with the visitor\'s valid credentials')
  t.match(JSON.parse(evil.body), { code: 'FORBIDDEN', message: 'Origin not allowed' })
  t.equal((await tryUpgrade(`${url}?token=k1`, { origin: APP })).status, 101, 'the app\'s own site connects')
  t.equal((await tryUpgrade(url, { origin: APP })).status, 401, 'allowed origin, then auth')
  t.equal((await tryUpgrade(`${url}?token=k1`)).status, 101, 'no Origin: a non-browser client')
  const host = new URL(url).host
  t.equal((await tryUpgrade(`${url}?token=k1`, { origin: `http://${host}` })).status, 101, 'a page served by the app itself (same origin)')
  t.equal((await tryUpgrade(`${url}?token=k1`, { origin: 'null' })).status, 403, 'sandboxed or file:// pages are foreign')
  t.equal(connects(), 3, 'refused upgrades opened no socket')
})

t.test('every @fastify/cors origin form is honoured on the upgrade', async (t) => {
  const forms: Array<[string, FastifyCorsOptions['origin'], string[], string[]]> = [
    ['string', APP, [APP], [EVIL, `${APP}.evil.example`]],
    ['array', [APP, /^https:\/\/[a-z]+\.trusted\.example$/], [APP, 'https://eu.trusted.example'], [EVIL, 'https://trusted.example']],
    ['RegExp', /^https:\/\/app\.example\.com$/, [APP], [EVIL]],
    ['boolean true (reflect)', true, [APP, EVIL], []],
    ['boolean false (CORS off)', false, [], [APP, EVIL]],
    ['"*"', '*', [APP, EVIL], []],
    ['promise function', async (origin: string | undefined) => origin === APP, [APP], [EVIL]],
    ['callback function', (origin: string | undefined, cb: (error: Error | null, allow: boolean) => void) => { setImmediate(() => { cb(null, origin === APP) }) }, [APP], [EVIL]]
  ]
  for (const [name, origin, allowed, refused] of forms) {
    const { url } = await withAppCors(t, { origin })
    for (const o of allowed) t.equal((await tryUpgrade(url, { origin: o })).status, 101, `${name}: ${o} allowed`)
    for (const o of refused) t.equal((await tryUpgrade(url, { origin: o })).status, 403, `${name}: ${o} refused`)
  }
})

t.test('the delegator form applies as for REST routes', async (t) => {
  const { url } = await withAppCors(t, { delegator: (_request, cb) => { cb(null, { origin: [APP] }) } })
  t.equal((await tryUpgrade(url, { origin: APP })).status, 101)
  t.equal((await tryUpgrade(url, { origin: EVIL })).status, 403)
})

t.test('the app registering @fastify/cors after the plugin is still followed', async (t) => {
  const db = await createDatabase(t)
  const app = Fastify({ logger: false })
  await app.register(s3dbRealtime, { database: db, resources: { messages: true } })
  await app.register(fastifyCors, { origin: APP })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(async () => { await app.close() })
  const url = `ws://127.0.0.1:${(app.server.address() as { port: number }).port}/ws`
  t.equal((await tryUpgrade(url, { origin: EVIL })).status, 403)
  t.equal((await tryUpgrade(url, { origin: APP })).status, 101)
})

t.test('the plugin\'s cors option decides the upgrade, with or without the app\'s @fastify/cors', async (t) => {
  // Plugin option only (it also registers @fastify/cors for REST).
  const own = await buildApp(t, { cors: { origin: APP }, auth: apiKey })
  t.equal((await tryUpgrade(`${own.url}?token=k1`, { origin: EVIL })).status, 403, 'plugin cors: hijack refused')
  t.equal((await tryUpgrade(`${own.url}?token=k1`, { origin: APP })).status, 101)

  // Both: the plugin's option wins for the upgrade (narrower than the app's here).
  const both = await withAppCors(t, { origin: true }, { cors: { origin: APP }, auth: apiKey })
  t.equal((await tryUpgrade(`${both.url}?token=k1`, { origin: EVIL })).status, 403, 'plugin cors wins over the app\'s reflect-all')
  t.equal((await tryUpgrade(`${both.url}?token=k1`, { origin: APP })).status, 101)

  // An explicit opt-out keeps the old behaviour even when the app limits REST.
  const off = await withAppCors(t, { origin: APP }, { cors: { enabled: false } })
  t.equal((await tryUpgrade(off.url, { origin: EVIL })).status, 101, 'cors.enabled: false checks nothing')
})

t.test('without @fastify/cors anywhere, every origin may connect (unchanged)', async (t) => {
  const { url } = await buildApp(t)
  t.equal((await tryUpgrade(url, { origin: EVIL })).status, 101)
})

t.test('an app origin function that fails refuses the upgrade (500 from @fastify/cors, no socket) and app.close() does not wait for that client', async (t) => {
  const { url, connects } = await withAppCors(t, { origin: (_o, cb) => { cb(new Error('policy store down'), false) } })
  const res = await tryUpgrade(url, { origin: APP })
  t.equal(res.status, 500)
  t.equal(connects(), 0)
})

t.test('an app @fastify/cors that has not run yet (hook: preHandler) fails closed, with one warning', async (t) => {
  const lines: Array<Record<string, unknown>> = []
  const stream = new Writable({ write (chunk: Buffer, _enc, done) { lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>); done() } })
  const db = await createDatabase(t)
  const app = Fastify({ logger: { level: 'warn', stream } })
  await app.register(fastifyCors, { origin: APP, hook: 'preHandler' })
  await app.register(s3dbRealtime, { database: db, resources: { messages: true } })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(async () => { await app.close() })
  const url = `ws://127.0.0.1:${(app.server.address() as { port: number }).port}/ws`
  t.equal((await tryUpgrade(url, { origin: EVIL })).status, 403)
  t.equal((await tryUpgrade(url, { origin: APP })).status, 403, 'cannot tell: refused rather than guessed')
  t.equal((await tryUpgrade(url, { origin: `http://${new URL(url).host}` })).status, 101, 'same origin still connects')
  const warnings = lines.filter((l) => String(l.msg).includes('set no Access-Control-Allow-Origin'))
  t.equal(warnings.length, 1, 'said once, with the fix')
  t.match(warnings[0]?.msg, /cors\.origin/)
})
