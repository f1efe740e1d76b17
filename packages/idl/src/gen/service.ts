/**
 * Generates the service part of a spec: the rpc-streams definition with its fingerprint, the
 * descriptors of commands, events, settings and status, the typed client and the abstract server
 * base class (LibMedium's template: one method per member).
 * @module
 */
import type { CommandMember, EventMember, Member, MethodMember, Param, SpecFile, TypeRef } from '../ast.js'
import { literalExpr } from './decls.js'
import type { GeneratedFile } from './generated-file.js'
import { annotationTags, localName, propertyKey, timeoutOf } from './names.js'
import { errorsOf, type Scope } from './scope.js'
import { CORE, RPC, RUNTIME, type TypeWriter } from './types.js'

/** What the service writer needs. */
export interface ServiceContext {
  readonly file: GeneratedFile
  readonly types: TypeWriter
  readonly scope: Scope
  readonly spec: SpecFile
  /** `namespace.Service`: the name on the bus. */
  readonly busName: string
  /** The fingerprint computed in-process, printed into the file. */
  readonly fingerprint: string
  /** Every model of the spec and its imports (the service's `models`). */
  readonly models: readonly string[]
}

/** Writes the whole service part. */
export function writeService(c: ServiceContext): void {
  writeDefinition(c)
  writeClient(c)
  writeServer(c)
}

const methods = (c: ServiceContext): MethodMember[] => c.spec.members.filter((m) => m.kind === 'method')
const ofKind = <K extends Member['kind']>(c: ServiceContext, kind: K): Extract<Member, { kind: K }>[] =>
  c.spec.members.filter((m): m is Extract<Member, { kind: K }> => m.kind === kind)

function objectDescriptor(c: ServiceContext, params: readonly Param[]): string {
  const t = c.file.use('t', RPC)
  if (params.length === 0) return `${t}.object({})`
  return `${t}.object({ ${params.map((p) => `${propertyKey(p.name)}: ${c.types.descriptor(p.type)}`).join(', ')} })`
}

function writeDefinition(c: ServiceContext): void {
  const { file: f, spec } = c
  const S = spec.service!.name
  f.doc(
    `The component ${S} runs as unless told otherwise: connect its server with\n\`{ component: '${S}' }\` or give clients \`{ component }\`.`,
  )
  f.line(`export const ${S}Component = '${S}'`)
  f.line('')
  if (spec.socket) {
    f.doc(
      "The socket LibMedium's daemon listened on (`socket` in the spec). With unipc, run a hub there\n" +
        `(\`unipc hub --listen unix://${spec.socket.path}\`) and connect to \`unix://${spec.socket.path}\`.`,
    )
    f.line(`export const ${S}Socket = ${JSON.stringify(spec.socket.path)}`)
    f.line('')
  }
  f.doc(
    [spec.service!.doc, `Runtime definition of the ${S} service (its methods), for rpc-streams.`]
      .filter(Boolean)
      .join('\n\n'),
    annotationTags(spec.service!.annotations),
  )
  f.block(
    `export const ${S} = ${f.use('defineService', RPC)}({`,
    () => {
      f.line(`name: '${c.busName}',`)
      f.line(`version: '${spec.version?.value ?? 1}',`)
      if (spec.service!.doc) f.line(`doc: ${JSON.stringify(spec.service!.doc)},`)
      const models = c.models.map((m) => c.types.named(m, false))
      f.line(`models: [${models.join(', ')}],`)
      f.block(
        'methods: {',
        () => {
          for (const m of methods(c)) {
            f.block(
              `${propertyKey(m.name)}: {`,
              () => {
                f.line(`params: ${objectDescriptor(c, m.params)},`)
                if (m.result) f.line(`result: ${c.types.descriptor(m.result)},`)
                const errors = errorsOf(m, spec)
                if (errors.length > 0)
                  f.line(`errors: [${errors.map((e) => c.types.named(e, false)).join(', ')}],`)
                if (m.stream) f.line('stream: true,')
                if (m.doc) f.line(`doc: ${JSON.stringify(m.doc)},`)
              },
              '},',
            )
          }
        },
        '},',
      )
    },
    '})',
  )
  f.line('')
  f.doc(`Fingerprint of ${S}'s contract as computed by unipc-idl; equals \`${S}.fingerprint\`.`)
  f.line(`export const ${S}Fingerprint = '${c.fingerprint}'`)
  f.line('')
  f.doc(`Descriptors of ${S}'s commands, events, settings and status (the members that are not methods).`)
  f.block(
    `export const ${S}Members = {`,
    () => {
      const group = (name: string, items: readonly { name: string; d: string }[]): void => {
        if (items.length === 0) {
          f.line(`${name}: {},`)
          return
        }
        f.block(
          `${name}: {`,
          () => {
            for (const it of items) f.line(`${propertyKey(it.name)}: ${it.d},`)
          },
          '},',
        )
      }
      group(
        'commands',
        ofKind(c, 'command').map((m) => ({ name: m.name, d: objectDescriptor(c, m.params) })),
      )
      group(
        'events',
        ofKind(c, 'event').map((m) => ({ name: m.name, d: objectDescriptor(c, m.params) })),
      )
      group(
        'settings',
        ofKind(c, 'setting').map((m) => ({ name: m.name, d: c.types.descriptor(m.type) })),
      )
      group(
        'status',
        ofKind(c, 'status').map((m) => ({ name: m.name, d: c.types.descriptor(m.type) })),
      )
    },
    '} as const',
  )
  f.line('')
}

