import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { connect } from '@unipc/core'
import { AuthError } from '@unipc/core/spi'
import { tempDir, waitFor } from '@unipc/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeCerts, type TestCerts } from '../helpers/certs.js'
import { type HubProcess, startHubProcess } from '../helpers/hub-process.js'

describe('authentication', () => {
  const dir = tempDir('unipc-auth-')
  const token = 'the-right-token-5f2c'
  let hub: HubProcess
  let certs: TestCerts
  let tcp = ''
  let tls = ''
  beforeAll(async () => {
    certs = makeCerts(dir.path)
    writeFileSync(join(dir.path, 'token'), token, { mode: 0o600 })
    hub = await startHubProcess([
      '--listen',
      'tcp://127.0.0.1:0',
      '--listen',
      'tls://127.0.0.1:0',
      '--token-file',
      join(dir.path, 'token'),
      '--tls-cert',
      certs.serverCert,
      '--tls-key',
      certs.serverKey,
      '--tls-ca',
      certs.ca,
    ])
    ;[tcp = '', tls = ''] = hub.urls
  })
  afterAll(async () => {
    await hub?.stop()
    dir.cleanup()
  })

  it('refuses a wrong token with AuthError on the client and a log line on the hub', async () => {
    const err = await connect(`${tcp}?token=not-the-token`, { liveness: false }).catch((e) => e)
    expect(err).toBeInstanceOf(AuthError)
    expect(err.code).toBe('UNIPC_AUTH')
    await waitFor(() => /refused .*wrong token/.test(hub.child.stderr()))
  })

  it('refuses a client without a token before it can do anything', async () => {
    const err = await connect(tcp, { liveness: false, transport: { token: '' } }).catch((e) => e)
    expect(err).toBeInstanceOf(AuthError)
    expect(err.message).toMatch(/requires a token/)
  })

  it('accepts the right token given in the URL, in options or in UNIPC_TOKEN', async () => {
    const a = await connect(`${tcp}?token=${token}`, { liveness: false })
    const b = await connect(tcp, { liveness: false, transport: { token } })
    process.env.UNIPC_TOKEN = token
    const c = await connect(tcp, { liveness: false }).finally(() => delete process.env.UNIPC_TOKEN)
    await a.settings.set('auth', 'k', 'v')
    expect(await b.settings.get('auth', 'k')).toBe('v')
    expect(await c.settings.get('auth', 'k')).toBe('v')
    await Promise.all([a.close(), b.close(), c.close()])
  })

  it('accepts a TLS client certificate signed by the CA', async () => {
    const bus = await connect(tls, {
      liveness: false,
      // This hub has a token file, so its TLS listener wants the token as well as the certificate.
      transport: { token, tls: { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey } },
    })
    await bus.settings.set('auth', 'tls', 1)
    expect(await bus.settings.get('auth', 'tls')).toBe(1)
    await bus.close()
  })

  it('refuses a TLS client whose certificate another CA signed, and one without a certificate', async () => {
    const stranger = await connect(tls, {
      liveness: false,
      transport: { token, tls: { ca: certs.ca, cert: certs.strangerCert, key: certs.strangerKey } },
    }).catch((e) => e)
    expect(stranger).toBeInstanceOf(AuthError)
    const none = await connect(tls, { liveness: false, transport: { token, tls: { ca: certs.ca } } }).catch(
      (e) => e,
    )
    expect(none).toBeInstanceOf(AuthError)
    await waitFor(() => /refused a TLS client/.test(hub.child.stderr()))
  })
})
