import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ProtocolError, silentLogger } from '@unipc/core/spi'
import { tempDir } from '@unipc/testkit'
import { describe, expect, it } from 'vitest'
import { encodeState, loadState, StateFileWriter } from '../../src/hub/state-file.js'

describe('state file', () => {
  it('round-trips maps and queued commands through an atomic write', async () => {
    const dir = tempDir()
    try {
      const path = join(dir.path, 'hub.state')
      const maps = new Map([['settings/cam', new Map([['exposure', new Uint8Array([1, 2])]])]])
      const queues = new Map([['cmd/cam', [{ data: new Uint8Array([7]), redelivered: true }]]])
      const w = new StateFileWriter(path, () => encodeState({ maps, queues }), silentLogger)
      w.changed()
      await w.flush()
      const back = loadState(path)
      expect([...(back.maps.get('settings/cam') ?? [])]).toEqual([['exposure', Buffer.from([1, 2])]])
      expect(back.queues.get('cmd/cam')).toEqual([{ data: Buffer.from([7]), redelivered: true }])
    } finally {
      dir.cleanup()
    }
  })

  it('treats a missing file as empty and refuses a corrupt one with ProtocolError', () => {
    const dir = tempDir()
    try {
      expect(loadState(join(dir.path, 'none')).maps.size).toBe(0)
      writeFileSync(join(dir.path, 'bad'), 'not msgpack at all')
      expect(() => loadState(join(dir.path, 'bad'))).toThrow(ProtocolError)
    } finally {
      dir.cleanup()
    }
  })
})
