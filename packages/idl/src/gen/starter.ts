/**
 * The starter server that `unipc-idl init-server` writes once: a class extending the generated
 * server base with a stub per method and command, and a `main` that connects and starts it.
 * @module
 */
import { basename } from 'node:path'
import type { Param, SpecFile } from '../ast.js'
import type { LoadedSpec } from '../load.js'
import { GeneratedFile } from './generated-file.js'
import { localName } from './names.js'
import { moduleName, Scope } from './scope.js'
import { CORE, RPC, TypeWriter } from './types.js'

/** The file name of the starter server of a spec: `<module>-server.ts`. */
export function starterPath(spec: LoadedSpec): string {
  return `${moduleName(spec.root)}-server.ts`
}

/**
 * The text of the starter server of a spec with a service.
 * @throws Error when the spec has no service
 */
export function starterServer(spec: LoadedSpec): string {
  const root = spec.root
  const S = root.service?.name
  if (!S) throw new Error(`${root.path} has no service; add 'service Name' to get a server`)
  // Every declaration lives in the generated module, so the writer imports even the root's types.
  const none: SpecFile = { ...root, path: '<starter>', types: [], members: [] }
  const scope = new Scope(none, [root, ...spec.files.values()])
  const f = new GeneratedFile(starterPath(spec), [`${S}Impl`, 'main'])
  const types = new TypeWriter(f, scope)
  const gen = `./${moduleName(root)}.js`
  const Base = f.use(`${S}Server`, gen)
  const args = (params: readonly Param[], ctx: string): string =>
    [...params.map((p) => `${localName(p.name)}: ${types.ts(p.type)}`), `ctx: ${ctx}`].join(', ')
  f.doc(`The ${S} service. Replace each stub with the real work.`)
  f.block(`export class ${S}Impl extends ${Base} {`, () => {
    for (const m of root.members) {
      if (m.kind === 'method') {
        const r = m.result ? types.ts(m.result) : 'void'
        const ret = m.stream ? `${f.use('StreamReturn', RPC, true)}<${r}>` : `${r} | Promise<${r}>`
        f.block(`override ${m.name}(${args(m.params, f.use('ServiceContext', RPC, true))}): ${ret} {`, () => {
          f.line(`throw new Error('${m.name} is not implemented yet')`)
        })
        f.line('')
      } else if (m.kind === 'command') {
        f.block(`override ${m.name}(${args(m.params, f.use('CommandContext', CORE, true))}): void {`, () => {
          f.line(`throw new Error('${m.name} is not implemented yet')`)
        })
        f.line('')
      }
    }
  })
  f.line('')
  f.doc(`Connects as component '${S}' (UNIPC_URL picks the transport) and serves until SIGINT/SIGTERM.`)
  f.block('export async function main(): Promise<void> {', () => {
    f.line(`const bus = await ${f.use('connect', CORE)}({ component: ${f.use(`${S}Component`, gen)} })`)
    f.line(`const server = new ${S}Impl()`)
    f.line('await server.start(bus)')
    f.block('const shutdown = async (): Promise<void> => {', () => {
      f.line('await server.stop()')
      f.line('await bus.close()')
    })
    f.line("process.once('SIGINT', shutdown)")
    f.line("process.once('SIGTERM', shutdown)")
  })
  f.line('')
  f.line(
    'if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\\\/g, "/"))) await main()',
  )
  return f.toString(
    `// Starter server for ${S}, written once by \`unipc-idl init-server ${basename(root.path)}\`; edit freely.\n` +
      `// The generated base class lives in ${gen} (regenerate that one, never this file).`,
  )
}
