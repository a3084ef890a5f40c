// Child processes with a promise-based IPC call, each bounded by a timeout.
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const here = (file) => fileURLToPath(new URL(`../${file}`, import.meta.url))

export async function spawnProc (file, args = [], execArgv = [], readyTimeoutMs = 60_000) {
  const child = fork(here(file), args, { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const pending = new Map()
  let nextId = 0
  let exited = false
  child.on('exit', (code) => {
    exited = true
    for (const { reject } of pending.values()) reject(new Error(`${file} exited with ${code}`))
    pending.clear()
  })
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${file} did not start`)), readyTimeoutMs)
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`${file} exited with ${code} while starting`)) })
    child.on('message', function ready (msg) {
      if (msg?.ready !== true) return
      clearTimeout(timer)
      child.off('message', ready)
      resolve()
    })
  })
  child.on('message', (msg) => {
    const waiter = pending.get(msg?.id)
    if (waiter === undefined) return
    pending.delete(msg.id)
    if (msg.ok) waiter.resolve(msg.result)
    else waiter.reject(new Error(`${file}: ${msg.error}`))
  })
  return {
    rpc (cmd, params = {}, timeoutMs = 180_000) {
      if (exited) return Promise.reject(new Error(`${file} is not running`))
      const id = ++nextId
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => { pending.delete(id); reject(new Error(`${file}: ${cmd} timed out`)) }, timeoutMs)
        pending.set(id, {
          resolve: (v) => { clearTimeout(timer); resolve(v) },
          reject: (e) => { clearTimeout(timer); reject(e) }
        })
        child.send({ id, cmd, ...params })
      })
    },
    async stop () {
      if (exited) return
      await this.rpc('close', {}, 10_000).catch(() => {})
      await new Promise((resolve) => {
        const timer = setTimeout(() => { child.kill('SIGKILL'); resolve() }, 5_000)
        child.once('exit', () => { clearTimeout(timer); resolve() })
        if (exited) { clearTimeout(timer); resolve() }
      })
    }
  }
}
