/**
 * `@unipc/transport-shm`: the `shm://<bus>` transport. Buses of one bus name on one host meet
 * through a broker process (started in the background on first use) and exchange every message
 * through lock-free rings in POSIX shared memory, woken by FIFO doorbells polled by libuv.
 *
 * URL: `shm://<bus>[?dir=<path>&ring=<bytes>&idle=<ms>&maxPayload=<bytes>&tuneMalloc=0&spin=<µs>]`.
 * @packageDocumentation
 */
import { InvalidArgumentError, type TransportFactoryOptions } from '@unipc/core/spi'
import { assertBusName } from './paths.js'
import { ShmTransport } from './transport.js'

export { type ShmOptions, type ShmSpinStats, ShmTransport } from './transport.js'

const DEFAULT_RING = 1024 * 1024
const DEFAULT_IDLE_MS = 5000
const MAX_PAYLOAD = 64 * 1024 * 1024
/** Busy-poll budget after activity, in µs (see the README, "Latency and CPU"). */
export const DEFAULT_SPIN_US = 50
const MAX_SPIN_US = 1_000_000

function intOption(url: URL, options: TransportFactoryOptions, key: string, fallback: number): number {
  const raw = url.searchParams.get(key) ?? options[key]
  if (raw === undefined || raw === null) return fallback
  const n = Number(raw)
  if (!Number.isSafeInteger(n) || n < 0)
    throw new InvalidArgumentError(`shm option '${key}' must be a non-negative integer, got ${String(raw)}`)
  return n
}

/** A yes/no option: `1`/`true`/`yes` or `0`/`false`/`no` (or a boolean in `options`). */
function boolOption(url: URL, options: TransportFactoryOptions, key: string, fallback: boolean): boolean {
  const raw = url.searchParams.get(key) ?? options[key]
  if (raw === undefined || raw === null || raw === '') return fallback
  if (raw === true || raw === 'true' || raw === '1' || raw === 'yes') return true
  if (raw === false || raw === 'false' || raw === '0' || raw === 'no') return false
  throw new InvalidArgumentError(`shm option '${key}' must be 0 or 1 (true or false), got ${String(raw)}`)
}

/**
 * The spin budget when neither the URL nor the options give one: `UNIPC_SHM_SPIN` (µs) from the
 * environment, so a deployment (or a benchmark) can tune every bus of a process without code,
 * else {@link DEFAULT_SPIN_US}.
 */
function defaultSpinUs(): number {
  const raw = process.env.UNIPC_SHM_SPIN
  if (raw === undefined || raw === '') return DEFAULT_SPIN_US
  const n = Number(raw)
  if (!Number.isSafeInteger(n) || n < 0)
    throw new InvalidArgumentError(`UNIPC_SHM_SPIN must be a non-negative integer (µs), got ${raw}`)
  return n
}

/**
 * Builds the transport for `shm://<bus>`. Options (URL query or `options`): `dir` (directory of
 * the bus's socket and doorbells), `ring` (bytes per ring direction, a power of two; default
 * 1 MiB), `idle` (ms an auto-started broker lingers without buses; default 5000), `maxPayload`
 * (default and maximum 64 MiB), `tuneMalloc` (default 1; 0 keeps glibc's allocator settings of
 * this process and of the broker it starts, see the README), `spin` (µs this process keeps polling
 * its rings after a message before it sleeps; default `UNIPC_SHM_SPIN` from the environment or
 * {@link DEFAULT_SPIN_US}, 0 = never, at most 1 000 000; see the README).
 * @param url - `shm://<bus>`
 * @param options - the same keys as the query, from `connect(url, { transport: … })`
 */
export function createTransport(url: URL, options: TransportFactoryOptions = {}): ShmTransport {
  if (url.protocol !== 'shm:') throw new InvalidArgumentError(`not an shm URL: ${url.href}`)
  const bus = url.hostname || url.pathname.replace(/^\/+/, '')
  assertBusName(bus)
  const ringSize = intOption(url, options, 'ring', DEFAULT_RING)
  if (ringSize < 4096 || ringSize > 1 << 30 || (ringSize & (ringSize - 1)) !== 0)
    throw new InvalidArgumentError(`shm ring size must be a power of two from 4096 to 2^30, got ${ringSize}`)
  const maxPayload = Math.min(intOption(url, options, 'maxPayload', MAX_PAYLOAD), MAX_PAYLOAD)
  const given = intOption(url, options, 'spin', -1)
  const spinUs = given >= 0 ? given : defaultSpinUs()
  if (spinUs > MAX_SPIN_US)
    throw new InvalidArgumentError(`shm option 'spin' must be at most ${MAX_SPIN_US} µs, got ${spinUs}`)
  const dir = url.searchParams.get('dir') ?? (typeof options.dir === 'string' ? options.dir : undefined)
  return new ShmTransport({
    bus,
    dir: dir || undefined,
    ringSize,
    idleMs: intOption(url, options, 'idle', DEFAULT_IDLE_MS),
    maxPayload: Math.max(1, maxPayload),
    tuneMalloc: boolOption(url, options, 'tuneMalloc', true),
    spinUs,
  })
}
