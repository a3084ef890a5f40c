import { readdir, readFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'

export const ROOT = resolve(import.meta.dirname, '../..')

/** One fenced code block of README.md or of a page under docs/. */
export interface ReadmeBlock {
  /**
   * Stable name: the nearest heading above it and its 1-based rank under that heading, prefixed
   * with the page for pages other than README.md ("Try it #1", "docs/options.md: Health #1").
   */
  id: string
  /** The Markdown file it is in, relative to the repository ("README.md", "docs/client.md"). */
  file: string
  /** The fence's info string (`ts`, `js`, `json`, `bash`, or '' when none). */
  lang: string
  code: string
  /** 1-based line of the opening fence in its file (for messages). */
  line: number
}

/**
 * Every fenced block of a Markdown text, in order. Headings are only read outside fences (a
 * `# comment` in a bash block is not a heading), and ids use the heading text, not the line
 * number, so editing prose above a block does not rename it.
 */
export function extractBlocks (markdown: string, file = 'README.md'): ReadmeBlock[] {
  const prefix = file === 'README.md' ? '' : `${file}: `
  const lines = markdown.split('\n')
  const blocks: ReadmeBlock[] = []
  const perHeading = new Map<string, number>()
  let heading = '(top)'
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? ''
    const fence = /^```(\S*)\s*$/.exec(line)
    if (fence !== null) {
      const start = i
      const body: string[] = []
      for (i++; i < lines.length && !/^```\s*$/.test(lines[i] ?? ''); i++) body.push(lines[i] ?? '')
      if (i >= lines.length) throw new Error(`${file} line ${start + 1}: unclosed code fence`)
      const rank = (perHeading.get(heading) ?? 0) + 1
      perHeading.set(heading, rank)
      blocks.push({ id: `${prefix}${heading} #${rank}`, file, lang: fence[1] ?? '', code: body.join('\n'), line: start + 1 })
      continue
    }
    const title = /^#{1,6}\s+(.*?)\s*$/.exec(line)
    if (title !== null) heading = title[1] ?? heading
  }
  return blocks
}

/** README.md, then every `docs/*.md` in name order: the documentation the tests keep true. */
export async function documentationFiles (): Promise<string[]> {
  const pages = (await readdir(join(ROOT, 'docs'))).filter((name) => name.endsWith('.md')).sort()
  return ['README.md', ...pages.map((name) => `docs/${name}`)]
}

/** The blocks of README.md only. */
export async function readmeBlocks (): Promise<ReadmeBlock[]> {
  return extractBlocks(await readFile(join(ROOT, 'README.md'), 'utf8'))
}

/** The blocks of README.md and of every docs/*.md page. */
export async function documentationBlocks (): Promise<ReadmeBlock[]> {
  const blocks: ReadmeBlock[] = []
  for (const file of await documentationFiles()) blocks.push(...extractBlocks(await readFile(join(ROOT, file), 'utf8'), file))
  return blocks
}
