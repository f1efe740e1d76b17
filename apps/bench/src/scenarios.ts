/**
 * What each scenario measures: its two roles (the first is started first), which role the harness
 * drives, payload size, concurrency, the unit of its headline figure and whether lower is better.
 * @module
 */
import type { Roles, ScenarioName } from './types.js'

/** A role name of {@link Roles}. */
export type RoleName = keyof Roles<unknown>

/** One scenario's shape. */
export interface ScenarioDef {
  readonly name: ScenarioName
  /** Column title in the table. */
  readonly title: string
  /** Unit of the headline figure. */
  readonly unit: string
  /** True when a smaller headline figure is better (latency). */
  readonly lowerIsBetter: boolean
  /** The role started first (servers, workers, publishers that listen) and how many processes play it. */
  readonly first: { readonly role: RoleName; readonly count: number }
  /** The role started second, and how many processes play it. */
  readonly second: { readonly role: RoleName; readonly count: number }
  /** Which of the two roles the harness drives and measures in. */
  readonly driver: RoleName
  /** Bytes per request or event. */
  readonly payloadSize: number
  /** Requests or commands kept in flight by the driver. */
  readonly inFlight: number
  /** What the headline figure is, for the report. */
  readonly describe: string
}

const KiB = 1024
const MiB = 1024 * KiB

/** Every scenario, in report order. */
export const scenarioDefs: Record<ScenarioName, ScenarioDef> = {
  rtt: {
    name: 'rtt',
    title: 'rtt p50',
    unit: 'µs',
    lowerIsBetter: true,
    first: { role: 'echoServer', count: 1 },
    second: { role: 'caller', count: 1 },
    driver: 'caller',
    payloadSize: 64,
    inFlight: 1,
    describe: 'sequential request/response, 64 B each way: p50 (and p99) round trip in µs',
  },
  throughput: {
    name: 'throughput',
    title: 'req/s ×64',
    unit: 'req/s',
    lowerIsBetter: false,
    first: { role: 'echoServer', count: 1 },
    second: { role: 'caller', count: 1 },
    driver: 'caller',
    payloadSize: 64,
    inFlight: 64,
    describe: 'requests/s with 64 in flight, 64 B each way',
  },
  fanout: {
    name: 'fanout',
    title: 'fan-out ev/s',
    unit: 'events/s',
    lowerIsBetter: false,
    first: { role: 'publisher', count: 1 },
    second: { role: 'subscriber', count: 4 },
    driver: 'publisher',
    payloadSize: KiB,
    inFlight: 4096,
    describe:
      '1 publisher, 4 subscriber processes, 1 KiB events, at most 4096 events ahead of the slowest subscriber: events/s per subscriber (mean of the 4), and events lost',
  },
  stream: {
    name: 'stream',
    title: 'stream ev/s',
    unit: 'events/s',
    lowerIsBetter: false,
    first: { role: 'streamServer', count: 1 },
    second: { role: 'streamClient', count: 1 },
    driver: 'streamClient',
    payloadSize: 64,
    inFlight: 0,
    describe:
      '1 publisher -> 1 subscriber process, 64 B events as fast as the system’s flow control allows: events/s delivered to the handler',
  },
  large: {
    name: 'large',
    title: '1 MiB MB/s',
    unit: 'MB/s',
    lowerIsBetter: false,
    first: { role: 'echoServer', count: 1 },
    second: { role: 'caller', count: 1 },
    driver: 'caller',
    payloadSize: MiB,
    inFlight: 1,
    describe:
      'sequential 1 MiB request and 1 MiB reply: MB/s counting both directions (10^6 B), and p50 in µs',
  },
  queue: {
    name: 'queue',
    title: 'queue cmd/s',
    unit: 'commands/s',
    lowerIsBetter: false,
    first: { role: 'worker', count: 4 },
    second: { role: 'sender', count: 1 },
    driver: 'sender',
    payloadSize: 64,
    inFlight: 64,
    describe: '4 worker processes on one command queue, 64 commands in flight, each acknowledged: commands/s',
  },
}
