import { join } from 'node:path'
import { socketConformance } from '../helpers/conformance.js'

socketConformance({
  name: 'socket-unix',
  hubArgs: (dir) => ['--listen', `unix://${join(dir, 'hub.sock')}`],
  clientUrl: (hubUrl) => hubUrl,
  restartable: true,
})
