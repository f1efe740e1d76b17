/**
 * Cancelling a call whose server is not known yet. A caller learns which server took its call from
 * the Accepted frame; when it gives up (abort, unsubscribe) before that frame arrived, the call's
 * entry stays in the pending table just long enough to forward a Cancel to the server once the
 * Accepted frame shows up, so the handler's signal fires even on a slow link.
 * @module
 */
import { FrameKind } from './frames.js'
import type { PendingCall, Runtime } from './runtime.js'

/** How long to wait for the Accepted frame of a cancelled call (the server may never have got it). */
const ACCEPT_GRACE_MS = 30_000

/**
 * Sends a Cancel for call `id` to its server as soon as the server's Accepted frame arrives.
 * Any other frame (the server already finished) or the grace period ends the wait.
 */
export function cancelWhenAccepted(rt: Runtime, id: number): void {
  const entry: PendingCall = {
    onFrame(frame) {
      clearTimeout(timer)
      if (rt.calls.get(id) === entry) rt.calls.delete(id)
      if (frame.kind === FrameKind.Accepted)
        rt.sendFrame(frame.server, { kind: FrameKind.Cancel, id, caller: rt.address })
    },
    fail() {
      clearTimeout(timer)
    },
  }
  const timer = setTimeout(() => {
    if (rt.calls.get(id) === entry) rt.calls.delete(id)
  }, ACCEPT_GRACE_MS)
  timer.unref()
  rt.calls.set(id, entry)
}
