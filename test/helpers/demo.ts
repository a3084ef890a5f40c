import { copyFileSync, mkdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import type { BrowserContext, Page } from 'playwright-core'
import type { Test } from 'tap'
import { ensureBuilt, launchBrowser, ROOT } from './browser.js'

export const SCREENSHOT_DIR = join(ROOT, 'test-output')

/** What the demo's test hooks expose (examples/public/app.js sets window.demo). */
export interface DemoWindow {
  demo: { wire: { entries: Array<{ n: number, direction: string, frame: Record<string, unknown> | null, text: string }> } }
}

/**
 * `npm start`'s server, in this process: examples/server.ts's buildServer (as built to
 * dist-examples) on a free port, over a fresh memory:// store, closed at teardown.
 */
export async function startDemo (t: Test): Promise<{ url: string }> {
  ensureBuilt()
  process.env.LOG_LEVEL = 'warn'
  const { buildServer, createDatabase } = await import(join(ROOT, 'dist-examples/server.js')) as typeof import('../../examples/server.js')
  const db = await createDatabase('')
  const app = await buildServer(db)
  t.teardown(async () => {
    await app.close()
    await db.disconnect()
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as { port: number }
  return { url: `http://127.0.0.1:${port}` }
}

/** A browser, plus every page error and console error any of its pages reports. */
export async function demoBrowser (t: Test): Promise<{ browser: BrowserContext, problems: string[], open: (name: string) => Promise<Page> }> {
  const browser = await launchBrowser(t)
  const problems: string[] = []
  const open = async (name: string): Promise<Page> => {
    const page = await browser.newPage()
    page.on('pageerror', (error) => problems.push(`${name}: ${error.message}`))
    page.on('console', (message) => { if (message.type() === 'error') problems.push(`${name} console: ${message.text()}`) })
    return page
  }
  return { browser, problems, open }
}

/** Opens the demo and signs in as a persona (ada, bob, cy); resolves once everything is subscribed. */
export async function signIn (page: Page, url: string, persona: string): Promise<void> {
  await page.goto(url)
  await page.click(`button.persona[data-persona="${persona}"]`)
  await page.waitForSelector('body[data-ready="true"]')
}

export const taskRow = (title: string): string => `#tasks tr:has(td.title:text-is("${title}"))`

/** Every frame the page's wire log holds, as text. */
export async function wireText (page: Page): Promise<string> {
  return await page.evaluate(() => JSON.stringify((window as unknown as DemoWindow).demo.wire.entries))
}

/** No horizontal scroll: the document is no wider than the viewport. */
export async function overflowX (page: Page): Promise<number> {
  return await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)
}

export async function screenshot (t: Test, page: Page, name: string, options: { fullPage?: boolean, copyTo?: string } = {}): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true })
  const path = join(SCREENSHOT_DIR, name)
  await page.screenshot({ path, fullPage: options.fullPage ?? false })
  t.ok(statSync(path).size > 1000, `screenshot saved to ${path}`)
  if (options.copyTo !== undefined) copyFileSync(path, join(ROOT, options.copyTo))
}
