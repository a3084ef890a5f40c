import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { chromium, type BrowserContext } from 'playwright-core'
import type { Test } from 'tap'

export const ROOT = resolve(import.meta.dirname, '..', '..')
export const CHROMIUM = '/usr/bin/chromium'

function newest (dir: string): number {
  let latest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs)
  }
  return latest
}

/**
 * The browser loads the built client (dist/client) and the demo runs as dist-examples/server.js.
 * `npm test` builds first; a test run on its own rebuilds when a build is missing or older than
 * its sources, so it never tests stale code.
 */
export function ensureBuilt (): void {
  const targets: Array<[string, string, string]> = [
    ['dist/client/index.js', 'src/client', 'tsconfig.build.json'],
    ['dist-examples/server.js', 'examples', 'tsconfig.examples.json']
  ]
  for (const [output, sources, project] of targets) {
    const built = join(ROOT, output)
    if (existsSync(built) && statSync(built).mtimeMs >= newest(join(ROOT, sources))) continue
    const result = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', project], { cwd: ROOT, encoding: 'utf8' })
    // tsc still emits when some other file has a type error; only a missing output is fatal here.
    if (!existsSync(built) || statSync(built).mtimeMs < newest(join(ROOT, sources))) throw new Error(`build of ${project} failed:\n${result.stdout}${result.stderr}`)
  }
}

export { freePort } from './redis.js'

export const sleep = async (ms: number): Promise<void> => { await new Promise((r) => setTimeout(r, ms)) }

/** `npm start`'s server as a real child process, so a test can kill -9 it and start it again. */
export class DemoServer {
  private child: ChildProcess | null = null
  output = ''

  constructor (readonly port: number, readonly dataDir: string) {}

  get url (): string { return `http://127.0.0.1:${this.port}` }

  async start (): Promise<void> {
    const child = spawn(process.execPath, [join(ROOT, 'dist-examples/server.js')], {
      cwd: ROOT,
      env: { ...process.env, PORT: String(this.port), HOST: '127.0.0.1', DATA_DIR: this.dataDir, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    this.child = child
    child.stdout?.on('data', (chunk: Buffer) => { this.output += chunk.toString() })
    child.stderr?.on('data', (chunk: Buffer) => { this.output += chunk.toString() })
    const exited = new Promise<never>((_resolve, reject) => {
      child.once('exit', (code) => { reject(new Error(`demo server exited (${String(code)}) before listening:\n${this.output}`)) })
    })
    await Promise.race([this.ready(), exited])
  }

  /** Waits for the page to be served (the port answers only once everything is registered). */
  private async ready (): Promise<void> {
    for (let i = 0; i < 600; i++) {
      try {
        const response = await fetch(`${this.url}/`)
        if (response.ok) return
      } catch {} // not listening yet
      await sleep(50)
    }
    throw new Error(`demo server did not start:\n${this.output}`)
  }

  /** SIGKILL: no graceful shutdown, like a crash. */
  async kill (): Promise<void> {
    const child = this.child
    if (child === null || child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise<void>((r) => { child.once('exit', () => { r() }) })
    child.kill('SIGKILL')
    await exited
    this.child = null
  }
}

/** A temporary directory removed at teardown. */
export function tempDir (t: Test, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })
  return dir
}

/** Headless Debian Chromium with a fresh profile, closed at teardown. */
export async function launchBrowser (t: Test): Promise<BrowserContext> {
  const context = await chromium.launchPersistentContext(tempDir(t, 'chromium-profile-'), {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1200, height: 900 }
  })
  t.teardown(async () => { await context.close() })
  return context
}
