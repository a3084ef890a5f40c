import { spawn, type ChildProcess } from 'node:child_process'
import type { Test } from 'tap'

export interface Spawned {
  child: ChildProcess
  /** Every stdout/stderr line so far. */
  lines: string[]
  /** The http://host:port the server logged it listens on. */
  base: string
  exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
  /** Resolves with the first line (past or future) containing `text`. */
  waitLine: (text: string, timeoutMs?: number) => Promise<string>
}

const ROOT = new URL('../../', import.meta.url).pathname

/**
 * Runs a TypeScript entry point in a child process (through the same ts loader tap uses) and
 * (unless `wait` is false) waits for Fastify's "Server listening at" line. Killed at teardown.
 */
export async function spawnTs (t: Test, entry: string, args: string[], env: Record<string, string>, wait = true): Promise<Spawned> {
  const child = spawn(process.execPath, ['--import', '@tapjs/typescript/import', entry, ...args], {
    cwd: ROOT,
    env: { ...process.env, TS_NODE_TRANSPILE_ONLY: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const lines: string[] = []
  const waiters: Array<{ text: string, resolve: (line: string) => void }> = []
  const onData = (chunk: Buffer): void => {
    for (const line of chunk.toString().split('\n').filter(Boolean)) {
      lines.push(line)
      for (const waiter of [...waiters]) {
        if (line.includes(waiter.text)) {
          waiters.splice(waiters.indexOf(waiter), 1)
          waiter.resolve(line)
        }
      }
    }
  }
  child.stdout?.on('data', onData)
  child.stderr?.on('data', onData)
  const exited = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => { resolve({ code, signal }) })
  })
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  const waitLine = async (text: string, timeoutMs = 60_000): Promise<string> => {
    const found = lines.find((line) => line.includes(text))
    if (found !== undefined) return found
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error(`no line containing "${text}"; got:\n${lines.join('\n')}`)) }, timeoutMs)
      waiters.push({ text, resolve: (line) => { clearTimeout(timer); resolve(line) } })
      void exited.then(({ code }) => { clearTimeout(timer); reject(new Error(`exited (${String(code)}) before "${text}":\n${lines.join('\n')}`)) })
    })
  }
  let base = ''
  if (wait) {
    const line = await waitLine('Server listening at')
    base = /Server listening at (http:\/\/[^"\s]+)/.exec(line)?.[1] ?? ''
  }
  return { child, lines, base, exited, waitLine }
}
