/** A JWS header as far as key selection needs it. */
export interface JwtHeader {
  readonly alg: string
  readonly kid: string | null
}

/** Real headers are a few dozen bytes; anything much larger is not worth decoding. */
const MAX_HEADER_CHARS = 2048
const MAX_KID_CHARS = 256

/**
 * Reads `alg` and `kid` from a compact JWS without touching keys, so a driver can refuse a
 * token whose algorithm it does not allow (or, for JWKS, one that names no key) before any key
 * lookup or network fetch. null when the header is not a JSON object with a string `alg`.
 */
export function readHeader (token: string): JwtHeader | null {
  const dot = token.indexOf('.')
  if (dot <= 0 || dot > MAX_HEADER_CHARS) return null
  const part = token.slice(0, dot)
  if (!/^[A-Za-z0-9_-]+$/.test(part)) return null
  let header: unknown
  try {
    header = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'))
  } catch {
    return null
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) return null
  const { alg, kid } = header as { alg?: unknown, kid?: unknown }
  if (typeof alg !== 'string') return null
  if (kid !== undefined && (typeof kid !== 'string' || kid === '' || kid.length > MAX_KID_CHARS)) return null
  return { alg, kid: kid ?? null }
}
