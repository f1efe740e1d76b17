/**
 * unipc's socket transport (@unipc/transport-socket) over a unix socket and over TCP with a token,
 * through a hub running in its own process (the `unipc-hub` bin), as deployed.
 * @module
 */
import { writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { codeMode } from '../harness/code-mode.js'
import type { SetupEnv, System } from '../types.js'
import { type UnipcConfig, unipcSystem } from './unipc.js'

const hubBin = (): string => {
  // The same code as the roles run: the built bin, or its TypeScript source (see code-mode.ts).
  const pkg = join(createRequire(import.meta.url).resolve('@unipc/transport-socket/package.json'), '..')
  return codeMode().mode === 'dist'
    ? join(pkg, 'dist', 'bin', 'unipc-hub.js')
    : join(pkg, 'src', 'bin', 'unipc-hub.ts')
}

async function startHub(env: SetupEnv, link: 'unix' | 'tcp'): Promise<UnipcConfig> {
  const dir = env.tempDir()
  if (link === 'unix') {
    const url = `unix://${join(dir, 'hub.sock')}`
    await env.spawnService(hubBin(), ['--listen', url, '--quiet'], /listening/)
    return { url }
  }
  const token = 'bench-token-not-secret'
  const tokenFile = join(dir, 'token')
  writeFileSync(tokenFile, token, { mode: 0o600 })
  const url = `tcp://127.0.0.1:${await env.freePort()}`
  await env.spawnService(hubBin(), ['--listen', url, '--token-file', tokenFile, '--quiet'], /listening/)
  return { url, transport: { token } }
}

export const systems: System[] = (['unix', 'tcp'] as const).map(
  (link) =>
    unipcSystem({
      name: `unipc socket ${link}`,
      link,
      package: '@unipc/transport-socket',
      description: `unipc over @unipc/transport-socket, ${link === 'unix' ? 'unix socket' : 'TCP with a token'}, hub in its own process`,
      setup: (env) => startHub(env, link),
    }) as System,
)
