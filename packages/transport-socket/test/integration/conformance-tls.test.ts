import { makeCerts } from '../helpers/certs.js'
import { socketConformance } from '../helpers/conformance.js'

socketConformance({
  name: 'socket-tls',
  hubArgs: (dir) => {
    const c = makeCerts(dir)
    return [
      '--listen',
      'tls://127.0.0.1:0',
      '--tls-cert',
      c.serverCert,
      '--tls-key',
      c.serverKey,
      '--tls-ca',
      c.ca,
    ]
  },
  clientUrl: (hubUrl, dir) => `${hubUrl}?ca=${dir}/ca.crt&cert=${dir}/client.crt&key=${dir}/client.key`,
})
