import { spawn, type ChildProcess } from 'node:child_process'
import { generateKeyPairSync } from 'node:crypto'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { connect } from '../helpers/client.js'
import { compile, packedConsumer } from '../helpers/pack.js'
import { tryUpgrade } from '../helpers/upgrade.js'

// Issue #13 "Done when": a TypeScript-strict app installed from the packed tarball, with
// @fastify/jwt + @fastify/cors + @fastify/rate-limit registered the way their READMEs show,
// type-checks, authenticates the upgrade with its own JWT setup (HS256 secret and RS256 key
// pair), refuses a foreign Origin per its CORS setting, and keeps its own /health.

async function startConsumer (t: Test, consumer: string, env: Record<string, string>): Promise<{ base: string }> {
  const child: ChildProcess = spawn(process.execPath, [join(consumer, 'out/server.js')], { cwd: consumer, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] })
  t.teardown(() => { child.kill('SIGKILL') })
  const port = await new Promise<number>((resolve, reject) => {
    let seen = ''
    child.stdout?.on('data', (chunk: Buffer) => {
      seen += chunk.toString()
      const match = /LISTENING (\d+)/.exec(seen)
      if (match !== null) resolve(Number(match[1]))
    })
    child.once('exit', (code) => { reject(new Error(`consumer exited with ${String(code)}: ${seen}`)) })
  })
  return { base: `127.0.0.1:${port}` }
}

async function login (base: string, user: string): Promise<string> {
  const response = await fetch(`http://${base}/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user }) })
  return ((await response.json()) as { token: string }).token
}

t.test('a strict consumer app with its own @fastify/jwt, @fastify/cors and @fastify/rate-limit', async (t) => {
  const { consumer } = await packedConsumer(t, 'test/consumer')
  const built = await compile(join(consumer, 'tsconfig.json'))
  t.equal(built.out, '', 'the consumer type-checks against the tarball')
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const modes = {
    hs256: { MODE: 'hs256', JWT_SECRET: 'a-consumer-secret-that-is-long-enough' },
    rs256: { MODE: 'rs256', PRIVATE_KEY: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), PUBLIC_KEY: publicKey.export({ format: 'pem', type: 'spki' }).toString() }
  }
  for (const [name, env] of Object.entries(modes)) {
    const { base } = await startConsumer(t, consumer, env)
    const token = await login(base, `ann-${name}`)
    const { client, connected } = await connect(`ws://${base}/ws?token=${token}`, { headers: { Origin: 'https://app.example.com' } })
    t.equal(connected.user?.id, `ann-${name}`, `${name}: the app's own token authenticates the upgrade`)
    t.equal((await client.request({ type: 'ping' })).type, 'pong')
    client.close()
    const { client: byHeader } = await connect(`ws://${base}/ws`, { headers: { Authorization: `Bearer ${token}` } })
    byHeader.close()
    t.equal((await tryUpgrade(`ws://${base}/ws`)).status, 401, `${name}: no token, no socket`)
    t.equal((await tryUpgrade(`ws://${base}/ws?token=${token}x`)).status, 401, `${name}: a forged token, no socket`)
    t.equal((await tryUpgrade(`ws://${base}/ws?token=${token}`, { Origin: 'https://evil.example' })).status, 403, `${name}: a foreign Origin is refused per the app's CORS`)
    t.same(await (await fetch(`http://${base}/health`)).json(), { app: 'mine' }, `${name}: the app keeps its own /health`)
  }
})
