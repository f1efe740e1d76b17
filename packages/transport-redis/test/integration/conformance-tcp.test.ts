/** The conformance suite over Redis on TCP. */
import { redisConformance } from '../conformance-run.js'

redisConformance('tcp')
