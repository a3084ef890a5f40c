import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { dirname, join, relative, sep } from 'node:path'
import t from 'tap'
import { ROOT, documentationFiles } from '../helpers/readme.js'

/*
 * Issue #14 (docs): the README is a front page that links into docs/, and the pages link to each
 * other's sections. A renamed heading or a moved page must not leave a dead link behind: every
 * relative link of README.md and docs/*.md must name an existing file and, when it has a
 * `#fragment` into a Markdown file, one of that file's headings. External links (`https:` …) are
 * not fetched.
 */

/** GitHub's anchor for a heading text: lowercased, punctuation dropped, each space a hyphen. */
export function slug (heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // a link's text stays, its target goes
    .replace(/[`*]/g, '') // code and emphasis marks
    .trim()
    .toLowerCase()
  return text.replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '').replace(/ /g, '-')
}

/** Lines outside fenced code blocks, with their 1-based numbers. */
function proseLines (markdown: string): Array<{ text: string, line: number }> {
  const out: Array<{ text: string, line: number }> = []
  let fenced = false
  for (const [index, text] of markdown.split('\n').entries()) {
    if (/^```/.test(text)) { fenced = !fenced; continue }
    if (!fenced) out.push({ text, line: index + 1 })
  }
  return out
}

/** The anchors GitHub gives a file's headings (a repeated heading gets `-1`, `-2`, …). */
export function anchors (markdown: string): Set<string> {
  const seen = new Map<string, number>()
  const out = new Set<string>()
  for (const { text } of proseLines(markdown)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(text)?.[1]
    if (heading === undefined) continue
    const base = slug(heading)
    const count = seen.get(base) ?? 0
    seen.set(base, count + 1)
    out.add(count === 0 ? base : `${base}-${count}`)
  }
  return out
}

/** Inline links and images outside code (fences and `code spans`). */
export function links (markdown: string): Array<{ target: string, line: number }> {
  const out: Array<{ target: string, line: number }> = []
  for (const { text, line } of proseLines(markdown)) {
    const prose = text.replace(/`[^`]*`/g, '')
    for (const match of prose.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) out.push({ target: match[1] ?? '', line })
  }
  return out
}

/**
 * The dead links of one file (`file` relative to `root`), as messages. `read` gives the text of
 * another Markdown file, so fragments into it can be checked.
 */
export async function deadLinks (root: string, file: string, markdown: string, read: (file: string) => Promise<string>): Promise<string[]> {
  const problems: string[] = []
  for (const { target, line } of links(markdown)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue // https:, mailto: …
    const [rawPath = '', fragment] = target.split('#', 2)
    if (rawPath === '') { // a section of this very file
      if (!anchors(markdown).has(decodeURIComponent(fragment ?? ''))) problems.push(`${file}:${line}: ${target}: no heading with that anchor`)
      continue
    }
    const resolved = join(root, dirname(file), decodeURIComponent(rawPath))
    const inside = relative(root, resolved)
    if (inside.startsWith(`..${sep}`) || inside === '..') { problems.push(`${file}:${line}: ${target} leaves the repository`); continue }
    if (!existsSync(resolved)) { problems.push(`${file}:${line}: ${target}: no such file`); continue }
    if (fragment === undefined || fragment === '' || !resolved.endsWith('.md')) continue
    if (!anchors(await read(inside)).has(decodeURIComponent(fragment))) problems.push(`${file}:${line}: ${target}: no heading with that anchor in ${inside}`)
  }
  return problems
}

const read = async (file: string): Promise<string> => await readFile(join(ROOT, file), 'utf8')

t.test('anchors follow GitHub: punctuation dropped, spaces to hyphens, repeats numbered', async (t) => {
  t.equal(slug("Use your app's @fastify/jwt"), 'use-your-apps-fastifyjwt')
  t.equal(slug('Snapshot + live, atomically'), 'snapshot--live-atomically')
  t.equal(slug('Command line: `npx s3db-realtime`'), 'command-line-npx-s3db-realtime')
  t.equal(slug('Hub API (`app.realtime`, or the `WebSocketPlugin` instance)'), 'hub-api-apprealtime-or-the-websocketplugin-instance')
  t.same([...anchors('# A\n## Options\n```\n# not a heading\n```\n### Options\n')], ['a', 'options', 'options-1'])
})

t.test('the checker reports a missing file, a missing heading and a link out of the repository', async (t) => {
  const page = '# Page\n[ok](#page) [file](nope.md) [anchor](#nowhere) [out](../../etc/passwd) `[code](skipped.md)` [web](https://example.com/x.md)\n```\n[fenced](skipped.md)\n```\n'
  const problems = await deadLinks(ROOT, 'docs/page.md', page, async () => page)
  t.equal(problems.length, 3, problems.join('\n'))
  t.match(problems.join('\n'), /nope\.md: no such file[\s\S]*#nowhere: no heading[\s\S]*leaves the repository/)
})

const files = await documentationFiles()

for (const file of files) {
  t.test(`every relative link of ${file} points to an existing file and heading`, async (t) => {
    t.same(await deadLinks(ROOT, file, await read(file), read), [], 'no dead links')
  })
}

t.test('README.md links every docs page', async (t) => {
  const linked = new Set(links(await read('README.md')).map(({ target }) => target.split('#')[0]))
  for (const page of files.filter((file) => file !== 'README.md')) t.ok(linked.has(page), `links ${page}`)
})
