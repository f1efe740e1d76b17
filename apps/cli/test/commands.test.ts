import { type Bus, connect } from '@unipc/core'
import { crossProcessTransports, type RunningTransport, tempDir } from '@unipc/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { helpText } from '../src/cli/command.js'
import { makeOutput } from '../src/cli/output.js'
import { commands } from '../src/index.js'
import { startUnipc, unipc } from './unipc.js'

const socket = crossProcessTransports().find((t) => t.name === 'socket')!
const ESC = String.fromCharCode(27)

// Every test spawns the binary (a Node process with tsx): generous timeouts for a loaded CI machine.
describe('unipc without a transport', { timeout: 60_000 }, () => {
  it('prints help for every subcommand and exits 0', async () => {
    // Every subcommand's help text, built as the binary builds it; two of them through the binary.
    for (const c of commands) {
      const text = helpText(c, makeOutput(true))
      expect(text).toContain(`Usage: unipc ${c.name}`)
      expect(text).toContain('Examples:')
      expect(text).toContain('Exit codes: 0 ok')
    }
    const [main, send] = await Promise.all([unipc(['--help']), unipc(['send', '--help'])])
    expect(main.code).toBe(0)
    for (const c of commands) expect(main.stdout).toContain(`  ${c.name}`)
    expect(send.code).toBe(0)
    expect(send.stdout).toBe(`${helpText(commands.find((c) => c.name === 'send')!, makeOutput(true))}\n`)
    expect(send.stdout).not.toContain(ESC)
  })

  it('rejects bad usage with exit 2 and one line that says what to do', async () => {
    const [unknown, badJson, missing, badOption] = await Promise.all([
      unipc(['frobnicate']),
      unipc(['send', 'camera', '{oops', '--url', 'memory:']),
      unipc(['send', 'camera']),
      unipc(['status', '--bogus']),
    ])
    for (const r of [unknown, badJson, missing, badOption]) {
      expect(r.code).toBe(2)
      expect(r.stderr.trim().split('\n')).toHaveLength(1)
      expect(r.stderr).toMatch(/--help/)
    }
    expect(badJson.stderr).toContain('not valid JSON')
  })

  it('exits 3 with a hint when the transport cannot be reached', async () => {
    const dir = tempDir()
    try {
      const r = await unipc(['status', '--url', `unix://${dir.path}/nobody.sock`])
      expect(r.code).toBe(3)
      expect(r.stderr).toContain('unipc hub')
    } finally {
      dir.cleanup()
    }
  })
})

