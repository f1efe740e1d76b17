/**
 * A short narrated tour of the five facilities on one bus URL (memory: by default here; the full
 * demos in apps/demos replace this tour). Run: npm run demo [-- --url <url>]
 */
import { connect } from '@unipc/core'

const urlFlag = process.argv.indexOf('--url')
const url = urlFlag > 0 ? (process.argv[urlFlag + 1] as string) : 'memory://demo'
const say = (msg: string): void => console.log(`  ${msg}`)

console.log(`unipc tour on ${url}`)
await using camera = await connect(url, { component: 'camera', liveness: { interval: 200 } })
await using ui = await connect(url, { component: 'ui' })

console.log('1. commands')
await camera.commands.handle(async (cmd: { action: string }) => ({ done: cmd.action, at: new Date() }))
const reply = await ui.commands.send('camera', { action: 'snap' })
say(`ui sent {action:'snap'} to camera's queue; camera replied ${JSON.stringify(reply)}`)

console.log('2. settings')
const seen: unknown[] = []
const watch = ui.settings.watch('camera', 'resolution').subscribe((v) => seen.push(v))
await ui.settings.set('camera', 'resolution', '1080p')
await new Promise((r) => setTimeout(r, 20))
say(`watch saw ${JSON.stringify(seen)} (current value first, then the change)`)
watch.unsubscribe()

console.log('3. status')
await camera.status.update({ recording: true, fps: 30 })
const status = await ui.status.get('camera')
say(`camera is ${status.online ? 'online' : 'offline'} with ${JSON.stringify(status.fields)}`)

console.log('4. events')
const sub = ui.events.subscribe('camera.*')
await sub.ready
const first = new Promise((resolve) => sub.subscribe((e) => resolve(e)))
await camera.events.publish('camera.motion', { zone: 3 })
say(`subscriber of camera.* got ${JSON.stringify(await first)}`)
await sub.close()

console.log('5. requests')
await camera.requests.serve('camera.exposure', async (d: { ev: number }) => ({ ev: d.ev, ok: true }))
await camera.requests.serve('camera.frames', async function* (n: number) {
  for (let i = 0; i < n; i++) yield { frame: i }
})
say(`call -> ${JSON.stringify(await ui.requests.call('camera.exposure', { ev: 1.5 }))}`)
const frames: unknown[] = []
for await (const f of ui.requests.stream('camera.frames', 3)) frames.push(f)
say(`stream -> ${JSON.stringify(frames)}`)
try {
  await ui.requests.call('camera.nothing', {}, { timeout: 500 })
} catch (err) {
  say(`unknown method -> ${(err as Error).name} (${(err as { code: string }).code})`)
}
console.log('tour complete')
