import { join } from 'node:path'
import type { Page } from 'playwright-core'
import t from 'tap'
import { DemoServer, ensureBuilt, freePort, launchBrowser, ROOT, tempDir } from '../helpers/browser.js'
import { screenshot, signIn, taskRow } from '../helpers/demo.js'

// `npm start`'s server as a real child process (file:// storage), so it can be killed with
// SIGKILL and started again on the same port and data: the demo pages must catch up.

function watch (page: Page, name: string, problems: string[]): void {
  page.on('pageerror', (error) => problems.push(`${name}: ${error.message}`))
  page.on('console', (message) => { if (message.type() === 'error') problems.push(`${name} console: ${message.text()}`) })
}

t.test('the demo page in headless Chromium: live tasks, channels, presence, and surviving a server crash', async (t) => {
  ensureBuilt()
  const server = new DemoServer(await freePort(), tempDir(t, 'demo-data-'))
  t.teardown(async () => { await server.kill() })
  await server.start()
  const browser = await launchBrowser(t)
  const problems: string[] = []
  const ada = await browser.newPage()
  const bob = await browser.newPage()
  watch(ada, 'ada', problems)
  watch(bob, 'bob', problems)
  await signIn(ada, server.url, 'ada')
  await signIn(bob, server.url, 'bob')

  // Presence in team red's channel: each page lists both people.
  await ada.waitForSelector('#presence li[data-team="red"] .member[data-id="bob"]')
  await bob.waitForSelector('#presence li[data-team="red"] .member[data-id="ada"]')

  // A private team room: what Bob posts, Ada (an admin) gets.
  await bob.selectOption('#room-target', 'private-team-red')
  await bob.fill('#message', 'hello from Bob')
  await bob.press('#message', 'Enter')
  await ada.waitForSelector('#messages li:has(.content:text-is("hello from Bob"))')
  t.equal(await ada.textContent('#messages li:has(.content:text-is("hello from Bob")) .author'), 'Bob')

  // Live table: an insert in one page and a delete (admins only) show up in the other.
  await ada.fill('#task-title', 'Crash drill')
  await ada.click('#add-task button[type="submit"]')
  await bob.waitForSelector(taskRow('Crash drill'))
  await ada.click(`${taskRow('Write release notes')} button.delete`)
  await bob.waitForSelector(taskRow('Write release notes'), { state: 'detached' })

  // Crash: kill -9 the server; both pages notice and keep retrying.
  await server.kill()
  await ada.waitForSelector('#status[data-state="reconnecting"]')
  await bob.waitForSelector('#status[data-state="reconnecting"]')

  // Written straight into the same file:// store while the server is down.
  const { createDatabase } = await import(join(ROOT, 'dist-examples/server.js')) as typeof import('../../examples/server.js')
  const db = await createDatabase(server.dataDir)
  await db.resources.tasks!.insert({ title: 'Written while the server was down', team: 'red', priority: 2, status: 'todo' })
  await db.disconnect()

  await server.start()
  for (const page of [ada, bob]) {
    await page.waitForSelector('#status[data-state="open"]')
    await page.waitForSelector(taskRow('Written while the server was down'))
    await page.waitForSelector('#presence li[data-team="red"] .member[data-id="ada"]')
    await page.waitForSelector('#presence li[data-team="red"] .member[data-id="bob"]')
  }
  // A restarted server has a new history epoch: the resume is refused and the client lists again.
  await ada.waitForSelector('#resume li[data-resource="tasks"]:has-text("RESYNC_REQUIRED")')
  t.ok(await ada.isVisible(taskRow('Crash drill')), 'earlier rows are still shown (reloaded from the store)')
  t.equal(await ada.textContent('#task-count'), '8', 'Ada: 7 seeded + 2 - 1, no duplicates after the resync')
  t.equal(await bob.textContent('#task-count'), '5', 'Bob: the 4 red + 2 - 1')

  // And it is live again.
  await bob.fill('#task-title', 'Back online')
  await bob.click('#add-task button[type="submit"]')
  await ada.waitForSelector(taskRow('Back online'))
  await screenshot(t, ada, 'browser-demo.png', { fullPage: true })

  // Closing a tab is leaving: the other page's presence list drops that person.
  await bob.close()
  await ada.waitForSelector('#presence li[data-team="red"] .member[data-id="bob"]', { state: 'detached' })

  // Failed ticket fetches while the server was down are expected noise in the console.
  t.same(problems.filter((p) => !/Failed to load resource|ERR_CONNECTION_REFUSED|WebSocket connection/.test(p)), [], 'no page errors')
})