describe.skipIf(socket.skip !== undefined)(
  `unipc subcommands on a socket hub${socket.skip ? ` (skipped: ${socket.skip})` : ''}`,
  { timeout: 60_000 },
  () => {
    let hub: RunningTransport
    let camera: Bus
    let helper: Bus
    const env = (): Record<string, string> => ({ UNIPC_URL: hub.url })

    beforeAll(async () => {
      hub = await socket.start()
      camera = await connect(hub.url, { component: 'camera' })
      helper = await connect(hub.url)
      await camera.status.update({ state: 'idle' })
      await camera.commands.handle((c: { op: string }) => {
        if (c.op === 'fail') throw Object.assign(new Error('lens cap on'), { code: 'LENS' })
        return { done: c.op }
      })
      await helper.requests.serve('echo', (d) => d)
      await helper.requests.serve('count', (d: { n: number }) => Array.from({ length: d.n }, (_, i) => i + 1))
    })
    afterAll(async () => {
      await camera?.close()
      await helper?.close()
      await hub?.stop()
    })

    it('send prints the reply; a failing handler exits 1; nobody to take it times out with exit 4', async () => {
      const [ok, failed, timeout] = await Promise.all([
        unipc(['send', 'camera', '{"op":"snap"}'], env()),
        unipc(['send', 'camera', '{"op":"fail"}'], env()),
        unipc(['send', 'nobody', '{}', '--timeout', '300'], env()),
      ])
      expect(ok).toMatchObject({ code: 0, stdout: '{"done":"snap"}\n' })
      expect(failed.code).toBe(1)
      expect(failed.stderr).toContain('lens cap on')
      expect(timeout.code).toBe(4)
    })

    it('call prints the result, streams with --stream, exits 5 for a method nobody serves', async () => {
      const [ok, stream, none] = await Promise.all([
        unipc(['call', 'echo', '{"a":[1,2]}'], env()),
        unipc(['call', 'count', '{"n":3}', '--stream'], env()),
        unipc(['call', 'nobody.serves', '1'], env()),
      ])
      expect(ok).toMatchObject({ code: 0, stdout: '{"a":[1,2]}\n' })
      expect(stream).toMatchObject({ code: 0, stdout: '1\n2\n3\n' })
      expect(none.code).toBe(5)
    })

    it('publish reaches subscribers; subscribe prints events until --count', async () => {
      const got: unknown[] = []
      const sub = helper.events.subscribe('cli.>')
      sub.subscribe((e) => got.push(e.data))
      await sub.ready
      expect((await unipc(['publish', 'cli.test', '{"x":1}'], env())).code).toBe(0)
      await expect.poll(() => got).toEqual([{ x: 1 }])
      await sub.close()

      const live = startUnipc(['subscribe', 'cli.>', '--json', '--count', '2'], env())
      await live.waitFor('stderr', /subscribed to cli\.>/)
      await helper.events.publish('cli.a', 1)
      await helper.events.publish('other.b', 2)
      await helper.events.publish('cli.c.d', 3)
      const r = await live.exited
      expect(r.code).toBe(0)
      const lines = r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l))
      expect(lines.map((l) => [l.channel, l.data])).toEqual([
        ['cli.a', 1],
        ['cli.c.d', 3],
      ])
    })

    it('settings set, get (exit 5 when unset) and watch (current value first, then changes)', async () => {
      expect((await unipc(['settings', 'set', 'camera', 'exposure', '20'], env())).code).toBe(0)
      expect((await unipc(['settings', 'set', 'camera', 'mode', 'night'], env())).code).toBe(0)
      expect(await camera.settings.get('camera', 'exposure')).toBe(20)
      const [one, all, unset] = await Promise.all([
        unipc(['settings', 'get', 'camera', 'mode'], env()),
        unipc(['settings', 'get', 'camera'], env()),
        unipc(['settings', 'get', 'camera', 'zoom'], env()),
      ])
      expect(one.stdout).toBe('"night"\n')
      expect(JSON.parse(all.stdout)).toEqual({ exposure: 20, mode: 'night' })
      expect(unset.code).toBe(5)

      const watch = startUnipc(['settings', 'watch', 'camera', 'exposure', '--count', '2'], env())
      await watch.waitFor('stdout', /camera\.exposure = 20/)
      await helper.settings.set('camera', 'exposure', 25)
      const r = await watch.exited
      expect(r.code).toBe(0)
      expect(r.stdout).toMatch(/camera\.exposure = 20\n.*camera\.exposure = 25\n$/)
    })

    it('status shows a table with liveness, one component in detail, exit 5 for an unknown one, and --watch', async () => {
      const [tableRun, one, json, unknown] = await Promise.all([
        unipc(['status'], env()),
        unipc(['status', 'camera'], env()),
        unipc(['status', 'camera', '--json'], env()),
        unipc(['status', 'ghost'], env()),
      ])
      expect(tableRun.code).toBe(0)
      expect(tableRun.stdout).toMatch(/^COMPONENT\s+STATE\s+LAST SEEN\s+STATUS/)
      expect(tableRun.stdout).toMatch(/camera\s+online\s+\S+ ago\s+state="idle"/)
      expect(one.stdout).toContain('state = "idle"')
      expect(JSON.parse(json.stdout)).toMatchObject({
        component: 'camera',
        online: true,
        fields: { state: 'idle' },
      })
      expect(unknown.code).toBe(5)

      const watch = startUnipc(['status', 'camera', '--watch', '--count', '2'], env())
      await watch.waitFor('stdout', /camera online state="idle"/)
      await camera.status.update({ state: 'busy' })
      const r = await watch.exited
      expect(r.code).toBe(0)
      expect(r.stdout).toContain('state="busy"')
    })

    it('status --watch without a component also follows components that connect later', async () => {
      const watch = startUnipc(['status', '--watch', '--json'], env())
      await watch.waitFor('stdout', /"component":"camera"/)
      await using newcomer = await connect(hub.url, { component: 'newcomer' })
      await newcomer.status.update({ hello: 1 })
      await watch.waitFor('stdout', /"component":"newcomer","online":true,"fields":\{"hello":1\}/)
      expect((await watch.stop('SIGTERM')).code).toBe(0)
    })

    it('ls lists components, services with their servers, and queues with workers', async () => {
      const r = await unipc(['ls'], env())
      expect(r.code).toBe(0)
      expect(r.stdout).toMatch(/camera\s+online/)
      expect(r.stdout).toMatch(/echo\s+1\s+pid \d+@/)
      expect(r.stdout).toMatch(/camera\s+1\s+(\d+|\?)/)
      const json = JSON.parse((await unipc(['ls', '--json'], env())).stdout)
      expect(json.services.map((s: { name: string }) => s.name)).toEqual(['count', 'echo'])
      expect(json.queues).toEqual([expect.objectContaining({ name: 'camera', workers: 1 })])
    })

    it('colours only when forced, never when piped', async () => {
      const [piped, forced] = await Promise.all([
        unipc(['status'], env()),
        unipc(['status'], { ...env(), FORCE_COLOR: '1' }),
      ])
      expect(piped.stdout).not.toContain(ESC)
      expect(forced.stdout).toContain(`${ESC}[`)
    })

    it('hub runs a hub others can use, and stops with exit 0 on SIGTERM', async () => {
      const dir = tempDir()
      try {
        const url = `unix://${dir.path}/cli-hub.sock`
        const live = startUnipc(['hub', '--listen', url])
        await live.waitFor('stdout', /hub listening on unix:/)
        await using bus = await connect(url, { component: 'probe' })
        await bus.settings.set('probe', 'k', 1)
        expect(await bus.settings.get('probe', 'k')).toBe(1)
        await bus.close()
        const r = await live.stop('SIGTERM')
        expect(r.code).toBe(0)
      } finally {
        dir.cleanup()
      }
    })
  },
)
