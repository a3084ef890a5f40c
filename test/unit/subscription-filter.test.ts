import t, { type Test } from 'tap'
import { effectiveSubscriptionFilter, forcedSubscriptionFilter } from '../../src/access/subscription-filter.js'
import { matchesFilter } from '../../src/access/filter.js'
import { ErrorCodes, ProtocolError } from '../../src/errors.js'
import type { RealtimeUser } from '../../src/types.js'
import { postsResource, recordingLog } from './doubles.js'

// Taken from the function itself, so the test follows the type wherever options live.
type ResolvedResource = Parameters<typeof effectiveSubscriptionFilter>[0]

function resource (guard: ResolvedResource['guard'] = {}, roles: string[] | null = null): ResolvedResource {
  return postsResource(guard, roles)
}

const ann: RealtimeUser = { id: 'ann', tenant: 'a', role: 'member' }

/** The error `promise` rejects with (fails the test when it resolves). */
async function refusal (t: Test, promise: Promise<unknown>): Promise<ProtocolError | undefined> {
  try {
    await promise
    t.fail('expected a refusal')
  } catch (error) {
    t.type(error, ProtocolError)
    return error as ProtocolError
  }
}

t.test('without guards the client filter is the whole filter', async (t) => {
  const { log } = recordingLog()
  const compiled = await effectiveSubscriptionFilter(resource(), ann, { status: 'open' }, log)
  t.same(compiled.filter, { status: 'open' })
  t.equal(compiled.impossible, false)
  t.equal(compiled.forced, undefined)
  t.same(await forcedSubscriptionFilter(resource(), ann, {}, log), { filter: null, impossible: false })
})

t.test('the subscribe guard is asked with the user and the client filter; its forced filter is ANDed in', async (t) => {
  const { log } = recordingLog()
  const asked: unknown[] = []
  const guarded = resource({
    subscribe: (user, filter) => { asked.push([user, filter]); return { tenant: user?.tenant as string } }
  })
  const compiled = await effectiveSubscriptionFilter(guarded, ann, { status: 'open' }, log)
  t.same(asked, [[ann, { status: 'open' }]])
  t.same(compiled.filter, { tenant: 'a', status: 'open' })
  t.same(compiled.forced?.filter, { tenant: 'a' })
  t.notOk(matchesFilter({ tenant: 'b', status: 'open' }, compiled), 'another tenant\'s record does not match')
})

t.test('the list guard\'s forced filter applies to subscriptions too', async (t) => {
  const { log } = recordingLog()
  const asked: unknown[] = []
  const guarded = resource({
    subscribe: () => ({ tenant: 'a' }),
    list: (_user, ctx) => { asked.push(ctx); return { owner: { id: 'ann' } } }
  })
  const compiled = await effectiveSubscriptionFilter(guarded, ann, { status: 'open' }, log)
  t.same(asked, [{ filter: { status: 'open' } }], 'list is asked with { filter }')
  t.same(compiled.filter, { tenant: 'a', 'owner.id': 'ann', status: 'open' }, 'nested forced filters become dot paths')
  t.same(compiled.forced?.filter, { tenant: 'a', 'owner.id': 'ann' })
})

t.test('a client filter contradicting a forced one matches nothing (the subscriber is told matchesNothing)', async (t) => {
  const { log } = recordingLog()
  const compiled = await effectiveSubscriptionFilter(resource({ subscribe: () => ({ tenant: 'a' }) }), ann, { tenant: 'b' }, log)
  t.equal(compiled.impossible, true)
  t.notOk(matchesFilter({ tenant: 'a' }, compiled))
  t.notOk(matchesFilter({ tenant: 'b' }, compiled))
})

t.test('subscribe and list guards forcing different values match nothing, whatever the client asks', async (t) => {
  const { log } = recordingLog()
  const guarded = resource({ subscribe: () => ({ tenant: 'a' }), list: () => ({ tenant: 'b' }) })
  t.same(await forcedSubscriptionFilter(guarded, ann, {}, log), { filter: { tenant: { $in: [] } }, impossible: true }, 'both hold: no tenant is both a and b')
  const compiled = await effectiveSubscriptionFilter(guarded, ann, {}, log)
  t.equal(compiled.impossible, true)
  t.notOk(matchesFilter({ tenant: 'a' }, compiled))
  t.notOk(matchesFilter({ tenant: 'b' }, compiled))
})

