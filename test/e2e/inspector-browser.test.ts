import { mkdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { buildApp } from '../helpers/app.js'
import { launchBrowser, ROOT } from '../helpers/browser.js'
import { hsToken } from '../helpers/jwt.js'
import { jwtAuth } from '../helpers/users.js'

// Issue #17 section 2 in headless Chromium: the inspector page, fed over its own socket, shows
// the connections and subscriptions two other clients made, live, and no secret.

const SCREENSHOT_DIR = join(ROOT, 'test-output')
const PASSWORD = 'hunter2-protected-value'
const tokens = { ann: hsToken({ id: 'ann', role: 'member' }), bob: hsToken({ id: 'bob', role: 'member' }), root: hsToken({ id: 'root', role: 'admin' }) }

t.test('the inspector page shows two clients\' connections and subscriptions, with matched counts growing', async (t) => {
  const resources = { messages: true, users: { protected: ['password'], guard: { subscribe: () => ({ password: PASSWORD }) } } }
  const { app, db, client, url } = await buildApp(t, { ...jwtAuth, resources, inspector: { interval: 200 } } as Parameters<typeof buildApp>[1])
  const ann = await client('', { authorization: `Bearer ${tokens.ann}`, origin: 'https://ann.example' })
  const bob = await client('', { authorization: `Bearer ${tokens.bob}` })
  const annSub = await ann.request({ type: 'subscribe', resource: 'messages', filter: { channel: { $in: ['a', 'b'] } } })
  const bobSub = await bob.request({ type: 'subscribe', resource: 'users' })
  await bob.request({ type: 'join', channel: 'presence-ops', userInfo: { name: 'Bob' } })

  const browser = await launchBrowser(t)
  const page = await browser.newPage()
  const problems: string[] = []
  page.on('pageerror', (error) => problems.push(error.message))
  page.on('console', (message) => { if (message.type() === 'error') problems.push(message.text()) })
  const http = url.replace(/^ws/, 'http').replace(/\/ws$/, '')
  await page.goto(`${http}/realtime/inspector#token=${tokens.root}`)
  await page.waitForSelector('#status.live')

  await page.waitForSelector('#connections tr[data-user-id="ann"]')
  await page.waitForSelector('#connections tr[data-user-id="bob"]')
  t.match(await page.textContent('#connections tr[data-user-id="ann"]'), /https:\/\/ann\.example/, 'origin shown')
  t.match(await page.textContent('#connections tr[data-user-id="bob"]'), /presence-ops/, 'channels shown')
  const annRow = `#resources tr[data-subscription-id="${annSub.subscriptionId as string}"]`
  await page.waitForSelector(annRow)
  t.match(await page.textContent(`${annRow} td.filter`), /"channel":\{"\$in":\["a","b"\]\}/, 'the effective filter, operators included')
  const bobRow = `#resources tr[data-subscription-id="${bobSub.subscriptionId as string}"]`
  t.match(await page.textContent(`${bobRow} td.filter`), /\[protected\].*\(guard\)/, 'a protected value is never shown')
  await page.waitForSelector('#channels tr[data-channel="presence-ops"]')

  // Live: two changes in ann's filter, one outside; the matched column follows.
  await db.resources.messages!.insert({ content: 'one', channel: 'a' })
  await db.resources.messages!.insert({ content: 'two', channel: 'b' })
  await db.resources.messages!.insert({ content: 'three', channel: 'c' })
  await page.waitForFunction((selector) => document.querySelector(selector)?.lastElementChild?.textContent === '2', annRow)
  await page.waitForFunction(() => Number(document.querySelector('[data-metric="connections"] b')?.textContent) === 3)

  const html = await page.content()
  t.same([...Object.values(tokens), PASSWORD].filter((secret) => html.includes(secret)), [], 'no token or protected value in the DOM')
  t.notOk(page.url().includes('token='), 'the token left the address bar')
  t.same(problems, [], 'no page errors (the Content-Security-Policy lets the page run)')
  t.equal(app.realtime.inspect().totals.inspectors, 1)

  mkdirSync(SCREENSHOT_DIR, { recursive: true })
  const screenshot = join(SCREENSHOT_DIR, 'inspector.png')
  await page.screenshot({ path: screenshot, fullPage: true })
  t.ok(statSync(screenshot).size > 1000, `screenshot saved to ${screenshot}`)
})
