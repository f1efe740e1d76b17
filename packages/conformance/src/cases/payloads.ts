/**
 * Payloads: binary, rich types, 8 MiB messages, unicode names, and the size limit.
 * @module
 */
import { InvalidArgumentError, MAX_NAME_LENGTH, PayloadTooLargeError } from '@unipc/core'
import { deferred, rejectionOf } from '../context.js'
import type { Registrar } from '../registrar.js'

/** Deterministic bytes of every value, so a corrupted byte shows up. */
function pattern(size: number): Uint8Array {
  const bytes = new Uint8Array(size)
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + (i >> 8)) & 0xff
  return bytes
}

/** Registers the payload cases. */
export function payloadCases(r: Registrar): void {
  const { expect } = r
  r.group('payloads', () => {
    r.test('binary data round-trips byte for byte, every byte value included', async (t) => {
      const method = t.name('echo')
      const server = await t.bus()
      await server.requests.serve(method, (d: Uint8Array) => d)
      const client = await t.bus()
      const bytes = Uint8Array.from({ length: 512 }, (_, i) => i % 256)
      const back = await client.requests.call<Uint8Array>(method, bytes)
      expect(back).toBeInstanceOf(Uint8Array)
      expect(Buffer.from(back).equals(Buffer.from(bytes))).toBe(true)
    })

    r.test('Date, Map, Set and BigInt values survive a round trip', async (t) => {
      const method = t.name('echo')
      const server = await t.bus()
      await server.requests.serve(method, (d: unknown) => d)
      const client = await t.bus()
      const value = {
        when: new Date('2024-02-29T12:34:56.789Z'),
        map: new Map<unknown, unknown>([
          ['a', 1],
          [2, { b: true }],
        ]),
        set: new Set(['x', 'y']),
        big: 2n ** 70n,
        nested: [new Map([['k', new Set([1])]])],
      }
      const back = await client.requests.call<typeof value>(method, value)
      expect(back.when).toBeInstanceOf(Date)
      expect(back.map).toBeInstanceOf(Map)
      expect(back.set).toBeInstanceOf(Set)
      expect(typeof back.big).toBe('bigint')
      expect(back).toEqual(value)
    })

    r.test('nulls, nested arrays, empty strings and floats round-trip', async (t) => {
      const method = t.name('echo')
      const server = await t.bus()
      await server.requests.serve(method, (d: unknown) => d)
      const client = await t.bus()
      const value = {
        a: null,
        b: [[], [1, [2, [3]]]],
        c: '',
        d: -0.125,
        e: Number.MAX_SAFE_INTEGER,
        f: false,
      }
      expect(await client.requests.call(method, value)).toEqual(value)
    })

    r.test(
      'an 8 MiB request and its 8 MiB reply arrive intact',
      async (t) => {
        const method = t.name('big')
        const server = await t.bus()
        await server.requests.serve(method, (d: Uint8Array) => {
          const copy = Uint8Array.from(d)
          copy.reverse()
          return copy
        })
        const client = await t.bus()
        const bytes = pattern(r.knobs.largePayload)
        const back = await client.requests.call<Uint8Array>(method, bytes, { timeout: r.knobs.timeout })
        expect(back.length).toBe(bytes.length)
        expect(Buffer.from(back).equals(Buffer.from(bytes.slice().reverse()))).toBe(true)
      },
      { slow: 2 },
    )

    r.test(
      'an 8 MiB command reaches its worker intact',
      async (t) => {
        const component = t.name('cmp')
        const worker = await t.bus({ component })
        await worker.commands.handle((d: Uint8Array) => ({
          length: d.length,
          sum: d.reduce((a, b) => a + b, 0),
        }))
        const sender = await t.bus()
        const bytes = pattern(r.knobs.largePayload)
        const expected = { length: bytes.length, sum: bytes.reduce((a, b) => a + b, 0) }
        expect(await sender.commands.send(component, bytes, { timeout: r.knobs.timeout })).toEqual(expected)
      },
      { slow: 2 },
    )

    r.test(
      'an 8 MiB event and an 8 MiB setting arrive intact',
      async (t) => {
        const base = t.name('ev')
        const bus = await t.bus()
        const bytes = pattern(r.knobs.largePayload)
        const sub = bus.events.subscribe<Uint8Array>(`${base}.big`)
        const rec = t.record(sub)
        await sub.ready
        await bus.events.publish(`${base}.big`, bytes)
        await rec.count(1)
        expect(Buffer.from(rec.values[0]!.data).equals(Buffer.from(bytes))).toBe(true)
        await bus.settings.set(base, 'blob', bytes)
        const back = await bus.settings.get<Uint8Array>(base, 'blob')
        expect(Buffer.from(back!).equals(Buffer.from(bytes))).toBe(true)
      },
      { slow: 2 },
    )

    r.test(
      'a payload over the size limit fails with PayloadTooLargeError and the bus keeps working',
      async (t) => {
        const method = t.name('echo')
        const server = await t.bus()
        await server.requests.serve(method, (d: unknown) => d)
        const client = await t.bus({ maxPayload: 1024 })
        const err = await rejectionOf(client.requests.call(method, new Uint8Array(4096)))
        expect(err).toBeInstanceOf(PayloadTooLargeError)
        expect(err).toMatchObject({ code: 'UNIPC_PAYLOAD_TOO_LARGE', limit: 1024 })
        expect(await client.requests.call(method, 'small')).toBe('small')
      },
    )

    r.test(
      'a reply over the server limit fails the call with PayloadTooLargeError, not the server',
      async (t) => {
        const method = t.name('inflate')
        const server = await t.bus({ maxPayload: 1024 })
        await server.requests.serve(method, (n: number) => new Uint8Array(n))
        const client = await t.bus()
        expect(await rejectionOf(client.requests.call(method, 4096))).toBeInstanceOf(PayloadTooLargeError)
        expect(await client.requests.call<Uint8Array>(method, 10)).toHaveLength(10)
      },
    )

    r.test('a payload over the limit on every facility is refused before sending', async (t) => {
      const component = t.name('cmp')
      const bus = await t.bus({ component, maxPayload: 512 })
      const big = new Uint8Array(2048)
      await expect(bus.commands.send(component, big)).rejects.toBeInstanceOf(PayloadTooLargeError)
      await expect(bus.events.publish(`${component}.x`, big)).rejects.toBeInstanceOf(PayloadTooLargeError)
      await expect(bus.settings.set(component, 'k', big)).rejects.toBeInstanceOf(PayloadTooLargeError)
      await expect(bus.status.update({ k: big })).rejects.toBeInstanceOf(PayloadTooLargeError)
    })

    r.test('unicode method names work for requests', async (t) => {
      const method = `größe-計算-${t.name('π')}`
      const server = await t.bus()
      await server.requests.serve(method, (s: string) => `${s}✓`)
      const client = await t.bus()
      expect(await client.requests.call(method, 'héllo 👋')).toBe('héllo 👋✓')
    })

    r.test('unicode component names work for commands', async (t) => {
      const component = `カメラ-${t.name('ç')}`
      const worker = await t.bus({ component })
      await worker.commands.handle((c: string) => c.toUpperCase())
      const sender = await t.bus()
      expect(await sender.commands.send(component, 'ärger')).toBe('ÄRGER')
    })

    r.test('unicode channel names work for events', async (t) => {
      const base = `événement-${t.name('ß')}`
      const bus = await t.bus()
      const got = deferred<unknown>()
      const sub = bus.events.subscribe(`${base}.*`)
      const rec = t.record(sub)
      await sub.ready
      rec.until((v) => v.length > 0).then((v) => got.resolve(v[0]), got.reject)
      await bus.events.publish(`${base}.日本`, '🎉')
      expect(await got.promise).toEqual({ channel: `${base}.日本`, data: '🎉' })
    })

    r.test('buses using the JSON codec exchange plain values', async (t) => {
      const method = t.name('json')
      const server = await t.bus({ codec: 'json' })
      await server.requests.serve(method, (d: { list: number[] }) => ({
        total: d.list.reduce((a, b) => a + b, 0),
      }))
      const client = await t.bus({ codec: 'json' })
      expect(await client.requests.call(method, { list: [1, 2, 3] })).toEqual({ total: 6 })
    })

    r.test('names of the maximum length in multi-byte characters work', async (t) => {
      const suffix = t.name('')
      const method = `${'日'.repeat(MAX_NAME_LENGTH - suffix.length)}${suffix}`
      const component = `${'ü'.repeat(MAX_NAME_LENGTH - suffix.length)}${suffix}`
      expect(method).toHaveLength(MAX_NAME_LENGTH)
      const server = await t.bus({ component })
      await server.requests.serve(method, () => 'long')
      await server.commands.handle(() => 'long too')
      await server.settings.set(component, method, 1)
      const client = await t.bus()
      expect(await client.requests.call(method)).toBe('long')
      expect(await client.commands.send(component, null)).toBe('long too')
      expect(await client.settings.get(component, method)).toBe(1)
    })

    r.test('a name over the maximum length is refused with InvalidArgumentError', async (t) => {
      const bus = await t.bus()
      const long = 'x'.repeat(MAX_NAME_LENGTH + 1)
      await expect(bus.requests.call(long)).rejects.toBeInstanceOf(InvalidArgumentError)
      await expect(bus.commands.send(long, 1)).rejects.toBeInstanceOf(InvalidArgumentError)
      await expect(bus.settings.set(long, 'k', 1)).rejects.toBeInstanceOf(InvalidArgumentError)
    })

    r.test('a channel of many tokens and a thousand characters works', async (t) => {
      const base = t.name('ev')
      const channel = `${base}.${Array.from({ length: 200 }, (_, i) => `tok${i}`).join('.')}`
      expect(channel.length).toBeGreaterThan(1000)
      const bus = await t.bus()
      const sub = bus.events.subscribe(`${base}.>`)
      const rec = t.record(sub)
      await sub.ready
      await bus.events.publish(channel, 'deep')
      await rec.count(1)
      expect(rec.values[0]).toEqual({ channel, data: 'deep' })
    })
  })
}
