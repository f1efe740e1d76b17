/**
 * Starting a peer process for a cross-process case and waiting until it serves.
 * @module
 */
import type { ChildProcess } from 'node:child_process'
import { PEER_READY, type PeerNames, peerNames } from './peer-names.js'
import { defaultSpawn, peerScript } from './spawn.js'
import type { PeerOptions } from './types.js'

export { PEER_READY, type PeerNames, peerNames } from './peer-names.js'
export { peerScript } from './spawn.js'

/** A running peer. */
export interface PeerHandle {
  /** The names it serves under. */
  readonly names: PeerNames
  /** The child process. */
  readonly process: ChildProcess
  /** Resolves with the exit code or signal name once the process exited. */
  readonly exited: Promise<number | string>
  /** Sends `signal` (default SIGTERM) and waits for the exit. */
  kill(signal?: NodeJS.Signals): Promise<number | string>
}

/** What {@link startPeer} needs. */
export interface StartPeerOptions {
  /** The unique prefix of the peer's names. */
  readonly prefix: string
  /** Heartbeat interval of the peer's bus, in ms. */
  readonly livenessInterval: number
}

/**
 * Starts the peer script on `options.url` and resolves once it reports ready.
 * @throws Error with the peer's output when it exits or does not become ready in time
 */
export async function startPeer(peer: PeerOptions, options: StartPeerOptions): Promise<PeerHandle> {
  const url = typeof peer.url === 'function' ? peer.url() : peer.url
  const spawn = peer.spawn ?? defaultSpawn
  const preload = (peer.preload ?? []).flatMap((m) => ['--preload', m])
  const child = spawn(peerScript(), [url, options.prefix, String(options.livenessInterval), ...preload])
  let out = ''
  let err = ''
  child.stdout?.on('data', (d) => {
    out += String(d)
  })
  child.stderr?.on('data', (d) => {
    err += String(d)
  })
  const exited = new Promise<number | string>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null)
      resolve(child.exitCode ?? child.signalCode ?? -1)
    else child.once('exit', (code, signal) => resolve(code ?? signal ?? -1))
  })
  const handle: PeerHandle = {
    names: peerNames(options.prefix),
    process: child,
    exited,
    async kill(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      return exited
    },
  }
  const timeoutMs = peer.startTimeout ?? 20_000
  const ready = `${PEER_READY} ${options.prefix}`
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`peer not ready within ${timeoutMs} ms`)), timeoutMs)
      const check = (): void => {
        if (out.includes(ready)) {
          clearTimeout(timer)
          resolve()
        }
      }
      child.stdout?.on('data', check)
      void exited.then((code) => {
        clearTimeout(timer)
        reject(new Error(`peer exited with ${code} before it was ready`))
      })
      check()
    })
  } catch (cause) {
    await handle.kill('SIGKILL')
    throw new Error(`conformance: ${(cause as Error).message}\nstdout:\n${out}\nstderr:\n${err}`, { cause })
  }
  return handle
}
