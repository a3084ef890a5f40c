import type { Page } from 'playwright-core'
import t, { type Test } from 'tap'
import { demoBrowser, overflowX, screenshot, signIn, startDemo, taskRow, type DemoWindow } from '../helpers/demo.js'

// Issue #17 section 1 in headless Chromium: the demo's wire log, a dropped connection resuming
// with exactly the missed rows, a pushed RESYNC, a phone-sized screen, and the README screenshot.

type Entry = DemoWindow['demo']['wire']['entries'][number]
const entries = async (page: Page): Promise<Entry[]> => await page.evaluate(() => (window as unknown as DemoWindow).demo.wire.entries)
/** Both windows at 800 px, then one image of them next to each other (test-output/demo.png and examples/demo.png). */
async function sideBySide (t: Test, canvas: Page, pages: Page[]): Promise<void> {
  const shots: string[] = []
  for (const page of pages) {
    await page.setViewportSize({ width: 800, height: 1000 })
    await page.evaluate(() => { window.scrollTo(0, 0) })
    shots.push((await page.screenshot()).toString('base64'))
  }
  await canvas.setViewportSize({ width: 1612, height: 1000 })
  await canvas.setContent(`<body style="margin:0;display:flex;gap:12px;background:#8a93a8">${shots.map((s) => `<img src="data:image/png;base64,${s}" width="800" height="1000">`).join('')}</body>`)
  await screenshot(t, canvas, 'demo.png', { copyTo: 'examples/demo.png' })
  await canvas.close()
}

const MISSED = ['Missed while away 1', 'Missed while away 2', 'Missed while away 3']

t.test('drop and resume catches up exactly the missed rows; a pushed RESYNC resumes; 390 px has no sideways scroll', async (t) => {
  const { url } = await startDemo(t)
  const { problems, open } = await demoBrowser(t)

  // Before sign-in the page explains itself, and fits a phone.
  const intro = await open('intro')
  await intro.setViewportSize({ width: 390, height: 844 })
  await intro.goto(url)
  await intro.waitForSelector('button.persona[data-persona="cy"]')
  t.match(await intro.textContent('#intro'), /What this demo shows/)
  t.equal(await overflowX(intro), 0, 'the intro at 390 px: no horizontal scroll')
  await screenshot(t, intro, 'demo-intro-390.png', { fullPage: true })
  await intro.close()

  const ada = await open('ada')
  const bob = await open('bob')
  await signIn(ada, url, 'ada')
  await signIn(bob, url, 'bob')
  await ada.waitForSelector(taskRow('Fix login redirect'))

  // Ada drops her connection; the page holds it down while Bob adds three tasks.
  await ada.click('#drop')
  await ada.waitForSelector('#status:text-is("offline (dropped)")')
  for (const title of MISSED) {
    await bob.fill('#task-title', title)
    await bob.click('#add-task button[type="submit"]')
    await bob.waitForSelector(taskRow(title))
  }
  t.equal(await ada.locator('#tasks tr:has(td.title:has-text("Missed while away"))').count(), 0, 'Ada is offline: none arrived')

  await ada.click('#reconnect')
  await ada.waitForSelector('#status[data-state="open"]')
  const resumed = ada.locator('#resume li[data-resource="tasks"]')
  await ada.waitForSelector('#resume li[data-resource="tasks"][data-replayed="3"]')
  t.match(await resumed.textContent(), /3 missed changes replayed/)
  for (const title of MISSED) t.equal(await ada.locator(taskRow(title)).count(), 1, `${title}: once`)
  t.equal(await ada.textContent('#task-count'), '10', '7 seeded + 3 missed, no duplicate')
  const wire = await entries(ada)
  const resumes = wire.filter((e) => e.direction === 'out' && e.frame?.type === 'subscribe' && e.frame.resource === 'tasks' && typeof e.frame.since === 'number')
  t.ok(resumes.length > 0 && resumes.every((e) => typeof e.frame?.epoch === 'string'), 'the client re-subscribed with since and epoch')
  t.ok(wire.every((e) => !e.text.includes('ticket=') || e.text.includes('[redacted]')), 'the ticket is never shown')
  await screenshot(t, ada, 'demo-resume.png', { fullPage: true })

  // Force RESYNC: the server pushes RESYNC_REQUIRED; the client resumes on the same socket.
  const seen = Math.max(...(await entries(ada)).map((e) => e.n))
  await ada.click('#resync')
  await ada.waitForSelector('#resume li[data-resource="tasks"][data-replayed="0"]')
  const after = (await entries(ada)).filter((e) => e.n > seen)
  const notice = after.findIndex((e) => e.direction === 'in' && e.frame?.type === 'error' && e.frame.code === 'RESYNC_REQUIRED')
  t.ok(notice >= 0, 'the pushed notice is in the wire log')
  t.ok(after.slice(notice).some((e) => e.direction === 'out' && e.frame?.type === 'subscribe' && typeof e.frame.since === 'number'), 'followed by a resume with since')
  await bob.fill('#task-title', 'After the resync')
  await bob.click('#add-task button[type="submit"]')
  await ada.waitForSelector(taskRow('After the resync'))

  // The wire log is bounded and collapsible.
  t.ok((await ada.locator('#wire-list > li').count()) <= 200)
  await ada.click('#wire summary')
  t.notOk(await ada.isVisible('#wire-list'), 'collapsed')
  await ada.click('#wire summary')

  // The README screenshot: Ada's and Bob's windows side by side, as a new user would try it.
  await sideBySide(t, await open('composite'), [ada, bob])

  // Bob on a phone: every card stacks, the table becomes cards, nothing scrolls sideways.
  await bob.setViewportSize({ width: 390, height: 844 })
  await bob.waitForFunction(() => document.documentElement.clientWidth === 390)
  t.equal(await overflowX(bob), 0, 'signed in at 390 px: no horizontal scroll')
  await bob.click(`${taskRow('Write release notes')} button.edit`)
  t.equal(await overflowX(bob), 0, 'with the editor open too')
  await screenshot(t, bob, 'demo-390.png', { fullPage: true })

  t.same(problems, [], 'no console errors, no page errors')
})
