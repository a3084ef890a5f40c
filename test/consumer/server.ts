// A consumer app as a new user writes it: TypeScript strict, the app's own @fastify/jwt,
// @fastify/cors and @fastify/rate-limit registered the way their READMEs show, its own /health,
// and s3db-realtime installed from the packed tarball. MODE=hs256 (JWT_SECRET) or rs256
// (PRIVATE_KEY / PUBLIC_KEY, PEM).
import Fastify from 'fastify'
import cors from '@fastify/cors'
import fastifyJwt from '@fastify/jwt'
import rateLimit from '@fastify/rate-limit'
import { Database } from 's3db.js'
import s3dbRealtime from 's3db-realtime'

const mode = process.env.MODE ?? 'hs256'
const app = Fastify()
await app.register(cors, { origin: 'https://app.example.com' })
await app.register(rateLimit, { max: 1000, timeWindow: '1 minute' })
if (mode === 'rs256') {
  await app.register(fastifyJwt, { secret: { private: String(process.env.PRIVATE_KEY), public: String(process.env.PUBLIC_KEY) }, sign: { algorithm: 'RS256' } })
} else {
  await app.register(fastifyJwt, { secret: String(process.env.JWT_SECRET) })
}

app.get('/health', async () => ({ app: 'mine' }))
app.post<{ Body: { user: string } }>('/login', async (request) => ({ token: app.jwt.sign({ sub: request.body.user }) }))

const db = new Database({ connectionString: `memory://consumer-${process.pid}/app`, logLevel: 'silent' })
await db.connect()
await db.createResource({ name: 'messages', attributes: { content: 'string|required' } })

await app.register(s3dbRealtime, { database: db, auth: { jwt: 'fastify', required: true }, resources: { messages: true } })
app.realtime.on('client.connected', ({ user }) => { process.stdout.write(`CONNECTED ${user?.id ?? 'anonymous'}\n`) })
await app.listen({ port: 0, host: '127.0.0.1' })
const address = app.server.address()
process.stdout.write(`LISTENING ${typeof address === 'object' && address !== null ? address.port : 0}\n`)
process.on('SIGTERM', () => { void app.close().then(() => process.exit(0)) })
