import t from 'tap'
import { isPlainObject } from '../../src/util/paths.js'
import { userFromClaims } from '../../src/upgrade/user.js'

// userFromClaims builds the user with `new` (so V8 sizes it to the claims, src/upgrade/user.ts):
// what apps see must still be a plain object holding every claim.
t.test('a user from claims is a plain object with every claim, id last', async (t) => {
  const claims = { sub: 'ann', role: 'member', iat: 1, exp: 2, team: 'red' }
  const user = userFromClaims(claims)
  t.ok(user !== null && isPlainObject(user))
  t.equal(Object.getPrototypeOf(user), Object.prototype)
  t.equal(user?.constructor, Object)
  t.same(Object.keys(user ?? {}), ['sub', 'role', 'iat', 'exp', 'team', 'id'])
  t.strictSame(user, { ...claims, id: 'ann' })
  t.equal(JSON.stringify(user), JSON.stringify({ ...claims, id: 'ann' }))
  t.equal(userFromClaims({ id: 7, sub: 'x' })?.id, '7', 'id wins over sub, as a string')
  t.not(userFromClaims(claims), user, 'a new object per call')
})
