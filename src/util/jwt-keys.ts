import { createPublicKey, KeyObject, X509Certificate } from 'node:crypto'

export const HMAC_ALGORITHMS: readonly string[] = ['HS256', 'HS384', 'HS512']
export const ASYMMETRIC_ALGORITHMS: readonly string[] = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA']
export const KNOWN_ALGORITHMS: readonly string[] = [...HMAC_ALGORITHMS, ...ASYMMETRIC_ALGORITHMS]

const RSA_ALGORITHMS: readonly string[] = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512']
/** JOSE ties each ES algorithm to one curve (RFC 7518 §3.4); other curves are not JOSE ES keys. */
const EC_CURVES: Readonly<Record<string, string>> = { prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512' }

/**
 * The JWS algorithms a public key can verify, or null for key types the verifier cannot use
 * (DSA, X25519, secp256k1, RSA-PSS-only keys ...).
 */
export function algorithmsForKey (key: KeyObject): readonly string[] | null {
  switch (key.asymmetricKeyType) {
    case 'rsa': return RSA_ALGORITHMS
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve
      const alg = curve === undefined ? undefined : EC_CURVES[curve]
      return alg === undefined ? null : [alg]
    }
    case 'ed25519':
    case 'ed448':
      return ['EdDSA']
    default: return null
  }
}

/** The algorithm assumed when `algorithms` is not given: the usual one for the key. */
export function defaultAlgorithmFor (key: KeyObject): string | null {
  const algorithms = algorithmsForKey(key)
  return algorithms === null ? null : algorithms[0] as string
}

function isJwkLike (value: unknown): boolean {
  return value !== null && typeof value === 'object' && ('kty' in value || 'keys' in value)
}

/**
 * True when an HMAC "secret" is really key material: a PEM block (anywhere in the text, as
 * leading junk must not hide it), an OpenSSH public key, a JWK/JWKS in JSON, or base64 DER of
 * a public key. Such text is often public, and an HMAC keyed with public text lets anyone forge
 * tokens (the classic RS256 -> HS256 confusion).
 */
export function looksLikeKeyMaterial (secret: string): boolean {
  const text = secret.trim()
  // The same key is often stored encoded once more (base64 of a PEM in an env var or a
  // Kubernetes secret, hex or base64url DER): look through one layer of encoding as well.
  return isKeyText(text) || decodings(text).some((bytes) => isKeyText(bytes.toString('latin1')) || isDerKey(bytes))
}

function isKeyText (text: string): boolean {
  if (/-----BEGIN [A-Z0-9 ]+-----/i.test(text)) return true
  if (/^(ssh-(rsa|dss|ed25519|ed448)|ecdsa-sha2-[a-z0-9-]+|sk-[a-z0-9-]+@openssh\.com) /.test(text.trim())) return true
  const trimmed = text.trim()
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(trimmed)
      if (isJwkLike(parsed) || (Array.isArray(parsed) && parsed.some(isJwkLike))) return true
    } catch {}
  }
  return false
}

/** The bytes `text` stands for if it is long base64, base64url or hex (key-sized encodings). */
function decodings (text: string): Buffer[] {
  const compact = text.replace(/\s+/g, '')
  const out: Buffer[] = []
  if (compact.length >= 40 && /^[0-9a-fA-F]+$/.test(compact) && compact.length % 2 === 0) out.push(Buffer.from(compact, 'hex'))
  if (compact.length >= 40 && /^[A-Za-z0-9+/_-]+={0,2}$/.test(compact)) out.push(Buffer.from(compact.replace(/-/g, '+').replace(/_/g, '/'), 'base64'))
  return out
}

function isDerKey (bytes: Buffer): boolean {
  for (const type of ['spki', 'pkcs1'] as const) {
    try {
      createPublicKey({ key: bytes, format: 'der', type })
      return true
    } catch {}
  }
  try {
    void new X509Certificate(bytes)
    return true
  } catch {}
  return false
}

/** An asymmetric public key from a PEM string or a KeyObject; a string error when it is not one. */
export function publicKeyFrom (value: unknown): KeyObject | string {
  if (value instanceof KeyObject) {
    if (value.type === 'secret') return 'is a secret key; give it as "secret" (HS256) instead'
    if (value.type === 'private') return 'is a private key; give the public key only'
    return value
  }
  if (typeof value !== 'string' || value.trim() === '') return 'must be a PEM public key (string) or a KeyObject'
  if (/PRIVATE KEY-----/.test(value)) return 'is a private key; give the public key only'
  if (!value.includes('-----BEGIN')) return 'must be a PEM public key ("-----BEGIN PUBLIC KEY-----")'
  try {
    return createPublicKey(value)
  } catch {
    return 'is not a readable PEM public key'
  }
}

/** SPKI PEM: what fast-jwt takes as a verification key (it does not take KeyObjects). */
export function pemOf (key: KeyObject): string {
  return key.export({ format: 'pem', type: 'spki' }).toString()
}
