import { fileURLToPath } from 'node:url'
import { crossProcessTransports, type RunningTransport, spawnTs } from '@unipc/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startUnipc } from './unipc.js'

const demoMain = fileURLToPath(new URL('../../demos/src/main.ts', import.meta.url))

for (const transport of crossProcessTransports()) {
  describe.skipIf(transport.skip !== undefined)(
    `unipc monitor on ${transport.name}${transport.skip ? ` (skipped: ${transport.skip})` : ''}`,
    () => {
      let running: RunningTransport | undefined
      beforeAll(async () => {
        running = await transport.start()
      })
      afterAll(async () => {
        await running?.stop()
      })

      it('shows the traffic of the components demo run in another process', { timeout: 60_000 }, async () => {
        const url = running!.url
        const json = startUnipc(['monitor', '--json', '--url', url])
        const text = startUnipc(['monitor', 'camera', '--kind', 'command,reply,setting', '--url', url])
        try {
          await Promise.all([json.waitFor('stderr', /monitoring/), text.waitFor('stderr', /monitoring/)])
          const demo = spawnTs(demoMain, ['components', '--url', url])
          expect(await demo.exited, demo.stdout() + demo.stderr()).toBe(0)
          await json.waitFor('stdout', /"src":"controller".*"\$alive","data":"offline"/)
          await text.waitFor('stdout', /reply +camera → controller #3 ! Error: unknown command/)
        } finally {
          await Promise.all([json.stop(), text.stop()])
        }
        const records = json
          .stdout()
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as Record<string, unknown>)
        const has = (r: Record<string, unknown>): boolean =>
          records.some((x) => Object.entries(r).every(([k, v]) => JSON.stringify(x[k]) === JSON.stringify(v)))
        expect(has({ kind: 'setting', src: 'controller', dst: 'camera', key: 'exposure', data: 30 })).toBe(
          true,
        )
        expect(has({ kind: 'command', src: 'controller', dst: 'camera', id: 1, data: { op: 'snap' } })).toBe(
          true,
        )
        expect(
          has({ kind: 'reply', src: 'camera', dst: 'controller', id: 1, data: { frame: 1, exposure: 30 } }),
        ).toBe(true)
        expect(
          has({ kind: 'event', src: 'camera', dst: 'camera.snapped', data: { frame: 2, exposure: 30 } }),
        ).toBe(true)
        expect(has({ kind: 'status', src: 'camera', dst: 'camera', key: 'frames', data: 2 })).toBe(true)
        expect(has({ kind: 'status', src: 'camera', key: '$alive', data: 'online' })).toBe(true)
        expect(records.every((r) => typeof r.t === 'number')).toBe(true)

        const lines = text.stdout().trim().split('\n')
        expect(lines).toContainEqual(
          expect.stringMatching(/^\d\d:\d\d:\d\d\.\d{3} setting {2}controller → camera\.exposure = 30$/),
        )
        expect(lines).toContainEqual(
          expect.stringMatching(/^\d\d:\d\d:\d\d\.\d{3} command {2}controller → camera #1 \{"op":"snap"\}$/),
        )
        expect(lines).toContainEqual(
          expect.stringMatching(/ reply {4}camera → controller #2 \{"frame":2,"exposure":30\} \(\d+ ms\)$/),
        )
        // --kind filtered out events and status changes.
        expect(lines.some((l) => / (event|status) /.test(l))).toBe(false)
      })
    },
  )
}
