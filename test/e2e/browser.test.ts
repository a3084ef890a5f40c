import { mkdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import t from 'tap'
import { DemoServer, ensureBuilt, freePort, launchBrowser, ROOT, tempDir } from '../helpers/browser.js'

const SCREENSHOT_DIR = join(ROOT, 'test-output')

async function signIn (page: Page, url: string, name: string, problems: string[]): Promise<void> {
  page.on('pageerror', (error) => problems.push(`${name}: ${error.message}`))
  page.on('console', (message) => { if (message.type() === 'error') problems.push(`${name} console: ${message.text()}`) })
  await page.goto(url)
  await page.fill('#name', name)
  await page.click('#signin button')
  await page.waitForSelector('body[data-ready="true"]')
}

const row = (text: string): string => `#users tr:has(td.name:text-is("${text}"))`
const message = (text: string): string => `#messages li:has(.content:text-is("${text}"))`

t.test('the demo page in headless Chromium: chat, presence, live table, and surviving a server crash', async (t) => {
  ensureBuilt()
  const server = new DemoServer(await freePort(), tempDir(t, 'demo-data-'))
  t.teardown(async () => { await server.kill() })
  await server.start()
  const browser = await launchBrowser(t)
  const problems: string[] = []
  const ann = await browser.newPage()
  const bob = await browser.newPage()
  await signIn(ann, server.url, 'Ann', problems)
  await signIn(bob, server.url, 'Bob', problems)

  // Presence: each page lists both people.
  await ann.waitForSelector('#members li:text-is("Bob")')
  await bob.waitForSelector('#members li:text-is("Ann")')
  t.equal(await ann.textContent('#member-count'), '2')

  // Chat: what one page sends, the other shows, with its author.
  await ann.fill('#message', 'hello from Ann')
  await ann.press('#message', 'Enter')
  await bob.waitForSelector(message('hello from Ann'))
  t.equal(await bob.textContent(`${message('hello from Ann')} .author`), 'Ann')
  await bob.fill('#message', 'hi Ann, Bob here')
  await bob.press('#message', 'Enter')
  await ann.waitForSelector(message('hi Ann, Bob here'))

  // Live table: insert, update and delete in one page show up in the other.
  await ann.fill('#user-name', 'Carol')
  await ann.fill('#user-email', 'carol@example.com')
  await ann.click('#add-user button')
  await bob.waitForSelector(row('Carol'))
  await bob.click(`${row('Carol')} button.toggle-role`)
  await ann.waitForSelector(`${row('Carol')} td.role:text-is("admin")`)
  await bob.fill('#user-name', 'Zed')
  await bob.click('#add-user button')
  await ann.waitForSelector(row('Zed'))
  await ann.click(`${row('Zed')} button.delete`)
  await bob.waitForSelector(row('Zed'), { state: 'detached' })

  // Crash: kill -9 the server; both pages notice and keep retrying.
  await server.kill()
  await ann.waitForSelector('#status[data-state="reconnecting"]')
  await bob.waitForSelector('#status[data-state="reconnecting"]')

  // Written straight into the same file:// store while the server is down.
  const { createDatabase } = await import(join(ROOT, 'dist-examples/server.js')) as typeof import('../../examples/server.js')
  const db = await createDatabase(server.dataDir)
  await db.resources.messages!.insert({ content: 'written while the server was down', channel: 'general', author: 'ops' })
  await db.resources.users!.insert({ name: 'Dave', email: 'dave@example.com', role: 'member' })
  await db.disconnect()

  await server.start()
  for (const page of [ann, bob]) {
    await page.waitForSelector('#status[data-state="open"]')
    await page.waitForSelector(message('written while the server was down'))
    await page.waitForSelector(row('Dave'))
    await page.waitForSelector('#members li:text-is("Ann")')
    await page.waitForSelector('#members li:text-is("Bob")')
  }
  t.ok(await ann.isVisible(message('hello from Ann')), 'earlier messages are still shown (reloaded from the store)')
  t.ok(await ann.isVisible(`${row('Carol')} td.role:text-is("admin")`), 'and the table kept its state')
  t.equal(await ann.locator('#messages li').count(), 3, 'no duplicates after the resync')

  // And it is live again.
  await bob.fill('#message', 'back online')
  await bob.press('#message', 'Enter')
  await ann.waitForSelector(message('back online'))

  mkdirSync(SCREENSHOT_DIR, { recursive: true })
  const screenshot = join(SCREENSHOT_DIR, 'browser-demo.png')
  await ann.screenshot({ path: screenshot, fullPage: true })
  t.ok(statSync(screenshot).size > 1000, `screenshot saved to ${screenshot}`)
  // Closing a tab is leaving: the other page's presence list drops that person.
  await bob.close()
  await ann.waitForSelector('#members li:text-is("Bob")', { state: 'detached' })
  t.equal(await ann.textContent('#member-count'), '1')

  // Failed ticket fetches while the server was down are expected noise in the console.
  t.same(problems.filter((p) => !/Failed to load resource|ERR_CONNECTION_REFUSED|WebSocket connection/.test(p)), [], 'no page errors')
})
