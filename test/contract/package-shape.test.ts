import { join } from 'node:path'
import t from 'tap'
import { compile, packedConsumer } from '../helpers/pack.js'
import { documentationFiles } from '../helpers/readme.js'

// Issue #13 §3: what `npm pack` ships, and that a TypeScript-strict consumer type-checks against
// it: `app.realtime` and `request.realtimeUser` come from the package entry, with exactly the
// documented API (internals are type errors), and the shipped declarations resolve with
// `skipLibCheck: false` (their @types/ws is a dependency). The docs/ pages ship too, so the README's
// links into docs/ work in the installed package (with the images the pages embed, docs/*.svg).
t.test('npm pack ships dist, README, docs, LICENSE and asyncapi.json only, and a strict consumer type-checks against it', async (t) => {
  const { files: paths, consumer } = await packedConsumer(t, 'test/types/consumer')
  for (const required of ['package.json', 'README.md', 'LICENSE', 'asyncapi.json', 'dist/index.js', 'dist/index.d.ts', 'dist/api.d.ts', 'dist/client/index.js', 'dist/client/index.d.ts', 'dist/bin/cli.js']) {
    t.ok(paths.includes(required), `ships ${required}`)
  }
  for (const page of (await documentationFiles()).filter((file) => file.startsWith('docs/'))) t.ok(paths.includes(page), `ships ${page}`)
  t.same(paths.filter((p) => !/^(dist\/|docs\/[^/]+\.(md|svg)$|package\.json$|README\.md$|LICENSE$|asyncapi\.json$)/.test(p)), [], 'nothing else (no src, tests, stubs)')
  const result = await compile(join(consumer, 'tsconfig.json'))
  t.equal(result.out, '', 'no type errors')
  t.ok(result.ok, 'tsc exits 0')
})
