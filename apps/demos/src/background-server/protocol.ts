/**
 * The background server's service: init, exec and exit tasks, each carrying the token that the
 * starting script gave the server. Typed, validated and safe to decode (never pickle).
 * @module
 */
import { defineError, defineService, t } from '@unipc/rpc-streams'

/** The token did not match: the caller is not the one that started the server. */
export const BadToken = defineError('BadToken', {}, { message: () => 'wrong token', code: 'UNIPC_AUTH' })

/** A task before init, or an unknown operation. */
export const TaskRefused = defineError('TaskRefused', { reason: t.string() }, { message: (f) => f.reason })

const state = t.object({ counter: t.int32(), log: t.array(t.string()) })

/** The server's methods; its name carries the server's name so several can run side by side. */
export function backgroundService(name: string) {
  return defineService({
    name: `bg.${name}`,
    version: '1.0.0',
    methods: {
      init: {
        params: t.object({ token: t.string(), counter: t.int32() }),
        result: state,
        errors: [BadToken],
      },
      exec: {
        params: t.object({ token: t.string(), op: t.enum(['add', 'note']), arg: t.string() }),
        result: state,
        errors: [BadToken, TaskRefused],
      },
      exit: { params: t.object({ token: t.string() }), result: t.int32(), errors: [BadToken] },
    },
  })
}