/** `a: string, b?: Color` — trailing optional parameters become optional arguments. */
function paramList(c: ServiceContext, params: readonly Param[]): string[] {
  let lastRequired = -1
  params.forEach((p, i) => {
    if (p.type.kind !== 'optional') lastRequired = i
  })
  return params.map((p, i) => {
    const optional = p.type.kind === 'optional' && i > lastRequired
    const type = optional && p.type.kind === 'optional' ? c.types.ts(p.type.inner) : c.types.ts(p.type)
    return `${localName(p.name)}${optional ? '?' : ''}: ${type}`
  })
}

/** `{ a, b: b_ }` — the parameters object from the positional arguments. */
function paramObject(params: readonly Param[]): string {
  if (params.length === 0) return '{}'
  return `{ ${params.map((p) => (localName(p.name) === p.name ? p.name : `${propertyKey(p.name)}: ${localName(p.name)}`)).join(', ')} }`
}

/** `{ a: number; b?: Color }` — an event payload. */
function payloadType(c: ServiceContext, params: readonly Param[]): string {
  if (params.length === 0) return 'Record<string, never>'
  return `{ ${params
    .map((p) =>
      p.type.kind === 'optional'
        ? `${propertyKey(p.name)}?: ${c.types.ts(p.type.inner)}`
        : `${propertyKey(p.name)}: ${c.types.ts(p.type)}`,
    )
    .join('; ')} }`
}

function resultType(c: ServiceContext, t: TypeRef | undefined): string {
  return t ? c.types.ts(t) : 'void'
}

function settingTypes(c: ServiceContext, m: Member & { kind: 'setting' }): { t: string; d: string } {
  const t = c.types.ts(m.type)
  const hasDefault = m.default !== undefined && m.default.kind !== 'null'
  const d = hasDefault || m.type.kind === 'optional' ? t : `${t} | undefined`
  return { t, d }
}

function memberDoc(f: GeneratedFile, m: Member, extra?: string): void {
  f.doc([m.doc, extra].filter(Boolean).join('\n\n'), annotationTags(m.annotations))
}

