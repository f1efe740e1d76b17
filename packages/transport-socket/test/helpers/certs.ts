/**
 * Test helper: a throwaway CA, a hub certificate for 127.0.0.1/localhost and client certificates,
 * made with the openssl CLI.
 * @module
 */
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'

/** Paths of generated PEM files. */
export interface TestCerts {
  readonly ca: string
  readonly serverCert: string
  readonly serverKey: string
  readonly clientCert: string
  readonly clientKey: string
  /** A client certificate signed by a different CA (must be refused). */
  readonly strangerCert: string
  readonly strangerKey: string
}

function openssl(dir: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' })
}

function ca(dir: string, name: string): void {
  openssl(
    dir,
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    `/CN=${name}`,
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.crt`,
  )
}

function signed(dir: string, name: string, caName: string, ext: string): void {
  openssl(
    dir,
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    `/CN=${name}`,
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
  )
  writeFileSync(join(dir, `${name}.ext`), ext)
  openssl(
    dir,
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${caName}.crt`,
    '-CAkey',
    `${caName}.key`,
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    `${name}.ext`,
    '-out',
    `${name}.crt`,
  )
}

/** Generates the certificates into `dir`. */
export function makeCerts(dir: string): TestCerts {
  ca(dir, 'ca')
  ca(dir, 'otherca')
  signed(dir, 'server', 'ca', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n')
  signed(dir, 'client', 'ca', 'extendedKeyUsage=clientAuth\n')
  signed(dir, 'stranger', 'otherca', 'extendedKeyUsage=clientAuth\n')
  const p = (f: string): string => join(dir, f)
  return {
    ca: p('ca.crt'),
    serverCert: p('server.crt'),
    serverKey: p('server.key'),
    clientCert: p('client.crt'),
    clientKey: p('client.key'),
    strangerCert: p('stranger.crt'),
    strangerKey: p('stranger.key'),
  }
}
