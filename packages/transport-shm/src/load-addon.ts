/**
 * Loads the native addon (a prebuilt binary from prebuilds/ or the one node-gyp built at install).
 * Without it, importing the package fails with an error that says what to install.
 * @module
 */
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { ErrorCode, UnipcError } from '@unipc/core/spi'
import type { NativeAddon } from './native.js'

const require = createRequire(import.meta.url)
const packageRoot = fileURLToPath(new URL('..', import.meta.url))

function load(): NativeAddon {
  try {
    return (require('node-gyp-build') as (dir: string) => NativeAddon)(packageRoot)
  } catch (err) {
    throw new UnipcError(
      'the shm transport needs its native addon, which is not built: install a C++ toolchain ' +
        '(g++ or clang, make, python3; on Debian/Ubuntu: apt-get install build-essential python3), ' +
        'then run npm rebuild @unipc/transport-shm. Other transports (memory:, unix:, redis:) work without it.',
      ErrorCode.TransportMissing,
      { cause: err },
    )
  }
}

/** The addon, loaded once when this module is first imported. */
export const addon: NativeAddon = load()