function writeClient(c: ServiceContext): void {
  const { file: f, spec } = c
  const S = spec.service!.name
  const Bus = f.use('Bus', CORE, true)
  const Binding = f.use('Binding', RUNTIME, true)
  f.doc(`Options of {@link ${S}Client}.`)
  f.block(`export interface ${S}ClientOptions extends ${f.use('ClientOptions', RPC, true)} {`, () => {
    f.doc(`The component the service runs as (default {@link ${S}Component}).`)
    f.line('readonly component?: string')
  })
  f.line('')
  f.doc(
    [
      spec.service!.doc,
      `Typed client of the ${S} service: methods return promises, stream methods and events\nObservables; settings and status have get/watch (and set for settings).`,
    ]
      .filter(Boolean)
      .join('\n\n'),
  )
  f.block(`export class ${S}Client {`, () => {
    f.doc('The rpc-streams client underneath (methods with one parameters object).')
    f.line(`readonly rpc: ${f.use('ServiceClient', RPC, true)}<typeof ${S}>`)
    f.doc('The component the service runs as.')
    f.line('readonly component: string')
    for (const m of ofKind(c, 'setting')) {
      const { t, d } = settingTypes(c, m)
      memberDoc(f, m, `Setting \`${m.name}\`: get, set and watch.`)
      f.line(`readonly ${m.name}: ${f.use('SettingHandle', RUNTIME, true)}<${t}, ${d}>`)
    }
    for (const m of ofKind(c, 'status')) {
      memberDoc(f, m, `Status \`${m.name}\`, published by the service: get and watch.`)
      f.line(`readonly ${m.name}: ${f.use('StatusHandle', RUNTIME, true)}<${c.types.ts(m.type)}>`)
    }
    f.line(`readonly #bus: ${Bus}`)
    f.line('')
    f.doc(
      `@param bus - a connected bus\n@param options - the service's component, timeout, schema mode, validation`,
    )
    f.block(`constructor(bus: ${Bus}, options: ${S}ClientOptions = {}) {`, () => {
      f.line(`const { component = ${S}Component, ...rpcOptions } = options`)
      f.line('this.#bus = bus')
      f.line('this.component = component')
      f.line(`this.rpc = ${f.use('createClient', RPC)}(bus, ${S}, rpcOptions)`)
      writeHandles(c, `{ bus: () => bus, component: () => component, resolve: ${S}.resolve }`, Binding)
    })
    for (const m of methods(c)) {
      f.line('')
      memberDoc(f, m, throwsDoc(m, spec))
      const args = paramList(c, m.params)
      const timeout = timeoutOf(m.annotations)
      const opts = (o: string): string =>
        timeout === undefined ? 'options' : `${f.use('withTimeout', RUNTIME)}<${o}>(options, ${timeout})`
      if (m.stream) {
        const o = f.use('StreamOptions', CORE, true)
        f.block(
          `${m.name}(${[...args, `options?: ${o}`].join(', ')}): ${f.use('UnipcObservable', CORE, true)}<${resultType(c, m.result)}> {`,
          () => {
            f.line(`return this.rpc.${m.name}(${paramObject(m.params)}, ${opts(o)})`)
          },
        )
      } else {
        const o = f.use('CallOptions', CORE, true)
        f.block(
          `${m.name}(${[...args, `options?: ${o}`].join(', ')}): Promise<${resultType(c, m.result)}> {`,
          () => {
            f.line(`return this.rpc.${m.name}(${paramObject(m.params)}, ${opts(o)})`)
          },
        )
      }
    }
    for (const m of ofKind(c, 'command')) {
      f.line('')
      memberDoc(f, m, `Command: queued for the service; resolves when the service has run it.`)
      const o = f.use('SendOptions', CORE, true)
      const timeout = timeoutOf(m.annotations)
      const opts =
        timeout === undefined ? 'options' : `${f.use('withTimeout', RUNTIME)}<${o}>(options, ${timeout})`
      f.block(
        `async ${m.name}(${[...paramList(c, m.params), `options?: ${o}`].join(', ')}): Promise<void> {`,
        () => {
          f.line(
            `await ${f.use('sendCommand', RUNTIME)}(this.#bus, this.component, '${m.name}', ${S}Members.commands.${m.name}, ${paramObject(m.params)}, ${S}.resolve, ${opts})`,
          )
        },
      )
    }
    for (const m of ofKind(c, 'event')) {
      f.line('')
      memberDoc(
        f,
        m,
        `Event: an Observable of every \`${m.name}\` the service publishes from now on (await \`.ready\`).`,
      )
      f.block(`${m.name}(): ${f.use('EventStream', RUNTIME, true)}<${payloadType(c, m.params)}> {`, () => {
        f.line(
          `return ${f.use('subscribeEvent', RUNTIME)}(this.#bus, this.component, '${m.name}', ${S}Members.events.${m.name}, ${S}.resolve)`,
        )
      })
    }
  })
  f.line('')
}

