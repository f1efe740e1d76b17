/** The conformance suite over Redis on a unix socket (TCP: conformance-tcp.test.ts, run in parallel). */
import { redisConformance } from '../conformance-run.js'

redisConformance('unix')
