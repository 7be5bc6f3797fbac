import {describe, expect, it} from 'vitest'
import {escapeControlCharacters, renderRecord, renderTable} from '../../commands/lib/render-table.js'

// Names written before control characters were refused (or by another writer) must not
// drive the operator's terminal: every cell shows them as \u escapes.
describe('renderTable and renderRecord escape control characters', () => {
  const hostile = ['esc \u001b[2J\u001b[31mred', 'bell\u0007', 'cr\roverwrite', 'new\nline', 'del\u007f', 'csi \u009b31m', 'rtl \u202eevil', 'iso \u2066x\u2069', 'embed \u202a']

  it.each(hostile)('%j', (name) => {
    const table = renderTable([{name, slug: 'acme'}], [{header: 'name', value: (row) => row.name}, {header: 'slug', value: (row) => row.slug}])
    const record = renderRecord([['name', name], ['tags', [name]], ['meta', {name}]])
    for (const output of [table, record]) {
      expect(output).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/)
    }
    // One line per row: a newline in a cell cannot forge another row.
    expect(table.split('\n')).toHaveLength(2)
    expect(record.split('\n')).toHaveLength(3)
  })

  it('writes each as a visible \\uXXXX escape and leaves other text alone', () => {
    expect(escapeControlCharacters('a\u001bb\u202ec\u0085d')).toBe('a\\u001bb\\u202ec\\u0085d')
    expect(escapeControlCharacters('Zoë Ångström 山田 ☕')).toBe('Zoë Ångström 山田 ☕')
    expect(renderTable([{name: 'x\u001by'}], [{header: 'name', value: (row) => row.name}])).toBe('NAME\nx\\u001by')
  })
})
