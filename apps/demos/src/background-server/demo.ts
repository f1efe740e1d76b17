/**
 * background-server (bgpy): a script starts a server that keeps running after the script is done;
 * a client initialises it, executes tasks that change its state, and terminates it, each task
 * authenticated by a token.
 * @module
 */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { createClient } from '@unipc/rpc-streams'
import { filter, firstValueFrom, timeout } from 'rxjs'
import { connectAs, type Demo, type DemoContext, expectThat, show, waitUntil } from '../demo.js'
import { BadToken, backgroundService } from './protocol.js'

const require = createRequire(import.meta.url)

/**
 * What bgpy's start script does: starts the server detached (its own session, no shared stdio) so
 * it outlives the script, waits until it is ready, and hands back the token.
 */
export async function startBackgroundServer(
  ctx: DemoContext,
  name: string,
): Promise<{ token: string; pid: number }> {
  const token = randomBytes(16).toString('hex')
  const server = fileURLToPath(new URL('./server.ts', import.meta.url))
  const args = ['--conditions=source', '--import', require.resolve('tsx'), server, '--name', name]
  if (ctx.url) args.push('--url', ctx.url)
  const child = spawn(process.execPath, args, {
    detached: true,
    stdio: 'ignore',
    env: { ...process.env, UNIPC_DEMO_TOKEN: token },
  })
  child.unref()
  const pid = child.pid ?? 0
  // Ready when its component reports ready (no pipe to the child: it must not depend on us).
  await using watcher = await connectAs(ctx)
  await firstValueFrom(
    watcher.status.watch(`bg-${name}`).pipe(
      filter((s) => s.online && s.fields.state === 'ready' && s.fields.pid === pid),
      timeout(20_000),
    ),
  )
  return { token, pid }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

export const backgroundServerDemo: Demo = {
  name: 'background-server',
  title: 'bgpy: a server that outlives the script that started it; init, exec and exit tasks with a token',
  crossProcess: true,
  async run(ctx) {
    const name = `demo${randomBytes(3).toString('hex')}`
    const { token, pid } = await startBackgroundServer(ctx, name)
    ctx.say('script', `started server bg-${name} (pid ${pid}) in the background and left it running`)
    await using client = await connectAs(ctx, 'bg-client')
    const server = createClient(client, backgroundService(name), { timeout: 5000 })
    try {
      const bad = await server.init({ token: 'guess', counter: 0 }).catch((e: unknown) => e)
      expectThat(bad instanceof BadToken, 'a wrong token is refused')
      ctx.say('client', `init with a wrong token: refused (${(bad as Error).message})`)
      ctx.say('client', `init(counter=10) -> ${show(await server.init({ token, counter: 10 }))}`)
      await server.exec({ token, op: 'add', arg: '5' })
      const state = await server.exec({ token, op: 'note', arg: 'hello' })
      ctx.say('client', `exec(add 5), exec(note hello) -> ${show(state)}`)
      expectThat(state.counter === 15 && state.log.length === 3, 'tasks change the server state')
    } finally {
      const exited = await server.exit({ token }).catch(() => undefined)
      if (exited === undefined && alive(pid)) process.kill(pid, 'SIGTERM')
      ctx.say('client', `exit -> server pid ${exited ?? pid} is stopping`)
    }
    await waitUntil(() => !alive(pid), 10_000)
    ctx.say('client', `server process ${pid} has exited`)
  },
}
