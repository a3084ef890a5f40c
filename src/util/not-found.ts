/** True for the ways s3db (and the S3 clients under it) say "no such record". */
export function isNotFound (error: unknown): boolean {
  if (error === null || typeof error !== 'object') return false
  const e = error as { name?: unknown, code?: unknown, statusCode?: unknown }
  return e.name === 'NoSuchKey' || e.code === 'NoSuchKey' || e.name === 'NotFound' || e.statusCode === 404
}
