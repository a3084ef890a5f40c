/** A compiled glob: `*` matches any run of characters (including none); nothing else is special. */
export interface Glob {
  readonly pattern: string
  /** Literal characters: more means more specific. */
  readonly specificity: number
  test (name: string): boolean
}

export function compileGlob (pattern: string): Glob {
  const escaped = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
  const regex = new RegExp(`^${escaped.join('.*')}$`)
  return {
    pattern,
    specificity: pattern.replace(/\*/g, '').length,
    test: (name) => regex.test(name)
  }
}
