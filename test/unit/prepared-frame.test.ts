import t from 'tap'
import { textFrame } from '../../src/connection/prepared-frame.js'

// Loaded alone (no module has required ws as CommonJS before): ws's ESM entry must give the
// frame builder, or the first fan-out throws.
t.test('a text frame: final, unmasked, with the UTF-8 length in the header', async (t) => {
  const [header, payload] = textFrame('hé')
  t.same([...header!], [0x81, 3], 'FIN + text opcode, 3 bytes (é is two)')
  t.equal(payload!.toString('utf8'), 'hé')
  const [long] = textFrame('x'.repeat(300))
  t.same([...long!], [0x81, 126, 1, 44], '16-bit length for 126..65535 bytes')
  t.equal(textFrame('x'.repeat(300)), textFrame('x'.repeat(300)), 'an equal string reuses the frame')
})
