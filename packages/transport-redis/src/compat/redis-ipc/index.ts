/**
 * The `compat: 'redis-ipc'` wire mode: commands, results, settings, status, events and debug
 * messages use redis-ipc's key names and JSON messages, so unipc components and components built
 * on the redis-ipc C library or Python module talk to each other. Requests (which redis-ipc does
 * not have) use the native streams. The bus must use the JSON codec.
 * @module
 */
import type { RedisContext } from '../../context.js'
import { NativeMaps } from '../../native/maps.js'
import { NativeMessaging } from '../../native/messaging.js'
import type { Facilities } from '../../transport.js'
import { RedisIpcCommands } from './commands.js'
import { RedisIpcEvents } from './events.js'
import { RedisIpcMaps } from './maps.js'

/** Builds the redis-ipc facilities over an open context. */
export function createRedisIpcFacilities(ctx: RedisContext): Facilities {
  const native = new NativeMessaging(ctx)
  const commands = new RedisIpcCommands(ctx, (frame) => native.deliverToInbox(frame))
  return {
    queues: commands,
    maps: new RedisIpcMaps(ctx, new NativeMaps(ctx)),
    pubsub: new RedisIpcEvents(ctx),
    messaging: {
      get address() {
        return native.address
      },
      onMessage: (h) => native.onMessage(h),
      // Replies to redis-ipc senders go to their results queue; everything else to unipc inboxes.
      send: (to, data) =>
        RedisIpcCommands.isResultAddress(to) ? commands.sendResult(to, data) : native.send(to, data),
      serve: (method, onRequest) => native.serve(method, onRequest),
      dispatch: (method, data) => native.dispatch(method, data),
    },
    supports: { redelivery: false, persistence: true, durableEvents: false, crossProcess: true },
    open: () => native.open(),
    close: async () => {
      commands.close()
      await native.stopAll()
    },
  }
}
