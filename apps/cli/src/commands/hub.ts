/**
 * `unipc hub`: runs the socket transport's hub in the foreground.
 * @module
 */
import { defaultUrl } from '@unipc/core'
import { type Command, untilAborted } from '../cli/command.js'
import { CliError, Exit } from '../cli/exit.js'

interface HubModule {
  startHub(options: {
    listen: string[]
    stateFile?: string
    token?: string
    insecure?: boolean
  }): Promise<{ urls: readonly string[]; close(): Promise<void> }>
}

export const hubCommand: Command = {
  name: 'hub',
  summary: 'run a socket hub (the broker behind unix:, tcp: and tls: URLs)',
  usage: ['hub [--listen url]... [--state-file path] [--token t]'],
  description:
    'Runs the hub in the foreground until Ctrl-C / SIGTERM. Default: the embedded default socket\n' +
    '(the one buses use when no URL is given). Prints each URL it listens on. TCP listeners need a\n' +
    'token (--token or ?token= in the URL). --state-file keeps settings and queued commands across restarts.',
  options: {
    listen: {
      type: 'string',
      short: 'l',
      multiple: true,
      arg: 'url',
      description: 'unix:///path, tcp://host:port, tls://host:port (repeatable)',
    },
    'state-file': { type: 'string', arg: 'path', description: 'snapshot settings and pending commands here' },
    token: { type: 'string', arg: 'token', description: 'token clients must prove on TCP/TLS listeners' },
  },
  examples: [
    'unipc hub',
    'unipc hub --listen unix:///tmp/app.sock --state-file /tmp/app.state',
    'unipc hub --listen tcp://127.0.0.1:7400 --token s3cret',
  ],
  arity: { min: 0, max: 0 },
  async run(ctx) {
    let mod: Partial<HubModule>
    try {
      mod = (await import('@unipc/transport-socket')) as Partial<HubModule>
    } catch (cause) {
      throw new CliError(
        `the hub needs @unipc/transport-socket: run npm install @unipc/transport-socket (${(cause as Error).message})`,
        Exit.Unreachable,
      )
    }
    if (typeof mod.startHub !== 'function')
      throw new CliError('this @unipc/transport-socket has no startHub; update it', Exit.Unreachable)
    const given = ctx.options.listen as string[] | undefined
    const listen = given && given.length > 0 ? given : [plainDefault()]
    const hub = await mod.startHub({
      listen,
      stateFile: ctx.options['state-file'] as string | undefined,
      token: ctx.options.token as string | undefined,
    })
    for (const url of hub.urls) ctx.out.line(`hub listening on ${url}`)
    await untilAborted(ctx.signal)
    await hub.close()
    ctx.out.error('hub stopped')
    return 0
  },
}

/** The embedded default URL without its autostart flag. */
function plainDefault(): string {
  const url = new URL(defaultUrl())
  url.search = ''
  return url.href
}
