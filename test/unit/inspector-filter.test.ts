import t from 'tap'
import { protectedNames } from '../../src/access/protected-paths.js'
import { displayFilter } from '../../src/observability/inspector.js'

t.test('the inspector masks a forced value on any name of a protected field', async (t) => {
  // `profile` is declared (an `any`); s3db flattens its fields to undeclared top-level keys.
  const names = protectedNames(['profile'], new Set(['name', 'profile']))
  const shown = displayFilter({ profile_pin: '4242', 'profile.nick': 'x', PROFILE_SSN: { $gt: '1' }, name: 'ann' }, names)
  t.same(shown, { profile_pin: '[protected]', 'profile.nick': '[protected]', PROFILE_SSN: '[protected]', name: 'ann' })
  t.same(displayFilter({ name: 'ann' }, protectedNames([], null)), { name: 'ann' }, 'nothing protected: shown as is')
})
