import t from 'tap'
import { demoBrowser, screenshot, signIn, startDemo, taskRow, wireText } from '../helpers/demo.js'

// Issue #17 section 1 in headless Chromium: the demo page (npm start) with two personas in two
// pages. Ada is an admin (teams red + blue), Bob a member of team red (examples/demo-access.ts).

const SECRET_MARK = 'confidential' // every seeded internalNote (protected) contains it

t.test('the demo shows guards, protected fields, operator filters, refusals, private channels and conditional edits', async (t) => {
  const { url } = await startDemo(t)
  const { problems, open } = await demoBrowser(t)
  const ada = await open('ada')
  const bob = await open('bob')
  await signIn(ada, url, 'ada')
  await signIn(bob, url, 'bob')

  // Guards: the blue task is Ada's to see, not Bob's (the server forces {team: {$in: ['red']}}).
  await ada.waitForSelector(taskRow('Blue launch plan'))
  await bob.waitForSelector(taskRow('Fix login redirect'))
  t.equal(await bob.locator(taskRow('Blue launch plan')).count(), 0, 'a blue row never reaches Bob')
  t.equal(await bob.textContent('#task-count'), '4', 'Bob sees the 4 red tasks')
  t.equal(await ada.textContent('#task-count'), '7', 'Ada sees all 7')

  // An operator filter: Bob's builder starts on priority >= 3; the server reports the effective
  // filter (his AND the guard's) and the snapshot holds only matching red rows.
  await bob.waitForSelector('#b-rows li >> nth=2')
  t.same((await bob.locator('#b-rows li').allTextContents()).map((s) => s.split(' · ')[0]).sort(), ['Fix flaky upload test', 'Fix login redirect', 'Review pricing page'])
  const effective = JSON.parse(await bob.textContent('#b-effective') ?? 'null') as Record<string, unknown>
  t.same(effective, { team: 'red', priority: { $gte: 3 } }, 'the filter the server applies, guard included')

  // Ada lowers one under the bound: Bob's builder gets it as `left` and drops the row.
  await ada.click(`${taskRow('Review pricing page')} button.edit`)
  await ada.fill('#editor-priority', '1')
  await ada.click('#editor button[type="submit"]')
  await bob.waitForSelector('#b-events li[data-left="true"]:has-text("Review pricing page")')
  await bob.waitForFunction(() => document.querySelector('#b-count')?.textContent === '2')
  await bob.waitForSelector(`${taskRow('Review pricing page')} td.priority:text-is("1")`)

  // A delta subscription in the builder: the client hands the page whole records. (The socket's
  // frame stays whole here: the tasks table's subscription on the same socket asked for records.)
  await bob.check('#b-delta')
  await bob.click('#builder button[type="submit"]')
  await bob.waitForSelector('#b-events li[data-event="snapshot"]')
  await ada.click(`${taskRow('Fix flaky upload test')} button.edit`)
  await ada.selectOption('#editor-status', 'doing')
  await ada.click('#editor button[type="submit"]')
  await bob.waitForSelector('#b-rows li:text-is("Fix flaky upload test · red · p4 · doing")')
  t.match(await wireText(bob), /"delta":true/, 'the builder subscribed with delta: true')
  await bob.uncheck('#b-delta')

  // A filter that contradicts the guard is reported as matching nothing.
  await bob.click('#b-presets button:has-text("team = blue")')
  await bob.click('#builder button[type="submit"]')
  await bob.waitForSelector('#b-nothing:not([hidden])')
  t.same(JSON.parse(await bob.textContent('#b-effective') ?? 'null'), { team: { $in: [] } })

  // Refusals show their code, message and field details, then go away.
  await bob.fill('#task-title', 'ab')
  await bob.fill('#task-priority', '9')
  await bob.click('#add-task button[type="submit"]')
  const invalid = bob.locator('.toast[data-code="VALIDATION_ERROR"]')
  await invalid.waitFor()
  const invalidText = await invalid.textContent() ?? ''
  t.match(invalidText, /title: .*3 characters/, 'the title field detail')
  t.match(invalidText, /priority: .*less than or equal to 5/, 'the priority field detail')
  await bob.click(`${taskRow('Fix login redirect')} button.delete`)
  await bob.waitForSelector('.toast[data-code="FORBIDDEN"]:has-text("delete")')
  await invalid.waitFor({ state: 'detached', timeout: 15_000 })
  t.pass('the validation toast went away by itself')
  await bob.fill('#task-title', 'Sneak into blue')
  await bob.fill('#task-priority', '2')
  await bob.selectOption('#task-team', 'blue')
  await bob.click('#add-task button[type="submit"]')
  await bob.waitForSelector('.toast[data-code="FORBIDDEN"]:has-text("outside what you may see")')

  // Channels: Bob posts in his team's private room (Ada, an admin, is in it) and types there.
  await bob.selectOption('#room-target', 'private-team-red')
  await bob.fill('#message', 'red standup at 10')
  await ada.waitForSelector('#presence li[data-team="red"] .member[data-id="bob"].typing')
  await bob.press('#message', 'Enter')
  await ada.waitForSelector('#messages li[data-channel="private-team-red"]:has(.content:text-is("red standup at 10"))')
  // Team blue's private room is refused to him by the channel guard.
  await bob.selectOption('#room-target', 'private-team-blue')
  await bob.fill('#message', 'hello blue?')
  await bob.press('#message', 'Enter')
  const refused = bob.locator('.toast[data-code="FORBIDDEN"]:has-text("private-team-blue")')
  await refused.waitFor()
  t.match(await refused.textContent(), /Only team blue/, 'the guard\'s reason')
  t.equal(await ada.locator('#messages li:has-text("hello blue?")').count(), 0, 'nothing was posted')

  // Conditional edit: both open the same task; Ada saves first; Bob's save is a CONFLICT
  // showing Ada's version, and he chooses to overwrite.
  await ada.click(`${taskRow('Fix login redirect')} button.edit`)
  await bob.click(`${taskRow('Fix login redirect')} button.edit`)
  await ada.fill('#editor-title', 'Fix login redirect (Ada)')
  await ada.click('#editor button[type="submit"]')
  await ada.waitForSelector('#editor', { state: 'hidden' })
  await bob.fill('#editor-priority', '4')
  await bob.click('#editor button[type="submit"]')
  await bob.waitForSelector('#editor-conflict:not([hidden])')
  t.equal(await bob.textContent('#conflict-theirs .value.title'), 'Fix login redirect (Ada)', 'the conflict shows the current value')
  await bob.waitForSelector('.toast[data-code="CONFLICT"]')
  await screenshot(t, bob, 'demo-conflict.png')
  await bob.click('#conflict-overwrite')
  await bob.waitForSelector('#editor', { state: 'hidden' })
  await ada.waitForSelector(`${taskRow('Fix login redirect')} td.priority:text-is("4")`)

  // The protected field never reached either page: not in the DOM, not on the wire.
  for (const [name, page] of [['ada', ada], ['bob', bob]] as const) {
    t.notOk((await page.content()).includes(SECRET_MARK), `${name}: no protected value in the DOM`)
    const wire = await wireText(page)
    t.ok(wire.includes('"subscribed"'), `${name}: the wire log holds the frames`)
    t.notOk(wire.includes(SECRET_MARK) || wire.includes('internalNote'), `${name}: no protected field in the wire log`)
  }

  // The inspector shows the connections and subscriptions those pages made.
  const inspector = await open('inspector')
  await inspector.goto(`${url}/realtime/inspector`)
  await inspector.waitForSelector('#status.live')
  await inspector.waitForSelector('#connections tr[data-user-id="ada"]')
  await inspector.waitForSelector('#connections tr[data-user-id="bob"]')
  t.match(await inspector.textContent('#connections tr[data-user-id="bob"]'), /private-team-red/, 'Bob\'s channels')
  await inspector.waitForSelector('#resources td.filter:has-text("$in")')
  t.match(await inspector.textContent('#resources'), /"team":\{"\$in":\[\]\}/, 'Bob\'s builder subscription with its effective filter')
  t.notOk((await inspector.content()).includes(SECRET_MARK), 'no protected value in the inspector')
  await screenshot(t, inspector, 'demo-inspector.png', { fullPage: true })

  t.same(problems, [], 'no console errors, no page errors')
})
