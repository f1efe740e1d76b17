/**
 * What the broker does with requests a dead server had accepted: fail each caller's call at once
 * with a ConnectionError that names the dead process, instead of letting it wait for its timeout.
 * @module
 */
import { lostCallReply } from '@unipc/core/spi'
import type { Client } from './broker.js'

/** The inbox frame for a request that died with `server` (undefined for fire-and-forget). */
export function lostRequestReply(
  request: Uint8Array,
  server: Client,
): { to: string; data: Uint8Array } | undefined {
  const who = server.component ? `component '${server.component}' (pid ${server.pid})` : `pid ${server.pid}`
  const reply = lostCallReply(request, `the shm peer serving this call died: ${who} exited before replying`)
  return reply && { to: reply.to, data: reply.frame }
}
