import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createRequire } from 'node:module'
import type { Test } from 'tap'

interface S3rverInstance {
  run (): Promise<{ port: number, address: string }>
  close (): Promise<void>
}
type S3rverClass = new (options: Record<string, unknown>) => S3rverInstance

const require = createRequire(import.meta.url)

/** A local S3-compatible server (s3rver, in-process) on a free port, with one bucket; stopped at teardown. */
export async function startS3 (t: Test, bucket = 'realtime'): Promise<{ endpoint: string, connectionString: string, bucket: string }> {
  const S3rver = require('s3rver') as S3rverClass
  const directory = await mkdtemp(join(tmpdir(), 's3rver-'))
  const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory, configureBuckets: [{ name: bucket }] })
  const { port } = await server.run()
  t.teardown(async () => {
    await server.close()
    await rm(directory, { recursive: true, force: true })
  })
  const endpoint = `http://127.0.0.1:${port}`
  // s3rver accepts the S3RVER/S3RVER key pair; a custom endpoint implies path-style addressing.
  return { endpoint, connectionString: `http://S3RVER:S3RVER@127.0.0.1:${port}/${bucket}`, bucket }
}
