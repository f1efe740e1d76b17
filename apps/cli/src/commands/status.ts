/**
 * `unipc status [component] [--watch]`: components with liveness and their status fields.
 * @module
 */
import { type Bus, COMPONENTS_MAP, listComponents, type StatusSnapshot } from '@unipc/core'
import type { Subscription } from 'rxjs'
import { type Command, intOption, type RunContext, untilAborted } from '../cli/command.js'
import { CliError, Exit } from '../cli/exit.js'
import { ago, clock, type Output, table, toJson } from '../cli/output.js'

export const statusCommand: Command = {
  name: 'status',
  summary: 'show components with liveness and their status',
  usage: ['status [component] [--watch] [--count n]'],
  description:
    'Without a component: a table of every component that ever connected (COMPONENT, STATE online or\n' +
    'offline, LAST SEEN, STATUS fields). With one: its liveness and fields (exit 5 if it was never seen).\n' +
    '--watch prints a line on every status or liveness change (of one component, or of all, including\n' +
    'components that connect for the first time while it runs).',
  options: {
    watch: { type: 'boolean', short: 'w', description: 'keep printing changes' },
    count: { type: 'string', short: 'n', arg: 'n', description: 'watch: exit after n lines' },
  },
  examples: ['unipc status', 'unipc status camera', 'unipc status camera --watch', 'unipc status --json'],
  arity: { min: 0, max: 1 },
  async run(ctx) {
    await using bus = await ctx.connect()
    const only = ctx.args[0]
    const known = await listComponents(bus.transport)
    if (only !== undefined && !known.includes(only)) {
      const snap = await bus.status.get(only)
      if (!snap.online && Object.keys(snap.fields).length === 0)
        throw new CliError(
          `component '${only}' was never seen on ${ctx.url}; see: unipc status`,
          Exit.NotFound,
        )
    }
    const names = only !== undefined ? [only] : known
    // Awaited here so that the bus stays open (await using) while watching.
    if (ctx.options.watch) return await watch(ctx, bus, names, only === undefined)
    const snaps = await Promise.all(names.map((c) => bus.status.get(c)))
    if (ctx.options.json) {
      for (const s of snaps) ctx.out.line(toJson(s))
      return 0
    }
    if (only !== undefined) {
      const s = snaps[0] as StatusSnapshot
      ctx.out.line(
        `${ctx.out.paint('bold', s.component)}  ${state(ctx.out, s.online)}  last seen ${ago(s.lastSeen)}`,
      )
      for (const [k, v] of Object.entries(s.fields)) ctx.out.line(`  ${k} = ${toJson(v)}`)
      return 0
    }
    if (snaps.length === 0) {
      ctx.out.error('no components yet: a bus connected with { component } appears here')
      return 0
    }
    const rows = snaps.map((s) => [s.component, state(ctx.out, s.online), ago(s.lastSeen), fields(s)])
    for (const l of table(ctx.out, ['COMPONENT', 'STATE', 'LAST SEEN', 'STATUS'], rows)) ctx.out.line(l)
    return 0
  },
}

function state(out: Output, online: boolean): string {
  return online ? out.paint('green', 'online') : out.paint('red', 'offline')
}

function fields(s: StatusSnapshot): string {
  const text = Object.entries(s.fields)
    .map(([k, v]) => `${k}=${toJson(v)}`)
    .join(' ')
  return text.length > 80 ? `${text.slice(0, 80)}…` : text
}

async function watch(ctx: RunContext, bus: Bus, names: readonly string[], all: boolean): Promise<number> {
  const count = intOption(ctx, 'count', 0)
  const done = new AbortController()
  let seen = 0
  const subs = new Map<string, Subscription>()
  const follow = (c: string): void => {
    if (subs.has(c) || done.signal.aborted) return
    subs.set(
      c,
      bus.status.watch(c).subscribe({
        next: (s) => {
          ctx.out.line(
            ctx.options.json
              ? toJson({ t: Date.now(), ...s })
              : `${ctx.out.paint('dim', clock(Date.now()))} ${s.component} ${state(ctx.out, s.online)} ${fields(s)}`,
          )
          if (count > 0 && ++seen >= count) done.abort()
        },
        error: () => done.abort(),
      }),
    )
  }
  for (const c of names) follow(c)
  // Watching everything: components that connect for the first time join in.
  const joined = all
    ? await bus.transport.maps.watch(COMPONENTS_MAP, (c, value) => {
        if (value !== undefined) follow(c)
      })
    : undefined
  if (all) for (const c of await listComponents(bus.transport)) follow(c)
  await untilAborted(AbortSignal.any([ctx.signal, done.signal]))
  await joined?.close()
  for (const s of subs.values()) s.unsubscribe()
  return 0
}
