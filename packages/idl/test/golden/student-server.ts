// Starter server for StudentSystem, written once by `unipc-idl init-server student.unipc`; edit freely.
// The generated base class lives in ./student.js (regenerate that one, never this file).

import { connect } from '@unipc/core'
import type { ServiceContext } from '@unipc/rpc-streams'
import { type Student, StudentSystemComponent, StudentSystemServer } from './student.js'

/**
 * The StudentSystem service. Replace each stub with the real work.
 */
export class StudentSystemImpl extends StudentSystemServer {
  override get_student(id: string, ctx: ServiceContext): Student | Promise<Student> {
    throw new Error('get_student is not implemented yet')
  }

  override update_student(info: Student, ctx: ServiceContext): void | Promise<void> {
    throw new Error('update_student is not implemented yet')
  }
}

/**
 * Connects as component 'StudentSystem' (UNIPC_URL picks the transport) and serves until SIGINT/SIGTERM.
 */
export async function main(): Promise<void> {
  const bus = await connect({ component: StudentSystemComponent })
  const server = new StudentSystemImpl()
  await server.start(bus)
  const shutdown = async (): Promise<void> => {
    await server.stop()
    await bus.close()
  }
  process.once('SIGINT', shutdown)
  process.once('SIGTERM', shutdown)
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, "/"))) await main()
