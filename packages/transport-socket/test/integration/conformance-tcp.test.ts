import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { socketConformance } from '../helpers/conformance.js'

const token = 'conformance-token-0123456789'

socketConformance({
  name: 'socket-tcp',
  hubArgs: (dir) => {
    writeFileSync(join(dir, 'token'), token, { mode: 0o600 })
    return ['--listen', 'tcp://127.0.0.1:0', '--token-file', join(dir, 'token')]
  },
  clientUrl: (hubUrl) => `${hubUrl}?token=${token}`,
})
