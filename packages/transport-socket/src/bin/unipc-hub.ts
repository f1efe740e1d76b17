#!/usr/bin/env node
/**
 * `unipc-hub`: runs a hub in the foreground.
 *
 *   unipc-hub --listen unix:///run/unipc.sock --listen tcp://0.0.0.0:7400 --token-file F --state-file F
 *
 * Options: --listen URL (repeatable), --token-file F, --state-file F, --tls-cert F --tls-key F
 * --tls-ca F, --max-frame BYTES, --outbound-limit BYTES, --pid-file F, --quiet.
 * Prints one `unipc-hub listening on URL` line per listener; SIGINT/SIGTERM stop it cleanly.
 * @module
 */
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { type Hub, HubAlreadyRunningError, startHub } from '../index.js'

const { values } = parseArgs({
  options: {
    listen: { type: 'string', multiple: true },
    'token-file': { type: 'string' },
    'state-file': { type: 'string' },
    'tls-cert': { type: 'string' },
    'tls-key': { type: 'string' },
    'tls-ca': { type: 'string' },
    'max-frame': { type: 'string' },
    'outbound-limit': { type: 'string' },
    'pid-file': { type: 'string' },
    autostarted: { type: 'boolean' },
    quiet: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
})

if (values.help || !values.listen?.length) {
  process.stdout.write(
    'usage: unipc-hub --listen URL [--listen URL…] [--token-file F] [--state-file F]\n' +
      '                 [--tls-cert F --tls-key F --tls-ca F] [--max-frame BYTES] [--outbound-limit BYTES] [--pid-file F]\n',
  )
  process.exit(values.help ? 0 : 2)
}

const stamp = (): string => new Date().toISOString()
const log =
  (level: string) =>
  (message: string, ...details: unknown[]) => {
    const extra = details.map((d) => (d instanceof Error ? d.message : String(d))).join(' ')
    process.stderr.write(`${stamp()} ${level} ${message}${extra ? ` ${extra}` : ''}\n`)
  }
const quiet = (): void => {}
const logger = {
  debug: quiet,
  info: values.quiet ? quiet : log('info'),
  warn: log('warn'),
  error: log('error'),
}

let hub: Hub
try {
  hub = await startHub({
    listen: values.listen,
    token: values['token-file'] ? readFileSync(values['token-file'], 'utf8').trim() : undefined,
    stateFile: values['state-file'],
    tls: { cert: values['tls-cert'], key: values['tls-key'], ca: values['tls-ca'] },
    maxFrame: values['max-frame'] ? Number(values['max-frame']) : undefined,
    outboundLimit: values['outbound-limit'] ? Number(values['outbound-limit']) : undefined,
    logger,
  })
} catch (err) {
  // An auto-started hub that lost the race is not an error: the winner serves.
  if (err instanceof HubAlreadyRunningError && values.autostarted) process.exit(0)
  process.stderr.write(`unipc-hub: ${(err as Error).message}\n`)
  process.exit(1)
}

const pidFile = values['pid-file']
if (pidFile) writeFileSync(pidFile, `${process.pid}\n`, { mode: 0o600 })
for (const url of hub.urls) process.stdout.write(`unipc-hub listening on ${url}\n`)

let stopping = false
const stop = async (): Promise<void> => {
  if (stopping) return
  stopping = true
  await hub.close()
  if (pidFile) {
    try {
      unlinkSync(pidFile)
    } catch {}
  }
  process.exit(0)
}
process.on('SIGINT', () => void stop())
process.on('SIGTERM', () => void stop())
