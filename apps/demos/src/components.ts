/**
 * components (redis-ipc): a camera component with a command queue, settings it obeys, status it
 * publishes and events it emits; a controller drives it.
 * @module
 */
import type { Bus } from '@unipc/core'
import { filter, firstValueFrom } from 'rxjs'
import { connectAs, type Demo, type DemoContext, expectThat, show, waitUntil } from './demo.js'

interface SnapCommand {
  op: 'snap'
}
interface Frame {
  frame: number
  exposure: number
}

/** Starts the camera: obeys its `exposure` setting, takes `snap` commands, reports status, emits events. */
export async function startCamera(ctx: DemoContext): Promise<Bus> {
  const camera = await connectAs(ctx, 'camera')
  let exposure = 10
  let frames = 0
  await camera.status.update({ state: 'idle', exposure, frames })
  // watch() gives the current value first, then every change: the camera obeys its settings.
  camera.settings.watch<number>('camera', 'exposure').subscribe((value) => {
    if (typeof value !== 'number' || value === exposure) return
    exposure = value
    ctx.say('camera', `setting exposure is now ${value}; applying it`)
    void camera.status.update({ exposure })
  })
  await camera.commands.handle<SnapCommand, Frame>(async (cmd) => {
    if (cmd.op !== 'snap') throw new Error(`unknown command ${show(cmd)}`)
    await camera.status.update({ state: 'busy' })
    frames++
    await camera.events.publish('camera.snapped', { frame: frames, exposure })
    await camera.status.update({ state: 'idle', frames })
    return { frame: frames, exposure }
  })
  ctx.say('camera', 'online: working on its command queue, watching its settings')
  return camera
}

export const componentsDemo: Demo = {
  name: 'components',
  title: 'redis-ipc: a camera component (command queue, settings, status, events) and a controller',
  async run(ctx) {
    const camera = await startCamera(ctx)
    await using controller = await connectAs(ctx, 'controller')
    try {
      const events: unknown[] = []
      const sub = controller.events.subscribe<Frame>('camera.>')
      sub.subscribe((e) => {
        events.push(e.data)
        ctx.say('controller', `event ${e.channel} ${show(e.data)}`)
      })
      await sub.ready

      await controller.settings.set('camera', 'exposure', 30)
      ctx.say('controller', 'set camera.exposure = 30')
      // The camera reports the exposure it applied in its status.
      await firstValueFrom(controller.status.watch('camera').pipe(filter((s) => s.fields.exposure === 30)))
      ctx.say('controller', 'camera status shows exposure 30: it obeyed')

      for (let i = 0; i < 2; i++) {
        const reply = await controller.commands.send<Frame>('camera', { op: 'snap' }, { timeout: 5000 })
        ctx.say('controller', `sent {"op":"snap"}, reply ${show(reply)}`)
        expectThat(
          reply.frame === i + 1 && reply.exposure === 30,
          'the camera replies with frame and exposure',
        )
      }
      const bad = await controller.commands.send('camera', { op: 'zoom' }).catch((e: Error) => e)
      expectThat(bad instanceof Error, 'an unknown command fails')
      ctx.say('controller', `sent {"op":"zoom"}, failed as it should: ${(bad as Error).message}`)

      const status = await controller.status.get('camera')
      ctx.say('controller', `camera status: ${status.online ? 'online' : 'offline'} ${show(status.fields)}`)
      expectThat(status.online && status.fields.frames === 2, 'the camera is online with 2 frames')
      await waitUntil(() => events.length >= 2)
      sub.close()
    } finally {
      await camera.close()
    }
    const after = await controller.status.get('camera')
    ctx.say('controller', `camera closed; it now reads as ${after.online ? 'online' : 'offline'}`)
    expectThat(!after.online, 'a closed component reads as offline')
  },
}
