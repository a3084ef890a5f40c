import { execFile } from 'node:child_process'
import { cp, mkdir, mkdtemp, readdir, rm, symlink } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'

// Issue #13 §3: what `npm pack` ships, and that a TypeScript-strict consumer type-checks against
// it: `app.realtime` and `request.realtimeUser` come from the package entry, with exactly the
// documented API (internals are type errors), and the shipped declarations resolve with
// `skipLibCheck: false` (their @types/ws is a dependency).
const run = promisify(execFile)
const ROOT = resolve(import.meta.dirname, '..')

interface PackResult { filename: string, files: Array<{ path: string }> }

t.test('npm pack ships dist, README, LICENSE and asyncapi.json only, and a strict consumer type-checks against it', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 's3db-rt-pack-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', dir], { cwd: ROOT })
  const [pack] = JSON.parse(stdout) as PackResult[]
  const paths = pack!.files.map((f) => f.path)
  for (const required of ['package.json', 'README.md', 'LICENSE', 'asyncapi.json', 'dist/index.js', 'dist/index.d.ts', 'dist/api.d.ts', 'dist/client/index.js', 'dist/client/index.d.ts', 'dist/bin/cli.js']) {
    t.ok(paths.includes(required), `ships ${required}`)
  }
  t.same(paths.filter((p) => !/^(dist\/|package\.json$|README\.md$|LICENSE$|asyncapi\.json$)/.test(p)), [], 'nothing else (no src, tests, stubs)')

  // A consumer project: the tarball unpacked as node_modules/s3db-realtime, every other package
  // linked from this repository's node_modules (no network needed).
  const consumer = join(dir, 'consumer')
  const modules = join(consumer, 'node_modules')
  await mkdir(join(modules, 's3db-realtime'), { recursive: true })
  await run('tar', ['-xzf', join(dir, pack!.filename), '-C', join(modules, 's3db-realtime'), '--strip-components=1'])
  for (const entry of await readdir(join(ROOT, 'node_modules'))) {
    if (entry === 's3db-realtime' || entry.startsWith('.')) continue
    await symlink(join(ROOT, 'node_modules', entry), join(modules, entry))
  }
  await cp(join(ROOT, 'test/types/consumer'), consumer, { recursive: true })
  const tsc = join(ROOT, 'node_modules/typescript/bin/tsc')
  const result = await run(process.execPath, [tsc, '-p', join(consumer, 'tsconfig.json')], { cwd: consumer }).then(() => ({ ok: true, out: '' }), (error: { stdout?: string }) => ({ ok: false, out: String(error.stdout) }))
  t.equal(result.out, '', 'no type errors')
  t.ok(result.ok, 'tsc exits 0')
})
