import { execFile } from 'node:child_process'
import { cp, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import type { Test } from 'tap'

export const run = promisify(execFile)
export const ROOT = resolve(import.meta.dirname, '../..')

export interface Packed {
  /** The files `npm pack` put in the tarball. */
  files: string[]
  /** A project folder with the tarball unpacked as node_modules/s3db-realtime and the fixture copied in. */
  consumer: string
}

/**
 * `npm pack`s this repository and lays out a consumer project around the tarball: every other
 * package is linked from this repository's node_modules, so no network is needed.
 */
export async function packedConsumer (t: Test, fixture: string): Promise<Packed> {
  const dir = await mkdtemp(join(tmpdir(), 's3db-rt-pack-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', dir], { cwd: ROOT })
  const [pack] = JSON.parse(stdout) as Array<{ filename: string, files: Array<{ path: string }> }>
  if (pack === undefined) throw new Error('npm pack produced nothing')
  const consumer = join(dir, 'consumer')
  const modules = join(consumer, 'node_modules')
  await mkdir(join(modules, 's3db-realtime'), { recursive: true })
  await run('tar', ['-xzf', join(dir, pack.filename), '-C', join(modules, 's3db-realtime'), '--strip-components=1'])
  for (const entry of await readdir(join(ROOT, 'node_modules'))) {
    if (entry === 's3db-realtime' || entry.startsWith('.')) continue
    await symlink(join(ROOT, 'node_modules', entry), join(modules, entry))
  }
  await cp(join(ROOT, fixture), consumer, { recursive: true })
  await writeFile(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }))
  return { files: pack.files.map((f) => f.path), consumer }
}

/** Runs the project's TypeScript compiler on `project`; resolves with its output ('' when clean). */
export async function compile (project: string): Promise<{ ok: boolean, out: string }> {
  const tsc = join(ROOT, 'node_modules/typescript/bin/tsc')
  return await run(process.execPath, [tsc, '-p', project]).then(
    () => ({ ok: true, out: '' }),
    (error: { stdout?: string }) => ({ ok: false, out: String(error.stdout) })
  )
}
