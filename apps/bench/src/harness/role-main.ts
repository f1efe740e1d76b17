/**
 * Entry point of a role process: opens the roles it was given with the system's adapter, tells the
 * harness it is ready, runs the measuring loop when it is the driver, and closes on `stop`.
 * Started by the harness as `node --conditions=source --import tsx role-main.ts <RoleSpec JSON>`.
 * @module
 */
import { scenarioDefs } from '../scenarios.js'
import type { Closable, RoleContext, System } from '../types.js'
import { creditPath, creditReporter, creditServer } from './credit.js'
import { driveCalls, driveFanout, driveStream, SubscriberCounter } from './drivers.js'
import type { ChildMessage, DriverResult, ParentMessage, RoleSpec } from './messages.js'
import { makePayload } from './payload.js'

const send = (msg: ChildMessage): void => {
  process.send?.(msg)
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? '{}') as RoleSpec
  const mod = (await import(spec.module)) as { systems?: System[] }
  const system = mod.systems?.find((s) => s.name === spec.system)
  if (!system) throw new Error(`${spec.module} exports no system named '${spec.system}'`)
  const def = scenarioDefs[spec.scenario]
  const opened: Closable[] = []
  const counters = new Map<number, SubscriberCounter>()
  let open: () => void = () => {}
  const openP = new Promise<void>((r) => {
    open = r
  })
  let go: () => void = () => {}
  const goP = new Promise<void>((r) => {
    go = r
  })
  let stopped = false
  let stop: () => void = () => {}
  const stopP = new Promise<void>((r) => {
    stop = () => {
      stopped = true
      r()
    }
  })
  process.on('message', (msg: ParentMessage) => {
    if (msg.type === 'open') open()
    else if (msg.type === 'go') go()
    else if (msg.type === 'finish') {
      for (const [index, c] of counters) {
        void c.finish(msg.firstSeq, msg.lastSeq).then((report) => send({ type: 'report', index, report }))
      }
    } else if (msg.type === 'stop') stop()
  })
  process.on('disconnect', () => stop())

  // Every process of a run starts at once and loads its libraries in parallel; roles open in order
  // (servers before clients) when the harness says so.
  await system.preload?.(spec.config as never)
  send({ type: 'loaded' })
  await Promise.race([openP, stopP])
  if (stopped) process.exit(0)
  const payload = makePayload(def.payloadSize)
  let drive: (() => Promise<DriverResult>) | undefined
  const config = spec.config as never
  for (const r of spec.roles) {
    const ctx: RoleContext = { index: r.index, count: r.count, scenario: spec.scenario, runId: spec.runId }
    const open = system[r.role]
    if (!open) throw new Error(`${system.name} has no '${r.role}' role`)
    const isDriver = r.role === def.driver
    switch (r.role) {
      case 'echoServer':
      case 'worker':
        opened.push(await system[r.role]!(config, ctx))
        break
      case 'caller':
      case 'sender': {
        const caller = await system[r.role]!(config, ctx)
        opened.push(caller)
        drive = () =>
          driveCalls(caller, payload, def.inFlight, spec.params, {
            withLatency: def.inFlight === 1,
            expectEcho: r.role === 'caller',
          })
        break
      }
      case 'subscriber': {
        const reporter = await creditReporter(creditPath(spec.runId), r.index)
        opened.push(reporter)
        const counter = new SubscriberCounter((seq) => reporter.report(seq))
        counters.set(r.index, counter)
        opened.push(await system.subscriber!(config, ctx, counter.onEvent))
        break
      }
      case 'publisher': {
        // The credit channel listens before any subscriber starts (the publisher's process is first).
        const credit = await creditServer(creditPath(spec.runId), def.second.count)
        opened.push(credit)
        const publisher = await system.publisher!(config, ctx)
        opened.push(publisher)
        drive = () => driveFanout(publisher, payload, spec.params, credit.link)
        break
      }
      case 'streamServer':
        opened.push(await system.streamServer!(config, ctx, payload))
        break
      case 'streamClient':
        drive = () =>
          driveStream((onEvent) => system.streamClient!(config, ctx, onEvent), def.payloadSize, spec.params)
        break
    }
    if (isDriver && !drive) throw new Error(`no driver for role ${r.role}`)
  }
  send({ type: 'ready' })
  if (drive) {
    await Promise.race([goP, stopP])
    const result = await drive()
    send({ type: 'result', result })
  }
  await stopP
  // Close in reverse order of opening: clients before servers in an in-process system.
  for (const c of opened.reverse()) {
    await Promise.race([Promise.resolve(c.close()).catch(() => {}), new Promise((r) => setTimeout(r, 3_000))])
  }
  process.exit(0)
}

main().catch((err: unknown) => {
  const message = err instanceof Error ? (err.stack ?? err.message) : String(err)
  send({ type: 'error', message: err instanceof Error ? err.message : String(err) })
  process.stderr.write(`${message}\n`)
  // Give the IPC message a moment to leave before exiting.
  setTimeout(() => process.exit(1), 100)
})
