/** rediss://: TLS to a redis-server with a certificate from a throw-away CA. */
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ConnectionError, connect } from '@unipc/core'
import { freePort, startRedis, type TestRedis, tempDir } from '@unipc/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const certs = tempDir('unipc-tls-')
let redis: TestRedis
let tlsPort = 0
const file = (name: string): string => join(certs.path, name)

beforeAll(async () => {
  const ssl = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: certs.path, stdio: 'ignore' })
  }
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']
  ssl(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '1',
    '-subj',
    '/CN=unipc-test-ca',
  )
  ssl('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost')
  writeFileSync(file('san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n')
  ssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.crt',
    '-days',
    '1',
    '-extfile',
    'san.ext',
  )
  tlsPort = await freePort()
  redis = await startRedis({
    port: false,
    args: [
      '--tls-port',
      String(tlsPort),
      '--tls-cert-file',
      file('server.crt'),
      '--tls-key-file',
      file('server.key'),
      '--tls-ca-cert-file',
      file('ca.crt'),
      '--tls-auth-clients',
      'no',
    ],
  })
})
afterAll(async () => {
  await redis?.stop()
  certs.cleanup()
})

describe('rediss:// (TLS)', () => {
  it('carries commands and settings over TLS when the CA is given', async () => {
    const transport = { tls: { ca: readFileSync(file('ca.crt')) } }
    const url = `rediss://127.0.0.1:${tlsPort}`
    const a = await connect(url, { component: 'secure', transport })
    const b = await connect(url, { transport })
    try {
      await a.commands.handle((n: number) => n + 1)
      expect(await b.commands.send('secure', 1)).toBe(2)
      await b.settings.set('secure', 'k', 'v')
      expect(await a.settings.get('secure', 'k')).toBe('v')
    } finally {
      await a.close()
      await b.close()
    }
  })

  it('refuses a server whose certificate it cannot verify', async () => {
    const err = await connect(`rediss://127.0.0.1:${tlsPort}`).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ConnectionError)
  })
})
