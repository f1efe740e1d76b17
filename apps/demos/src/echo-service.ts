/**
 * echo-service (rpc-over-redis): a typed SmartEchoService served by three instances that share
 * the calls; the client checks the servers' schema before calling.
 * @module
 */
import type { Bus } from '@unipc/core'
import { createClient, defineService, serve, t } from '@unipc/rpc-streams'
import { connectAs, type Demo, expectThat, show } from './demo.js'

/** The service: echo, a reversed echo, and a streamed echo repeated n times. */
export const SmartEchoService = defineService({
  name: 'SmartEchoService',
  version: '1.0.0',
  methods: {
    echo: { params: t.object({ text: t.string() }), result: t.object({ text: t.string(), by: t.string() }) },
    reverse: { params: t.object({ text: t.string() }), result: t.string() },
    repeat: { params: t.object({ text: t.string(), times: t.uint8() }), result: t.string(), stream: true },
  },
})

export const echoServiceDemo: Demo = {
  name: 'echo-service',
  title: 'rpc-over-redis: a typed SmartEchoService, three instances sharing the calls',
  async run(ctx) {
    const instances: Bus[] = []
    const served = new Map<string, number>()
    try {
      for (const id of ['echo-1', 'echo-2', 'echo-3']) {
        const bus = await connectAs(ctx, id)
        instances.push(bus)
        await serve(bus, SmartEchoService, {
          async echo({ text }) {
            served.set(id, (served.get(id) ?? 0) + 1)
            // A little work, so concurrent calls spread over the instances.
            await new Promise((r) => setTimeout(r, 20))
            return { text, by: id }
          },
          reverse: ({ text }) => [...text].reverse().join(''),
          async *repeat({ text, times }) {
            for (let i = 0; i < times; i++) yield `${text} #${i + 1}`
          },
        })
      }
      ctx.say('servers', 'three instances serve SmartEchoService')
      await using client = await connectAs(ctx, 'echo-client')
      const echo = createClient(client, SmartEchoService, { timeout: 5000 })
      const check = await echo.$checkSchema()
      ctx.say('client', `schema check: ${check ? 'the servers match this client' : 'skipped'}`)
      const replies = await Promise.all(
        Array.from({ length: 12 }, (_, i) => echo.echo({ text: `hello ${i}` })),
      )
      expectThat(
        replies.every((r, i) => r.text === `hello ${i}`),
        'every echo comes back',
      )
      const by = [...served].map(([id, n]) => `${id}: ${n}`).join(', ')
      ctx.say('client', `12 concurrent echo calls, served by ${by}`)
      expectThat(served.size >= 2, 'the calls are shared between instances')
      const reversed = await echo.reverse({ text: 'unipc' })
      ctx.say('client', `reverse("unipc") = ${show(reversed)}`)
      const items: string[] = []
      for await (const item of echo.repeat({ text: 'hi', times: 3 })) items.push(item)
      ctx.say('client', `repeat("hi", 3) streamed ${show(items)}`)
      expectThat(items.length === 3, 'the stream delivers every item')
    } finally {
      await Promise.all(instances.map((b) => b.close()))
    }
  },
}
