/**
 * `unipc ls`: what the directory knows: components, services (methods and their servers) and
 * queues (workers, and depth where the transport can tell).
 * @module
 */
import { type BusEntry, listBuses, listComponents, queueDepth } from '@unipc/core'
import type { Command } from '../cli/command.js'
import { table, toJson } from '../cli/output.js'

export const lsCommand: Command = {
  name: 'ls',
  summary: 'list components, services and queues',
  usage: ['ls [--json]'],
  description:
    'Lists components (online or offline), services (methods with their number of servers and who\n' +
    'serves them) and queues (number of workers, waiting commands where the transport can count them,\n' +
    'else ?). Known from the directory every bus keeps; a process killed without closing its bus stays\n' +
    'listed until its component is seen offline.',
  options: {},
  examples: ['unipc ls', 'unipc ls --json | jq .services'],
  arity: { min: 0, max: 0 },
  async run(ctx) {
    await using bus = await ctx.connect()
    const components = await listComponents(bus.transport)
    const snaps = await Promise.all(components.map((c) => bus.status.get(c)))
    const online = new Map(snaps.map((s) => [s.component, s.online]))
    // Entries of components that are offline are left over from processes that died.
    const buses = (await listBuses(bus.transport)).filter((b) => !b.component || online.get(b.component))
    const services = group(buses, (b) => b.services)
    const queues = group(buses, (b) => b.queues)
    const depths = new Map<string, number | undefined>()
    for (const q of queues.keys()) depths.set(q, await queueDepth(bus.transport, q).catch(() => undefined))
    if (ctx.options.json) {
      ctx.out.line(
        toJson({
          components: snaps.map((s) => ({ name: s.component, online: s.online })),
          services: [...services].map(([name, owners]) => ({ name, servers: owners.length, by: owners })),
          queues: [...queues].map(([name, owners]) => ({
            name,
            workers: owners.length,
            depth: depths.get(name) ?? null,
          })),
        }),
      )
      return 0
    }
    const out = ctx.out
    out.line(out.paint('bold', `Components (${components.length})`))
    const componentRows = snaps.map((s) => [
      s.component,
      s.online ? out.paint('green', 'online') : out.paint('red', 'offline'),
    ])
    if (componentRows.length > 0)
      for (const l of table(out, ['COMPONENT', 'STATE'], componentRows)) out.line(`  ${l}`)
    out.line('')
    out.line(out.paint('bold', `Services (${services.size})`))
    const serviceRows = [...services].map(([m, o]) => [m, String(o.length), o.join(' ')])
    if (serviceRows.length > 0)
      for (const l of table(out, ['METHOD', 'SERVERS', 'BY'], serviceRows)) out.line(`  ${l}`)
    out.line('')
    out.line(out.paint('bold', `Queues (${queues.size})`))
    const queueRows = [...queues].map(([q, o]) => [q, String(o.length), String(depths.get(q) ?? '?')])
    if (queueRows.length > 0)
      for (const l of table(out, ['QUEUE', 'WORKERS', 'WAITING'], queueRows)) out.line(`  ${l}`)
    return 0
  },
}

/** Groups bus entries by each name they list; the owners are components or `pid@host`. */
function group(buses: readonly BusEntry[], names: (b: BusEntry) => readonly string[]): Map<string, string[]> {
  const out = new Map<string, string[]>()
  for (const b of buses)
    for (const n of names(b)) {
      const list = out.get(n) ?? []
      list.push(b.component ?? `pid ${b.pid}@${b.host}`)
      out.set(n, list)
    }
  return new Map([...out].sort(([a], [b]) => a.localeCompare(b)))
}
