import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import type { Test } from 'tap'

/** A free TCP port on 127.0.0.1 (asked from the OS, then released). */
export async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => { resolve(port) })
    })
  })
}

/** A real redis-server child process, no persistence, killed at teardown. */
export class RedisProcess {
  private child: ChildProcess | null = null

  constructor (readonly port: number) {}

  get url (): string {
    return `redis://127.0.0.1:${this.port}`
  }

  get running (): boolean {
    return this.child !== null
  }

  /** Starts redis-server and resolves once it accepts connections. */
  async start (): Promise<void> {
    if (this.child !== null) return
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] })
    this.child = child
    await new Promise<void>((resolve, reject) => {
      let output = ''
      const onData = (chunk: Buffer): void => {
        output += chunk.toString()
        if (output.includes('Ready to accept connections')) {
          child.stdout?.removeListener('data', onData)
          child.stdout?.resume()
          resolve()
        }
      }
      child.stdout?.on('data', onData)
      child.stderr?.resume()
      child.once('exit', (code) => {
        this.child = null
        reject(new Error(`redis-server exited with ${String(code)} before it was ready: ${output.slice(-500)}`))
      })
    })
    child.removeAllListeners('exit')
    child.once('exit', () => { if (this.child === child) this.child = null })
  }

  /** Kills redis-server (SIGKILL: an outage, not a clean shutdown) and waits for it to exit. */
  async stop (): Promise<void> {
    const child = this.child
    if (child === null) return
    this.child = null
    if (child.exitCode !== null || child.signalCode !== null) return
    await new Promise<void>((resolve) => {
      child.once('exit', () => { resolve() })
      child.kill('SIGKILL')
    })
  }
}

/** Starts a redis-server on a free port for this test; it is killed at teardown. */
export async function startRedis (t: Test): Promise<RedisProcess> {
  const redis = new RedisProcess(await freePort())
  t.teardown(async () => { await redis.stop() })
  await redis.start()
  return redis
}
