/*
 * Runtime harness for the code blocks of README.md and docs/*.md
 * (test/contract/readme-blocks.test.ts). This file is copied next to the extracted blocks in a
 * temporary project whose node_modules/s3db-realtime is this repository (so 's3db-realtime' is
 * the built dist, as for a user), compiled with them by tsc, and imported by each fragment's
 * prelude. It supplies, with real objects, the names a
 * documentation fragment uses without defining them (`app`, `db`, `client`, `ws`, `render`, …).
 */
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import fastifyJwt from '@fastify/jwt'
import { Database } from 's3db.js'
import s3dbRealtime from 's3db-realtime'
import { createClient, type RealtimeClient } from 's3db-realtime/client'
import WebSocket from 'ws'

export interface Message { content: string, channel: string, author?: string }
export interface User { name: string, email?: string, role?: string }

export interface SetupOptions {
  /**
   * none: no app. bare: `Fastify()` alone, for blocks that register the plugin themselves.
   * jwt: plus @fastify/jwt (secret JWT_SECRET). realtime: plus s3dbRealtime with `auth.jwt:
   * 'fastify'` (in-band allowed), listening on a free port unless `listen` is false.
   */
  app?: 'none' | 'bare' | 'jwt' | 'realtime'
  /** Extra s3dbRealtime options (JSON) for app: 'realtime'. */
  realtime?: Record<string, unknown>
  listen?: boolean
  /** A connected `s3db-realtime/client` for user u1 (implies app: 'realtime'). */
  client?: boolean
  /** A raw `ws` socket for user u1, open and past its `connected` frame. */
  socket?: boolean
  /** `connectionString`: a file:// bucket that already holds the resources. */
  fileBucket?: boolean
}

/** Records every call of a stand-in function (`render`, `add`, …) so epilogues can wait for one. */
class Calls {
  readonly seen: Array<{ name: string, args: unknown[] }> = []
  private readonly waiters: Array<{ name: string, resolve: (args: unknown[]) => void }> = []

  fn (name: string): (...args: unknown[]) => void {
    return (...args: unknown[]) => {
      this.seen.push({ name, args })
      for (const waiter of this.waiters.filter((w) => w.name === name)) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1)
        waiter.resolve(args)
      }
    }
  }

  /** Resolves with the arguments of the first call of `name` (past or future). */
  async wait (name: string, timeoutMs = 10_000): Promise<unknown[]> {
    const done = this.seen.find((c) => c.name === name)
    if (done !== undefined) return done.args
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error(`${name}() was never called; calls: ${this.seen.map((c) => c.name).join(', ')}`)) }, timeoutMs)
      this.waiters.push({ name, resolve: (args) => { clearTimeout(timer); resolve(args) } })
    })
  }
}

export const SECRET = process.env.JWT_SECRET ?? 'readme-blocks-secret-that-is-long-enough'

const RESOURCES = [
  { name: 'messages', attributes: { content: 'string|required', channel: 'string|optional', room: 'string|optional', author: 'string|optional' } },
  { name: 'users', attributes: { name: 'string|required', email: 'string|optional', password: 'string|optional', role: 'string|optional' } },
  { name: 'notifications', attributes: { type: 'string|optional', text: 'string|optional' } }
]

type Db = InstanceType<typeof Database>

async function database (connectionString: string): Promise<Db> {
  const db = new Database({ connectionString, logLevel: 'silent' })
  await db.connect()
  for (const definition of RESOURCES) {
    if (db.resources[definition.name] === undefined) await db.createResource(definition)
  }
  return db
}

export async function setup (options: SetupOptions = {}) {
  const calls = new Calls()
  const closers: Array<() => Promise<void> | void> = []
  const kind = options.client === true || options.socket === true ? 'realtime' : (options.app ?? 'none')
  const db = await database(`memory://readme-${process.pid}-${Date.now()}/db`)
  closers.push(async () => { await db.disconnect() })
  const app: FastifyInstance = Fastify()
  closers.unshift(async () => { await app.close() })
  if (kind === 'jwt' || kind === 'realtime') await app.register(fastifyJwt, { secret: SECRET })
  if (kind === 'realtime') {
    await app.register(s3dbRealtime, {
      database: db,
      resources: { messages: true, users: { protected: ['password'] }, notifications: true },
      auth: { jwt: 'fastify', inBand: true },
      ...options.realtime
    })
  }
  let url = ''
  /** Listens on a free port (once); returns the WebSocket URL. */
  const start = async (): Promise<string> => {
    if (url === '') {
      await app.listen({ port: 0, host: '127.0.0.1' })
      url = `ws://127.0.0.1:${(app.server.address() as { port: number }).port}/ws`
    }
    return url
  }
  if (kind === 'realtime' && options.listen !== false) await start()
  const sign = (claims: Record<string, unknown> = { id: 'u1', name: 'Ann', room: 'r1' }): string => app.jwt.sign(claims)

  let client = undefined as unknown as RealtimeClient<{ messages: Message, users: User }>
  if (options.client === true) {
    client = createClient<{ messages: Message, users: User }>({ url, token: sign(), reconnect: false })
    await client.connect()
    closers.unshift(() => { client.close() })
  }
  let ws = undefined as unknown as WebSocket
  if (options.socket === true) {
    const socket = new WebSocket(`${url}?token=${sign()}`)
    await new Promise<void>((resolve, reject) => {
      socket.once('message', () => { resolve() })
      socket.once('error', reject)
    })
    ws = socket
    closers.unshift(() => { socket.close() })
  }
  let connectionString = ''
  if (options.fileBucket === true) {
    connectionString = `file://${await mkdtemp(join(tmpdir(), 's3db-readme-bucket-'))}`
    await (await database(connectionString)).disconnect()
  }
  const view = { replaceAll: calls.fn('view.replaceAll'), upsert: calls.fn('view.upsert'), remove: calls.fn('view.remove'), clear: calls.fn('view.clear') }
  return {
    app,
    db,
    client,
    ws,
    get url () { return url },
    start,
    sign,
    calls,
    token: kind === 'realtime' ? sign() : '',
    connectionString,
    getAccessToken: () => sign(),
    getFreshJwt: async () => sign(),
    /** The app's own session lookup (Built-in drivers: the ticket route): a user when the request says who. */
    sessionUser: async (request: FastifyRequest) => request.headers['x-user'] === undefined ? null : { id: String(request.headers['x-user']) },
    render: calls.fn('render'),
    add: calls.fn('add'),
    replace: calls.fn('replace'),
    remove: calls.fn('remove'),
    show: calls.fn('show'),
    showCount: calls.fn('showCount'),
    view,
    /** Stand-ins for the Health section's external dependencies. */
    BILLING: 'data:,ok',
    cache: { ping: async () => true },
    search: { isUp: () => true },
    /** Closes what setup opened (not what the block opened), newest first. */
    finish: async () => { for (const close of closers) await close() }
  }
}

export type Context = Awaited<ReturnType<typeof setup>>

/** The block ran through: say so and exit (s3db and the ws library may keep handles open). */
export function done (): never {
  process.stdout.write('README-BLOCK-DONE\n')
  process.exit(0)
}