function writeHandles(c: ServiceContext, binding: string, Binding: string): void {
  const { file: f, spec } = c
  const S = spec.service!.name
  const settings = ofKind(c, 'setting')
  const statuses = ofKind(c, 'status')
  if (settings.length + statuses.length === 0) return
  f.line(`const binding: ${Binding} = ${binding}`)
  for (const m of settings) {
    const { t, d } = settingTypes(c, m)
    const fallback =
      m.default && m.default.kind !== 'null' ? literalExpr(m.default, m.type, c.scope) : 'undefined'
    f.line(
      `this.${m.name} = ${f.use('settingHandle', RUNTIME)}<${t}, ${d}>(binding, '${m.name}', ${S}Members.settings.${m.name}, () => ${fallback})`,
    )
  }
  for (const m of statuses)
    f.line(
      `this.${m.name} = ${f.use('statusHandle', RUNTIME)}(binding, '${m.name}', ${S}Members.status.${m.name})`,
    )
}

function writeServer(c: ServiceContext): void {
  const { file: f, spec } = c
  const S = spec.service!.name
  const Bus = f.use('Bus', CORE, true)
  const Ctx = f.use('ServiceContext', RPC, true)
  const Closable = f.use('Closable', CORE, true)
  const InvalidArgumentError = f.use('InvalidArgumentError', CORE)
  f.doc(
    `Base class of ${S} servers: implement one method per method and command, then \`start(bus)\`.\n` +
      'Events are published by calling their methods; settings and status are handles (status has `set`).',
  )
  f.block(`export abstract class ${S}Server implements AsyncDisposable {`, () => {
    for (const m of ofKind(c, 'setting')) {
      const { t, d } = settingTypes(c, m)
      memberDoc(f, m, `Setting \`${m.name}\`: get, set and watch.`)
      f.line(`readonly ${m.name}: ${f.use('SettingHandle', RUNTIME, true)}<${t}, ${d}>`)
    }
    for (const m of ofKind(c, 'status')) {
      memberDoc(f, m, `Status \`${m.name}\`: publish it with \`set\`.`)
      f.line(`readonly ${m.name}: ${f.use('StatusHandle', RUNTIME, true)}<${c.types.ts(m.type)}>`)
    }
    f.line(`#bus: ${Bus} | undefined`)
    f.line(`#running: ${Closable}[] = []`)
    f.line('')
    if (ofKind(c, 'setting').length + ofKind(c, 'status').length > 0) {
      f.block('constructor() {', () => {
        writeHandles(
          c,
          `{ bus: () => this.bus, component: () => this.component, resolve: ${S}.resolve }`,
          f.use('Binding', RUNTIME, true),
        )
      })
      f.line('')
    }
    f.doc('The bus this server runs on (after `start`).')
    f.block(`get bus(): ${Bus} {`, () => {
      f.line(`if (!this.#bus) throw new ${InvalidArgumentError}('${S}Server: call start(bus) first')`)
      f.line('return this.#bus')
    })
    f.line('')
    f.doc(`The component the service runs as: the bus's component, else {@link ${S}Component}.`)
    f.block('get component(): string {', () => {
      f.line(`return this.bus.component ?? ${S}Component`)
    })
    for (const m of methods(c)) {
      f.line('')
      memberDoc(f, m, throwsDoc(m, spec))
      const args = [...paramList(c, m.params).map(requiredArg), `ctx: ${Ctx}`].join(', ')
      const r = resultType(c, m.result)
      if (m.stream) {
        const SR = f.use('StreamReturn', RPC, true)
        f.line(`abstract ${m.name}(${args}): ${SR}<${r}> | Promise<${SR}<${r}>>`)
      } else f.line(`abstract ${m.name}(${args}): ${r} | Promise<${r}>`)
    }
    for (const m of ofKind(c, 'command')) {
      f.line('')
      memberDoc(f, m, 'Command handler: runs once per command sent to the service.')
      const args = [
        ...paramList(c, m.params).map(requiredArg),
        `ctx: ${f.use('CommandContext', CORE, true)}`,
      ].join(', ')
      f.line(`abstract ${m.name}(${args}): void | Promise<void>`)
    }
    for (const m of ofKind(c, 'event')) {
      f.line('')
      memberDoc(f, m, `Publishes the \`${m.name}\` event (validated first).`)
      f.block(`async ${m.name}(${paramList(c, m.params).join(', ')}): Promise<void> {`, () => {
        f.line(
          `await ${f.use('publishEvent', RUNTIME)}(this.bus, this.component, '${m.name}', ${S}Members.events.${m.name}, ${paramObject(m.params)}, ${S}.resolve)`,
        )
      })
    }
    f.line('')
    f.doc(
      'Serves the methods (and, when the service has commands, works on its command queue; that needs a bus\n' +
        'with a component). Call once; `stop()` undoes it.\n@param bus - a connected bus\n@param options - rpc-streams serve options',
    )
    f.block(
      `async start(bus: ${Bus}, options?: ${f.use('ServeOptions', RPC, true)}): Promise<void> {`,
      () => {
        f.line(`if (this.#bus) throw new ${InvalidArgumentError}('${S}Server: already started')`)
        f.line('this.#bus = bus')
        f.block(
          'try {',
          () => {
            f.block(`const impl: ${f.use('ServiceImpl', RPC, true)}<typeof ${S}> = {`, () => {
              for (const m of methods(c))
                f.line(
                  `${propertyKey(m.name)}: (p, ctx) => this.${m.name}(${[...m.params.map((p) => `p.${p.name}`), 'ctx'].join(', ')}),`,
                )
            })
            f.line(`this.#running.push(await ${f.use('serve', RPC)}(bus, ${S}, impl, options))`)
            const commands = ofKind(c, 'command')
            if (commands.length > 0) {
              f.block(
                `const dispatch = ${f.use('commandDispatcher', RUNTIME)}(`,
                () => {
                  f.block(
                    '{',
                    () => {
                      for (const m of commands) writeCommandEntry(c, m)
                    },
                    '},',
                  )
                  f.line(`${S}.resolve,`)
                },
                ')',
              )
              f.line('this.#running.push(await bus.commands.handle(dispatch))')
            }
          },
          '} catch (err) {',
        )
        f.line('  await this.stop()')
        f.line('  throw err')
        f.line('}')
      },
    )
    f.line('')
    f.doc('Stops serving. Idempotent.')
    f.block('async stop(): Promise<void> {', () => {
      f.line('const running = this.#running.splice(0)')
      f.line('await Promise.all(running.map((h) => h.close()))')
      f.line('this.#bus = undefined')
    })
    f.line('')
    f.doc('Same as `stop()`, for `await using`.')
    f.block('[Symbol.asyncDispose](): Promise<void> {', () => {
      f.line('return this.stop()')
    })
  })
  f.line('')
}

/** Server handlers take every argument (optional ones as `T | undefined`), followed by `ctx`. */
function requiredArg(arg: string): string {
  return arg.replace(/^([A-Za-z0-9_]+)\?: (.*)$/, '$1: $2 | undefined')
}

function writeCommandEntry(c: ServiceContext, m: CommandMember | EventMember): void {
  const S = c.spec.service!.name
  const args = [...m.params.map((p) => `a.${p.name} as ${c.types.ts(p.type)}`), 'ctx'].join(', ')
  c.file.line(
    `${propertyKey(m.name)}: { type: ${S}Members.commands.${m.name}, run: (a, ctx) => this.${m.name}(${args}) },`,
  )
}

function throwsDoc(m: MethodMember, spec: SpecFile): string | undefined {
  const errors = errorsOf(m, spec)
  return errors.length > 0 ? `@throws ${errors.map((e) => `{@link ${e}}`).join(', ')}` : undefined
}