t.test('guards agreeing on a value are not a contradiction', async (t) => {
  const { log } = recordingLog()
  const guarded = resource({ subscribe: () => ({ tenant: 'a' }), list: async () => ({ tenant: 'a' }) })
  const compiled = await effectiveSubscriptionFilter(guarded, ann, {}, log)
  t.equal(compiled.impossible, false)
  t.ok(matchesFilter({ tenant: 'a' }, compiled))
})

t.test('a guard that says no refuses with FORBIDDEN', async (t) => {
  const { log } = recordingLog()
  const error = await refusal(t, effectiveSubscriptionFilter(resource({ subscribe: () => false }), ann, {}, log))
  t.equal(error?.code, ErrorCodes.FORBIDDEN)
  const byList = await refusal(t, effectiveSubscriptionFilter(resource({ list: () => false }), ann, {}, log))
  t.equal(byList?.code, ErrorCodes.FORBIDDEN, 'a subscription never shows what list would not')
})

t.test('a guard that throws refuses without leaking its message, and is logged', async (t) => {
  const { log, warnings } = recordingLog()
  const error = await refusal(t, effectiveSubscriptionFilter(resource({ subscribe: () => { throw new Error('db password wrong') } }), ann, {}, log))
  t.equal(error?.code, ErrorCodes.FORBIDDEN)
  t.notMatch(error?.message ?? '', /password/)
  t.equal(warnings.length, 1)
})

t.test('a guard returning an invalid filter refuses rather than guessing', async (t) => {
  const invalid = [
    { tenant: { $regex: 'a.*' } },
    { tenant: { $in: 'a' } },
    { tenant: { $in: Array.from({ length: 1001 }, (_, i) => `t${i}`) } },
    { $or: [{ tenant: 'a' }] }
  ]
  for (const forced of invalid) {
    const { log, warnings } = recordingLog()
    const error = await refusal(t, effectiveSubscriptionFilter(resource({ subscribe: () => forced }), ann, {}, log))
    t.equal(error?.code, ErrorCodes.FORBIDDEN, JSON.stringify(forced).slice(0, 40))
    t.equal(warnings.length, 1)
  }
})

t.test('a guard may force operators: a user\'s teams as $in, ANDed with the client\'s range', async (t) => {
  const { log } = recordingLog()
  const teams = Array.from({ length: 150 }, (_, i) => `team${i}`)
  const guarded = resource({ list: () => ({ teamId: { $in: teams } }) })
  const compiled = await effectiveSubscriptionFilter(guarded, ann, { score: { $gte: 10 } }, log)
  t.equal(compiled.impossible, false)
  t.same(compiled.forced?.filter, { teamId: { $in: [...teams].sort() } }, 'a guard may force more values than a client may send')
  t.ok(matchesFilter({ teamId: 'team7', score: 10 }, compiled))
  t.notOk(matchesFilter({ teamId: 'other', score: 10 }, compiled), 'outside the forced $in')
  t.notOk(matchesFilter({ teamId: 'team7', score: 9 }, compiled), 'outside the client range')
  const narrowed = await effectiveSubscriptionFilter(guarded, ann, { teamId: { $in: ['team1', 'elsewhere'] } }, log)
  t.same(narrowed.filter, { teamId: 'team1' }, 'the client narrows the forced $in to their intersection')
  const outside = await effectiveSubscriptionFilter(guarded, ann, { teamId: 'elsewhere' }, log)
  t.equal(outside.impossible, true, 'a team outside the forced list matches nothing')
  t.same(outside.filter, { teamId: { $in: [] } })
})

t.test('resource roles are checked before any guard runs', async (t) => {
  const { log } = recordingLog()
  let asked = false
  const adminsOnly = resource({ subscribe: () => { asked = true; return true } }, ['admin'])
  const error = await refusal(t, effectiveSubscriptionFilter(adminsOnly, ann, {}, log))
  t.equal(error?.code, ErrorCodes.FORBIDDEN)
  t.equal(asked, false)
  const anonymous = await refusal(t, effectiveSubscriptionFilter(adminsOnly, null, {}, log))
  t.equal(anonymous?.code, ErrorCodes.FORBIDDEN)
  const compiled = await effectiveSubscriptionFilter(adminsOnly, { id: 'root', roles: ['admin'] }, {}, log)
  t.equal(compiled.impossible, false)
})
