import t from 'tap'

// The example imports 's3db-realtime' (the built package): `npm test` builds before running tap.
const examplePath: string = '../../examples/chat/presence-chat.mjs'

t.test('examples/chat: two clients see each other join, type, talk and leave', async (t) => {
  const { runPresenceChat } = await import(examplePath) as { runPresenceChat: (log: (line: string) => void) => Promise<void> }
  const lines: string[] = []
  await runPresenceChat((line) => { lines.push(line) })
  t.same(lines, [
    'Ann joined presence-lobby; members: ann',
    'Bob joined; members: ann, bob',
    'Ann sees: bob joined',
    'Ann sees: bob is typing…',
    'Ann sees: bob says "Hi Ann!"',
    'Ann sees: bob left'
  ])
})
